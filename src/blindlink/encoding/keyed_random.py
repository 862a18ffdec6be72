"""Keyed pseudo-random choices shared by all agencies: the same key gives the same choices.

Record-level sampling (RBF) and permutations must be identical at every agency and unknown
to the coordinator, so they come from a key derived from the shared secret. The stream is
AES-256 in CTR mode over zero bytes (pycryptodome), read as little-endian 64-bit integers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from Crypto.Cipher import AES


def keyed_words(key: bytes, count: int) -> npt.NDArray[np.uint64]:
    """``count`` pseudo-random 64-bit words from ``key`` (32 bytes)."""
    cipher = AES.new(key, AES.MODE_CTR, nonce=b"", initial_value=0)
    stream = cipher.encrypt(bytes(8 * count))
    return np.frombuffer(stream, dtype="<u8").astype(np.uint64)


def keyed_integers(key: bytes, count: int, bound: int) -> npt.NDArray[np.int64]:
    """``count`` integers in ``[0, bound)``; the modulo bias is below ``bound / 2**64``."""
    return (keyed_words(key, count) % np.uint64(bound)).astype(np.int64)


def keyed_permutation(key: bytes, size: int) -> npt.NDArray[np.int64]:
    """A permutation of ``range(size)``: the order of ``size`` keyed 64-bit words.

    Ties among 64-bit words are vanishingly rare and broken by position (stable sort), so
    every implementation gets the same permutation.
    """
    return np.argsort(keyed_words(key, size), kind="stable").astype(np.int64)
