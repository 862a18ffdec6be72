from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "kernel.py"


BENCHMARKS = SCRIPT.parent


def run_script(name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def run_benchmark(*flags: str) -> str:
    return run_script("kernel.py", "--quick", *flags)


def test_kernel_benchmark_quick_run_prints_its_tables() -> None:
    out = run_benchmark("--no-peers")
    assert "| 0.8 | - |" in out
    assert "AND-popcount limit" in out
    assert "| total |" in out


def test_kernel_benchmark_against_anonlink_when_installed() -> None:
    pytest.importorskip("anonlink")
    out = run_benchmark()
    assert "| NO |" not in out and "same matching as anonlink: yes" in out


def test_quality_benchmark_smoke_run() -> None:
    out = run_script("quality.py", "--persons", "150", "--seeds", "1")
    assert "median F1" in out and "| kind | true pairs | precision | recall | F1 |" in out


def test_scripts_benchmark_smoke_run() -> None:
    out = run_script("scripts.py", "--persons", "300", "--seed", "1")
    assert "native vs romanised" in out


def test_encoder_benchmark_smoke_run() -> None:
    pytest.importorskip("clkhash")
    pytest.importorskip("recordlinkage")
    out = run_script("encoder.py", "--records", "2000", "--repeats", "1")
    assert "bit-identical CLKs: yes" in out


def test_hardening_benchmark_smoke_run() -> None:
    out = run_script("hardening.py", "--persons", "150", "--seed", "1")
    assert "| diffusion | t=3, l=1m |" in out and "| balancing |" in out and "| RBF |" in out


def test_transliteration_benchmark_smoke_run() -> None:
    pytest.importorskip("unidecode")
    out = run_script("transliteration.py", "--persons", "300", "--seeds", "1")
    assert "| all |" in out and "anyascii" in out


def test_scale_benchmark_smoke_run() -> None:
    out = run_script("scale.py")
    assert "link wall" in out and "pairwise" in out
