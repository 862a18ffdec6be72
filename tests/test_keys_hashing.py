from __future__ import annotations

import pytest

from blindlink.encoding.hashing import TokenHasher
from blindlink.encoding.keys import derive_key, key_check_value
from blindlink.errors import SecretError

SECRET = b"a" * 32


def test_derived_keys_differ_by_purpose_and_secret() -> None:
    k1 = derive_key(SECRET, "group:person_name")
    assert len(k1) == 32
    assert k1 == derive_key(SECRET, "group:person_name")
    assert k1 != derive_key(SECRET, "group:date_of_birth")
    assert k1 != derive_key(b"b" * 32, "group:person_name")


def test_short_secret_is_refused() -> None:
    with pytest.raises(SecretError, match="too short"):
        derive_key(b"short", "x")


def test_key_check_binds_secret_and_schema_and_hides_secret() -> None:
    kcv = key_check_value(SECRET, "f" * 64)
    assert len(kcv) == 32
    assert kcv == key_check_value(SECRET, "f" * 64)
    assert kcv != key_check_value(b"b" * 32, "f" * 64)
    assert kcv != key_check_value(SECRET, "e" * 64)
    assert SECRET.hex() not in kcv


def test_positions_are_deterministic_in_range_and_keyed() -> None:
    hasher = TokenHasher(derive_key(SECRET, "g"), 1024)
    positions = hasher.positions("g2:ab", 20)
    assert len(positions) == 20
    assert all(0 <= p < 1024 for p in positions)
    assert positions == TokenHasher(derive_key(SECRET, "g"), 1024).positions("g2:ab", 20)
    assert positions != TokenHasher(derive_key(SECRET, "h"), 1024).positions("g2:ab", 20)
    assert positions[:5] == hasher.positions("g2:ab", 5)


def test_positions_known_answer() -> None:
    """HMAC-SHA256(key, uint32_be(0) || token) as big-endian words mod the filter length."""
    import hashlib
    import hmac
    import struct

    key = bytes(range(32))
    digest = hmac.digest(key, b"\x00\x00\x00\x00" + b"x:F", hashlib.sha256)
    expected = tuple(w % 1000 for w in struct.unpack(">8I", digest))[:3]
    assert TokenHasher(key, 1000).positions("x:F", 3) == expected


def test_derive_key_is_rfc5869_hkdf_sha256_as_specified() -> None:
    """protocols/keys.md: salt 'blindlink linkage secret v1', info 'blindlink/v1/<purpose>'."""
    import hashlib
    import hmac

    prk = hmac.digest(b"blindlink linkage secret v1", SECRET, hashlib.sha256)
    okm = hmac.digest(prk, b"blindlink/v1/group:sex" + b"\x01", hashlib.sha256)
    assert derive_key(SECRET, "group:sex") == okm
