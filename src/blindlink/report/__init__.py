"""The coordinator's report: one self-contained HTML page from a results folder.

``build.build_report`` assembles it from ``stats.json`` (and ``public.json``, if present);
``figures`` draws the figures with matplotlib (the ``report`` extra, imported only when a
figure is drawn); ``html`` escapes and lays out. ``pipeline.report.write_report`` reads the
folder and writes ``report.html`` atomically.
"""

from __future__ import annotations

from blindlink.report.build import FIGURE_IDS, SECTION_IDS, build_report

__all__ = ["FIGURE_IDS", "SECTION_IDS", "build_report"]
