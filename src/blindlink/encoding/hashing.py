"""Keyed hashing of tokens to Bloom-filter bit positions.

Two schemes, both keyed with the key of the token's key group:

- ``hmac-sha256-random`` (default): block ``i`` is ``HMAC(key, uint32_be(i) || utf8(token))``
  and yields eight big-endian 32-bit words; positions are those words modulo the filter
  length, taken in order until ``hashes`` positions are drawn. Positions of different tokens
  are independent, which removes the structure that pattern-mining attacks exploit.
- ``hmac-sha256-double``: one ``HMAC(key, utf8(token))``; its first two big-endian 64-bit
  words give ``h1`` and ``h2``, positions are ``(h1 + i * (1 + h2 mod (m - 1))) mod m``
  (Kirsch-Mitzenmacher double hashing, as in Schnell et al. 2009; the step is never 0). One
  HMAC per token whatever ``hashes`` is, but every token's positions form an arithmetic
  progression, which attacks on Bloom filters have used.

HMAC runs in C (hashlib); positions are cached per token so no token is hashed twice.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

_UNPACK_BLOCK = struct.Struct(">8I").unpack
_UNPACK_PAIR = struct.Struct(">QQ").unpack_from
#: Cached tokens before the cache is emptied: identifiers make a token per record.
_TOKEN_CACHE_LIMIT = 1 << 20
HASHING_SCHEMES = ("hmac-sha256-random", "hmac-sha256-double")


class TokenHasher:
    """Maps the tokens of one key group to bit positions in a filter of ``filter_bits`` bits."""

    def __init__(self, key: bytes, filter_bits: int, scheme: str = "hmac-sha256-random") -> None:
        if scheme not in HASHING_SCHEMES:
            raise ValueError(f"unknown hashing scheme {scheme!r}")
        self._key = key
        self._filter_bits = filter_bits
        self._double = scheme == "hmac-sha256-double"
        self._cache: dict[tuple[str, int], tuple[int, ...]] = {}

    def positions(self, token: str, hashes: int) -> tuple[int, ...]:
        """The ``hashes`` bit positions of ``token`` (repeats allowed, as in any Bloom filter)."""
        cached = self._cache.get((token, hashes))
        if cached is not None:
            return cached
        data = token.encode("utf-8")
        result = (
            self._double_positions(data, hashes) if self._double else self._random(data, hashes)
        )
        if len(self._cache) >= _TOKEN_CACHE_LIMIT:
            self._cache.clear()
        self._cache[(token, hashes)] = result
        return result

    def _random(self, data: bytes, hashes: int) -> tuple[int, ...]:
        found: list[int] = []
        block = 0
        while len(found) < hashes:
            digest = hmac.digest(self._key, block.to_bytes(4, "big") + data, hashlib.sha256)
            found.extend(w % self._filter_bits for w in _UNPACK_BLOCK(digest))
            block += 1
        return tuple(found[:hashes])

    def _double_positions(self, data: bytes, hashes: int) -> tuple[int, ...]:
        first, second = _UNPACK_PAIR(hmac.digest(self._key, data, hashlib.sha256))
        size = self._filter_bits
        step = 1 + second % (size - 1)
        return tuple((first + i * step) % size for i in range(hashes))
