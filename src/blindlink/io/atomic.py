"""Atomic writes: an output either appears whole or not at all.

Every file blindlink writes goes to a temporary sibling first and is renamed into place, so an
interrupted run, a full disk or an exception never leaves a half-written file behind and never
destroys the previous result. A run killed outright (SIGKILL, power loss) can leave its hidden
temporary behind; the next write of the same target removes it.

A folder is swapped in for the previous one in a single step where the system can (Linux:
``renameat2`` with ``RENAME_EXCHANGE``); elsewhere it takes two renames, and a run killed
between them leaves the previous folder under a hidden name, which the next write of the same
target puts back before anything else.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
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
    """Delete temporaries next to ``target`` left by writers that no longer run (killed runs).

    A previous result that a killed run had moved aside (``.old``) is put back first if
    ``target`` is missing: then the run was killed between the two renames of a swap.
    """
    directory = target.parent if str(target.parent) else Path(".")
    leftovers = []
    for candidate in directory.glob(f".{target.name}.*"):
        rest = candidate.name[len(target.name) + 2 :]
        pid_text, _, tail = rest.partition(".")
        if not pid_text.isdigit() or not tail.endswith((".tmp", ".old")):
            continue
        if _pid_alive(int(pid_text)):
            continue
        leftovers.append(candidate)
    for candidate in leftovers:
        if candidate.name.endswith(".old") and not os.path.lexists(target):
            os.replace(candidate, target)
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


RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """Linux's ``renameat2`` from the C library, or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function: Callable[..., int] = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # a C library older than glibc 2.28, or none found
        return None
    return function


def _exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths in one atomic step; False where the system cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE):
        code = ctypes.get_errno()
        if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            return False  # kernel or file system without the exchange
        raise OSError(code, os.strerror(code), str(second))
    return True


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
        if target.exists() and _exchange(staging, target):
            shutil.rmtree(staging, ignore_errors=True)  # it holds the previous result now
        elif target.exists():
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
