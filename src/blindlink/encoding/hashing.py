"""Keyed hashing of tokens to Bloom-filter bit positions ("random hashing").

Each token's positions come from HMAC-SHA256 under the key of its key group: block ``i`` is
``HMAC(key, uint32_be(i) || utf8(token))`` and yields eight big-endian 32-bit words; positions
are those words modulo the filter length, taken in order until ``hashes`` positions are drawn.
Unlike double hashing, positions of different tokens are independent, which removes the
structure that pattern-mining attacks exploit. HMAC runs in C (hashlib); positions are cached
per token so no token is hashed twice.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

_UNPACK_BLOCK = struct.Struct(">8I").unpack


class TokenHasher:
    """Maps the tokens of one key group to bit positions in a filter of ``filter_bits`` bits."""

    def __init__(self, key: bytes, filter_bits: int) -> None:
        self._key = key
        self._filter_bits = filter_bits
        self._cache: dict[tuple[str, int], tuple[int, ...]] = {}

    def positions(self, token: str, hashes: int) -> tuple[int, ...]:
        """The ``hashes`` bit positions of ``token`` (repeats allowed, as in any Bloom filter)."""
        cached = self._cache.get((token, hashes))
        if cached is not None:
            return cached
        data = token.encode("utf-8")
        found: list[int] = []
        block = 0
        while len(found) < hashes:
            digest = hmac.digest(self._key, block.to_bytes(4, "big") + data, hashlib.sha256)
            found.extend(w % self._filter_bits for w in _UNPACK_BLOCK(digest))
            block += 1
        result = tuple(found[:hashes])
        self._cache[(token, hashes)] = result
        return result
