"""Killing encode or link at any moment loses nothing: the previous result stays whole and a
rerun succeeds (and clears the killed run's hidden temporaries)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blindlink.synth import generate, write_dataset

BLINDLINK = [sys.executable, "-c", "from blindlink.cli import main; main()"]


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("interrupted")
    paths = write_dataset(generate(n_persons=12000, seed=5), folder)
    subprocess.run([*BLINDLINK, "keygen", "--out", str(folder / "s.key")], check=True)
    for agency, path in paths.items():
        if agency == "truth":
            continue
        subprocess.run(
            [*BLINDLINK, "encode", str(path), "--secret-file", str(folder / "s.key"),
             "--agency", agency, "--out", str(folder / f"{agency}.blk")],
            check=True,
            capture_output=True,
        )  # fmt: skip
    return folder


def _kill_after(command: list[str], seconds: float) -> None:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()


def _visible(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")}


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0])
def test_killed_link_keeps_the_previous_result(encoded: Path, tmp_path: Path, delay: float) -> None:
    blks = sorted(str(p) for p in encoded.glob("*.blk"))
    out = tmp_path / "results"
    subprocess.run([*BLINDLINK, "link", *blks, "--out", str(out), "--seed", "1"], check=True,
                   capture_output=True)  # fmt: skip
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    _kill_after([*BLINDLINK, "link", *blks, "--out", str(out), "--seed", "2"], delay)
    after = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert set(after) == set(before), "the results folder is whole: old or new, never a mix"
    assert after["stats.json"] == before["stats.json"]  # same inputs: same counts either way
    for name, content in before.items():  # every file complete (entity ids may be the new ones)
        assert after[name].count(b"\n") == content.count(b"\n")
    done = subprocess.run([*BLINDLINK, "link", *blks, "--out", str(out)], capture_output=True)
    assert done.returncode == 0, done.stderr
    assert _visible(tmp_path) == {"results"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".results.")]


@pytest.mark.parametrize("delay", [0.2, 0.8])
def test_killed_encode_keeps_the_previous_file(encoded: Path, tmp_path: Path, delay: float) -> None:
    source = encoded / "hotline.csv"
    target = tmp_path / "hotline.blk"
    shutil.copy(encoded / "hotline.blk", target)
    before = target.read_bytes()
    command = [*BLINDLINK, "encode", str(source), "--secret-file", str(encoded / "s.key"),
               "--agency", "hotline", "--out", str(target)]  # fmt: skip
    _kill_after(command, delay)
    from blindlink.io.blk import read_blk

    read_blk(target)  # whole and valid, whichever run wrote it
    assert len(target.read_bytes()) == len(before)
    done = subprocess.run(command, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["hotline.blk"]
