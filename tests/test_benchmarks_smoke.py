from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "kernel.py"


def run_benchmark(*flags: str) -> str:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", *flags],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert time.perf_counter() - start < 20
    return done.stdout


def test_kernel_benchmark_quick_run_prints_its_tables() -> None:
    out = run_benchmark("--no-peers")
    assert "| 0.8 | - |" in out
    assert "AND-popcount limit" in out
    assert "| total |" in out


def test_kernel_benchmark_against_anonlink_when_installed() -> None:
    pytest.importorskip("anonlink")
    out = run_benchmark()
    assert "| NO |" not in out and "same matching as anonlink: yes" in out
