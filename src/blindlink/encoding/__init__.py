"""encoding layer."""
