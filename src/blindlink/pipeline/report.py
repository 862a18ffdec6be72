"""Coordinator use case: a results folder in, ``report.html`` next to its statistics out."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from blindlink.errors import InputError
from blindlink.io.atomic import atomic_file

REPORT_NAME = "report.html"
#: Larger statistics files than this are refused (stats.json is a few hundred KB at most).
MAX_JSON_BYTES = 64 * 1024 * 1024


def _read_json(path: Path) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise InputError(f"{path}: {size:,} bytes, more than a statistics file can be")
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; is this a blindlink results folder?") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"{path}: not readable as JSON ({type(exc).__name__})") from None


def write_report(results: str | os.PathLike[str], *, method: str = "stepwise-aic") -> Path:
    """Write ``results/report.html`` from ``results/stats.json`` (and ``public.json`` if there).

    ``method`` is the population-estimation method (``stats.mse.METHODS``). Needs matplotlib
    (``pip install 'blindlink[report]'``).
    """
    from blindlink.report import build_report

    folder = Path(results)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder; give the results folder of 'blindlink link'")
    stats = _read_json(folder / "stats.json")
    if not isinstance(stats, dict):
        raise InputError(f"{folder / 'stats.json'}: expected a JSON object")
    public_path = folder / "public.json"
    public = _read_json(public_path) if public_path.exists() else None
    html = build_report(stats, public, method=method, source=str(folder / "stats.json"))
    target = folder / REPORT_NAME
    with atomic_file(target) as handle:
        handle.write(html.encode("utf-8"))
    return target
