"""Helpers shared by the test modules (``from helpers import ...``: pytest puts ``tests/``
on ``sys.path``, as for ``test_dask_backend``'s import of ``test_backends``)."""

from __future__ import annotations

import sys

import pytest


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``blindlink ARGS`` through the real entry point: (exit code, stdout, stderr)."""
    from blindlink.cli import main

    old = sys.argv
    sys.argv = ["blindlink", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return code, captured.out, captured.err
