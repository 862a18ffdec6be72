"""linkage layer."""
