"""Killing encode or link at any moment loses nothing: the previous result stays byte for byte,
no temporary is left that a rerun trips over, and a rerun succeeds (clearing the killed run's
hidden temporaries).

Two kinds of kill: deterministic ones, where a forked copy of this process runs the command
and SIGKILLs itself just before or after each step that touches the output (each write, the
rename or swap into place, the clean-up), and real ones, where ``blindlink`` runs as a
command and is SIGKILLed after a random delay or as soon as its temporary output appears.
Reruns use the same inputs and seed, so old and new outputs are byte-identical: whichever of
them is there after a kill, it must equal the previous one exactly.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import blindlink.io.atomic as atomic
from blindlink.cli import app
from blindlink.io.secret_file import read_secret_file, write_secret_file
from blindlink.pipeline.encode import encode_file
from blindlink.pipeline.link import link_files
from blindlink.synth import generate, write_dataset

BLINDLINK = [sys.executable, "-c", "from blindlink.cli import main; main()"]
Patch = Callable[[Callable[[], None]], None]


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("interrupted")
    paths = write_dataset(generate(n_persons=600, seed=5), folder)
    write_secret_file(folder / "s.key")
    secret = read_secret_file(folder / "s.key")
    for agency, path in paths.items():
        if agency != "truth":
            encode_file(path, folder / f"{agency}.blk", secret=secret, agency=agency)
    return folder


def blks(kit: Path) -> list[Path]:
    return sorted(kit.glob("*.blk"))


def tree(root: Path) -> dict[str, bytes]:
    if root.is_file():
        return {"": root.read_bytes()}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def link_command(kit: Path, out: Path) -> list[str]:
    return ["link", *map(str, blks(kit)), "--out", str(out), "--seed", "3", "--quiet"]


def encode_command(kit: Path, out: Path) -> list[str]:
    return ["encode", str(kit / "hotline.csv"), "--secret-file", str(kit / "s.key"),
            "--agency", "hotline", "--out", str(out)]  # fmt: skip


def rerun_succeeds(args: list[str], target: Path, before: dict[str, bytes]) -> None:
    """The command runs again, writes what it wrote before, and clears every leftover."""
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert tree(target) == before
    assert hidden(target.parent) == []


# ----------------------------------------------------------------- deterministic kill points


def killed_in_child(action: Callable[[], Any], patch: Patch) -> bool:
    """Run ``action`` in a forked child that SIGKILLs itself where ``patch`` says.

    True if the child was killed, False if it finished first (the kill point was never
    reached); a child that fails otherwise fails the test.
    """
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            patch(lambda: os.kill(os.getpid(), signal.SIGKILL))
            action()
        except BaseException:
            code = 1
        os._exit(code)
    deadline = time.monotonic() + 120
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the child hung")
        time.sleep(0.005)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return True
    assert os.WEXITSTATUS(status) == 0, "the child failed before its kill point"
    return False


def at_call(owner: Any, name: str, nth: int, when: str, *, no_exchange: bool = False) -> Patch:
    """Kill just ``before`` or ``after`` the ``nth`` call of ``owner.name``."""

    def patch(kill: Callable[[], None]) -> None:
        original = getattr(owner, name)
        calls = 0

        def hooked(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == nth and when == "before":
                kill()
            result = original(*args, **kwargs)
            if calls == nth and when == "after":
                kill()
            return result

        setattr(owner, name, hooked)
        if no_exchange:  # a system without renameat2: the swap takes two renames
            atomic._exchange = lambda first, second: False  # type: ignore[assignment]

    return patch


def every_kill_point(
    action: Callable[[], Any], target: Path, before: dict[str, bytes], points: list[tuple]
) -> int:
    """Kill ``action`` at each call of each point in turn; the target must stay as before."""
    kills = 0
    for owner, name, when, *options in points:
        for nth in range(1, 50):
            patch = at_call(owner, name, nth, when, no_exchange=bool(options))
            if not killed_in_child(action, patch):
                break
            kills += 1
            after = tree(target) if target.exists() else None
            if options and after is None:
                # killed between the two renames of the fallback swap: the previous result
                # is aside under a hidden name, and the next write puts it back first
                atomic.remove_leftovers(target)
                after = tree(target)
            assert after == before, f"killed {when} call {nth} of {name}{options}"
    return kills


def test_link_killed_at_every_step_of_writing(kit: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    args = link_command(kit, out)
    assert CliRunner().invoke(app, args).exit_code == 0
    before = tree(out)
    assert {"clusters.csv", "links.csv", "stats.json"} <= set(before)

    def action() -> None:
        link_files(blks(kit), out, seed=3)

    kills = every_kill_point(action, out, before, [
        (Path, "write_bytes", "before"),  # the staging folder half written
        (Path, "write_text", "before"),
        (atomic, "_exchange", "before"),
        (atomic, "_exchange", "after"),  # swapped in, the old result not yet removed
        (shutil, "rmtree", "after"),
        (os, "fsync", "before"),
        (os, "replace", "before", "no exchange"),  # the two renames of the fallback swap
        (os, "replace", "after", "no exchange"),
    ])  # fmt: skip
    assert kills >= 10
    rerun_succeeds(args, out, before)


def test_link_killed_while_writing_a_first_result(kit: Path, tmp_path: Path) -> None:
    """With no previous result, a killed run leaves no folder, or a whole one."""
    out = tmp_path / "results"

    def action() -> None:
        link_files(blks(kit), out, seed=3)

    for nth in (1, 2, 3):
        assert killed_in_child(action, at_call(Path, "write_bytes", nth, "before"))
        assert not out.exists()
    assert killed_in_child(action, at_call(os, "replace", 1, "before"))
    assert not out.exists()
    rerun_succeeds(link_command(kit, out), out, tree(_fresh_result(kit, tmp_path)))


def _fresh_result(kit: Path, tmp_path: Path) -> Path:
    reference = tmp_path / "reference"
    link_files(blks(kit), reference, seed=3)
    return reference


class _KillingWriter:
    """The output file's writer, killing the process at its ``nth`` write."""

    def __init__(self, inner: Any, nth: int, kill: Callable[[], None], calls: list[int]) -> None:
        self._inner, self._nth, self._kill, self._calls = inner, nth, kill, calls

    def write(self, data: Any) -> int:
        self._calls[0] += 1
        if self._calls[0] == self._nth:
            self._inner.write(bytes(data)[: len(data) // 2])  # half of it reaches the disk
            self._inner.flush()
            self._kill()
        return int(self._inner.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> _KillingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()


def at_write(nth: int) -> Patch:
    def patch(kill: Callable[[], None]) -> None:
        original, calls = os.fdopen, [0]

        def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
            return _KillingWriter(original(fd, *args, **kwargs), nth, kill, calls)

        atomic.os.fdopen = fdopen  # type: ignore[assignment]

    return patch


def test_encode_killed_at_every_step_of_writing(kit: Path, tmp_path: Path) -> None:
    out = tmp_path / "hotline.blk"
    args = encode_command(kit, out)
    assert CliRunner().invoke(app, args).exit_code == 0
    before = tree(out)
    secret = read_secret_file(kit / "s.key")

    def action() -> None:
        encode_file(kit / "hotline.csv", out, secret=secret, agency="hotline")

    kills = every_kill_point(action, out, before, [
        (os, "fchmod", "after"),  # the temporary exists, empty
        (os, "fsync", "before"),
        (os, "replace", "before"),
        (os, "replace", "after"),
    ])  # fmt: skip
    for nth in range(1, 50):
        if not killed_in_child(action, at_write(nth)):
            break
        kills += 1
        assert tree(out) == before, f"killed in write {nth}"
    assert kills >= 6
    assert killed_in_child(action, at_write(2))
    assert hidden(tmp_path), "a half-written temporary, for the rerun to clear"
    rerun_succeeds(args, out, before)


# ----------------------------------------------------------------------------- real kills


def _kill_when(command: list[str], folder: Path, *, delay: float | None, settle: float) -> None:
    """Run ``blindlink`` and SIGKILL it after ``delay`` seconds, or (None) once a hidden
    temporary appears in ``folder``, ``settle`` seconds later; or let it finish."""
    process = subprocess.Popen(
        [*BLINDLINK, *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    marker = f".{Path(command[command.index('--out') + 1]).name}.{process.pid}."
    started = time.monotonic()
    while process.poll() is None:
        if delay is not None and time.monotonic() - started >= delay:
            break
        if delay is None and any(n.startswith(marker) for n in os.listdir(folder)):
            time.sleep(settle)
            break
        time.sleep(0.0005)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()


@pytest.mark.parametrize("command", ["link", "encode"])
def test_real_kills_keep_the_previous_output(kit: Path, tmp_path: Path, command: str) -> None:
    """``blindlink`` as a command, SIGKILLed at a random moment and as it writes."""
    out = tmp_path / ("results" if command == "link" else "hotline.blk")
    args = link_command(kit, out) if command == "link" else encode_command(kit, out)
    assert CliRunner().invoke(app, args).exit_code == 0
    before = tree(out)
    rng = random.Random(command)
    for delay, settle in ((rng.uniform(0.05, 1.5), 0.0), (None, rng.uniform(0.0, 0.005))):
        _kill_when(args, tmp_path, delay=delay, settle=settle)
        assert tree(out) == before, (delay, settle)
    rerun_succeeds(args, out, before)


# ------------------------------------------------------------------------ sealed encodes


def test_sealed_encode_killed_leaves_no_plaintext(kit: Path, tmp_path: Path) -> None:
    """A sealed encode (``--to``) killed at every step, and as a real command, leaves the
    previous sealed file or the new one -- both open to the same .blk -- and never a plain
    .blk or a record id anywhere beside it; the rerun clears the ciphertext temporaries.

    Sealing is streamed into the atomic temporary (``io.sealed.sealed_output``): the plain
    file's sections only ever lie in unnamed temporaries, which vanish with the process."""
    from blindlink.io.blk import MAGIC, read_blk
    from blindlink.io.identity import generate_identity, write_identity
    from blindlink.io.sealed import unseal_file

    keys = tmp_path / "keys"
    keys.mkdir()
    coordinator, hotline = generate_identity("coordinator"), generate_identity("hotline")
    write_identity(coordinator, keys)
    write_identity(hotline, keys)
    (tmp_path / "reference").mkdir()
    reference = tmp_path / "reference" / "hotline.blk"
    secret = read_secret_file(kit / "s.key")
    encode_file(kit / "hotline.csv", reference, secret=secret, agency="hotline")
    plain = reference.read_bytes()
    record_ids = [rid.encode() for rid in read_blk(reference).record_ids]
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "hotline.blk"
    args = [*encode_command(kit, out), "--to", str(keys / "coordinator.pub"),
            "--sign-key", str(keys / "hotline.key")]  # fmt: skip

    def opened() -> bytes:
        with open(tmp_path / "opened", "wb") as handle:
            unseal_file(out, handle, key=coordinator, signer=hotline.public)
        return (tmp_path / "opened").read_bytes()

    def no_plaintext_beside_it() -> None:
        for path in folder.rglob("*"):
            data = path.read_bytes() if path.is_file() else b""
            assert MAGIC not in data and ".plain." not in path.name, path.name
            assert not any(rid in data for rid in record_ids), path.name

    def action() -> None:
        encode_file(kit / "hotline.csv", out, secret=secret, agency="hotline",
                    recipient=coordinator.public, signer=hotline)  # fmt: skip

    assert CliRunner().invoke(app, args).exit_code == 0
    assert opened() == plain  # the sealed file holds exactly the plain encoding
    kills = 0
    points: list[tuple[Any, str, str]] = [
        (os, "fchmod", "after"),
        (os, "fsync", "before"),
        (os, "replace", "before"),
        (os, "replace", "after"),
    ]
    for owner, name, when in points:
        assert killed_in_child(action, at_call(owner, name, 1, when)), (name, when)
        kills += 1
        assert opened() == plain, (name, when)
        no_plaintext_beside_it()
    for nth in range(1, 50):  # each write: header, each block of ciphertext, tag, signature
        if not killed_in_child(action, at_write(nth)):
            break
        kills += 1
        assert opened() == plain, f"killed in write {nth}"
        no_plaintext_beside_it()
    assert kills >= 8
    assert killed_in_child(action, at_write(2))
    assert hidden(folder), "a half-written temporary (ciphertext), for the rerun to clear"
    rng = random.Random("sealed")
    for delay, settle in ((rng.uniform(0.05, 1.5), 0.0), (None, rng.uniform(0.0, 0.005))):
        _kill_when(args, folder, delay=delay, settle=settle)
        assert opened() == plain, (delay, settle)
        no_plaintext_beside_it()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert opened() == plain
    assert hidden(folder) == []
    no_plaintext_beside_it()
