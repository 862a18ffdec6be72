"""The linkage secret on disk: written readable by its owner only, read with clear errors.

A secret file holds text: ``blindlink keygen`` writes 64 hex digits (256 random bits) and a
newline. The secret's bytes are the file's UTF-8 text without its trailing newline, so a
secret made by another tool (clkhash uses text secrets) can be used as it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from Crypto.Random import get_random_bytes

from blindlink.errors import OutputError, SecretError
from blindlink.io.atomic import atomic_file

SECRET_BITS = 256


def new_secret_text() -> str:
    """A fresh random secret as 64 lowercase hex digits."""
    return get_random_bytes(SECRET_BITS // 8).hex()


def write_secret_file(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write a new random secret to ``path`` with mode 0600; refuse to replace one unasked."""
    target = Path(path)
    if target.exists() and not overwrite:
        raise OutputError(
            f"{target}: already exists; a secret in use must not be replaced by accident "
            "(remove it first or pass --force)"
        )
    with atomic_file(target, mode=0o600) as handle:
        handle.write((new_secret_text() + "\n").encode("ascii"))
    return target


def read_secret_file(path: str | os.PathLike[str]) -> bytes:
    """The secret's bytes: the file's text without a trailing newline."""
    target = Path(path)
    try:
        raw = target.read_bytes()
    except OSError as exc:
        raise SecretError(f"{target}: cannot read the secret file ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SecretError(f"{target}: the secret file is not UTF-8 text") from exc
    text = text.removesuffix("\n").removesuffix("\r")
    if not text.strip():
        raise SecretError(f"{target}: the secret file is empty; make one with 'blindlink keygen'")
    return text.encode("utf-8")


def secret_file_is_private(path: str | os.PathLike[str]) -> bool:
    """Whether only the owner may read the file (no group or world permissions)."""
    return os.stat(path).st_mode & 0o077 == 0
