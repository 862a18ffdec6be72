"""HTML building blocks of the report: escaping, tables, figures, the page.

Every piece of text goes through ``text`` (``html.escape`` with quotes), numbers through
``number``; markup is only ever assembled from those and from literals here. The page is
self-contained: CSS inline, figures as ``data:`` PNGs, no script, and a Content-Security-Policy
that forbids the browser to fetch anything at all.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Nesting deeper than this in public.json is shown as JSON text, not as nested sections.
MAX_DEPTH = 6

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
       margin: 0 auto; max-width: 980px; padding: 1.5rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; border-bottom: 2px solid #3465a4; padding-bottom: 0.2rem;
     margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
h4, h5, h6 { font-size: 0.95rem; }
.note { background: #fcf3e3; border-left: 4px solid #ce5c00; padding: 0.6rem 0.9rem; }
.ok { background: #eef5e8; border-left: 4px solid #4e9a06; padding: 0.6rem 0.9rem; }
.muted { color: #666; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #eef2f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.chosen td { font-weight: bold; background: #fdf6ec; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.88rem; color: #555; }
.big { font-size: 1.35rem; font-weight: bold; }
"""

#: Nothing may be loaded: images only from data: URIs, styles only inline.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def text(value: object) -> str:
    """Any value as escaped HTML text."""
    return html.escape(str(value), quote=True)


def number(value: object, digits: int = 0) -> str:
    """A number with thousands separators (escaped text for anything else)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "unbounded" if value > 0 else text(value)
    if isinstance(value, int) and digits == 0:
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def paragraph(content: str, css_class: str | None = None) -> str:
    """``content`` must already be HTML (built from ``text``/``number``)."""
    attr = f' class="{text(css_class)}"' if css_class else ""
    return f"<p{attr}>{content}</p>"


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Sequence[bool] | None = None,
    row_classes: Sequence[str | None] | None = None,
    table_id: str | None = None,
) -> str:
    """A table from already-escaped cells (``header`` is escaped here)."""
    numeric = numeric or [False] * len(header)
    head = "".join(f"<th>{text(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        css = row_classes[i] if row_classes and i < len(row_classes) else None
        cells = "".join(
            f'<td class="num">{cell}</td>' if numeric[j] else f"<td>{cell}</td>"
            for j, cell in enumerate(row)
        )
        body.append(f'<tr class="{text(css)}">{cells}</tr>' if css else f"<tr>{cells}</tr>")
    attr = f' id="{text(table_id)}"' if table_id else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure(figure_id: str, png: bytes, alt: str, caption: str) -> str:
    """A figure with its PNG embedded as a data: URI; ``caption`` must already be HTML."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure id="{text(figure_id)}-figure"><img id="{text(figure_id)}" '
        f'src="data:image/png;base64,{data}" alt="{text(alt)}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def section(section_id: str, title: str, body: str) -> str:
    """A titled section; ``body`` must already be HTML."""
    return f'<section id="{text(section_id)}"><h2>{text(title)}</h2>{body}</section>'


def page(title: str, subtitle: str, sections: Sequence[str]) -> str:
    """The whole document."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{text(title)}</title><style>{CSS}</style></head>\n"
        f"<body><header><h1>{text(title)}</h1>"
        f'<p class="muted">{subtitle}</p></header>\n' + "\n".join(sections) + "\n</body></html>\n"
    )


# ------------------------------------------------------------------------------------------
# Generic rendering of JSON tables (public.json: whatever shape it has)
# ------------------------------------------------------------------------------------------


def _cell(value: Any) -> tuple[str, bool]:
    """(HTML, is numeric) for one table cell."""
    if value is None:
        return '<span class="muted">&ndash;</span>', False
    if isinstance(value, bool):
        return text("yes" if value else "no"), False
    if isinstance(value, int | float):
        return number(value, 0 if isinstance(value, int) else 2), True
    if isinstance(value, str):
        return text(value), False
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        if any(len(str(v)) > 40 for v in value):  # sentences, one per line
            return "<br>".join(text(v) for v in value), False
        return text(" + ".join(str(v) for v in value)), False  # names: "A + B"
    return f"<code>{text(json.dumps(value, ensure_ascii=False))}</code>", False


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _is_flat(value: Mapping[str, Any]) -> bool:
    return all(not isinstance(v, Mapping) and not _is_records(v) for v in value.values())


def _records_table(rows: Sequence[Mapping[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(str(k) for k in row if str(k) not in columns)
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    numeric = [
        all(
            cell[j][1] or row.get(columns[j]) is None for cell, row in zip(cells, rows, strict=True)
        )
        for j in range(len(columns))
    ]
    return table(columns, [[c[0] for c in row] for row in cells], numeric=numeric)


def _mapping_table(value: Mapping[str, Any]) -> str:
    cells = [(str(k), *_cell(v)) for k, v in value.items()]
    return table(["", "value"], [[text(k), html_] for k, html_, _ in cells], numeric=[False, False])


def render_json(value: Any, *, depth: int = 0, title: str | None = None) -> str:
    """Any JSON value as headings and tables: a list of objects is a table (one column per
    key), an object of plain values a two-column table, a deeper object one sub-section per
    key. Every key and value is escaped; ``None`` shows as a dash."""
    level = min(3 + depth, 6)
    heading = f"<h{level}>{text(title)}</h{level}>" if title is not None else ""
    if depth > MAX_DEPTH:
        return heading + f"<pre>{text(json.dumps(value, ensure_ascii=False, indent=1))}</pre>"
    if _is_records(value):
        return heading + _records_table(value)
    if isinstance(value, Mapping):
        if not value:
            return heading + paragraph("(empty)", "muted")
        if _is_flat(value):
            return heading + _mapping_table(value)
        flat = {k: v for k, v in value.items() if not isinstance(v, Mapping) and not _is_records(v)}
        parts = [heading]
        if flat:
            parts.append(_mapping_table(flat))
        for key, sub in value.items():
            if key not in flat:
                parts.append(render_json(sub, depth=depth + 1, title=str(key)))
        return "".join(parts)
    if isinstance(value, list):
        if not value:
            return heading + paragraph("(none)", "muted")
        return heading + table(["value"], [[_cell(v)[0]] for v in value])
    return heading + paragraph(_cell(value)[0])
