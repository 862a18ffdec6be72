"""Atomic writes: an output either appears whole or not at all.

Every file blindlink writes goes to a temporary sibling first and is renamed into place, so an
interrupted run, a full disk or an exception never leaves a half-written file behind and never
destroys the previous result. A run killed outright (SIGKILL, power loss) can leave its hidden
temporary behind; the next write of the same target removes it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from blindlink.errors import OutputError


def _prefix(target: Path) -> str:
    """Temporary names carry the writer's process id, so leftovers of a killed run are known."""
    return f".{target.name}.{os.getpid()}."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_leftovers(target: Path) -> None:
    """Delete temporaries next to ``target`` left by writers that no longer run (killed runs)."""
    directory = target.parent if str(target.parent) else Path(".")
    for candidate in directory.glob(f".{target.name}.*"):
        rest = candidate.name[len(target.name) + 2 :]
        pid_text, _, tail = rest.partition(".")
        if not pid_text.isdigit() or not tail.endswith((".tmp", ".old")):
            continue
        if _pid_alive(int(pid_text)):
            continue
        if candidate.is_dir():
            shutil.rmtree(candidate, ignore_errors=True)
        else:
            candidate.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_file(path: str | os.PathLike[str], *, mode: int = 0o644) -> Iterator[IO[bytes]]:
    """Open a temporary file beside ``path`` for binary writing; rename it over ``path`` on success.

    ``mode`` sets the final file permissions (0o600 for secrets).
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError(f"{target}: folder {directory} does not exist")
    try:
        remove_leftovers(target)
        fd, tmp_name = tempfile.mkstemp(prefix=_prefix(target), suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write in {directory} ({exc.strerror})") from exc
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{target}: could not be written ({exc.strerror})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(directory)


@contextmanager
def atomic_directory(
    path: str | os.PathLike[str], *, replaceable: frozenset[str]
) -> Iterator[Path]:
    """Build a folder in a temporary sibling and swap it in for ``path`` on success.

    An existing ``path`` is replaced only if it holds nothing but names in ``replaceable``
    (a previous result of the same command); anything else makes this refuse, so that
    ``--out .`` can never wipe a user's folder.
    """
    target = Path(path)
    if target.exists():
        if not target.is_dir():
            raise OutputError(f"{target}: exists and is not a folder")
        foreign = sorted(p.name for p in target.iterdir() if p.name not in replaceable)
        if foreign:
            raise OutputError(
                f"{target}: folder is not empty and not a previous blindlink result "
                f"(found {foreign[0]!r}); choose another --out"
            )
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{target}: folder {parent} does not exist")
    try:
        remove_leftovers(target)
        staging = Path(tempfile.mkdtemp(prefix=_prefix(target), suffix=".tmp", dir=parent))
    except OSError as exc:
        raise OutputError(f"{target}: cannot write in {parent} ({exc.strerror})") from exc
    try:
        yield staging
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=_prefix(target), suffix=".old", dir=parent))
            retired.rmdir()
            os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"{target}: could not be written ({exc.strerror})") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _fsync_directory(parent)
