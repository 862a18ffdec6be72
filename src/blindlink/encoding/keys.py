"""Key material: per-purpose keys derived from the shared linkage secret, and the key check.

Only the agencies hold the secret. Each key group (e.g. person names) gets its own key through
HKDF-SHA256, so a token hashed for one group says nothing about the same token in another. The
key check value lets the coordinator confirm that all files were made with one secret and one
schema while learning nothing about the secret (it is an HMAC under a derived key).
"""

from __future__ import annotations

from Crypto.Hash import HMAC, SHA256
from Crypto.Protocol.KDF import HKDF, scrypt

from blindlink.errors import SecretError

HKDF_SALT = b"blindlink linkage secret v1"
MIN_SECRET_BYTES = 16
#: scrypt for passphrases: the salt is fixed so that every agency derives the same secret
#: from the same passphrase; N = 2^17 costs ~0.3 s and 128 MiB per derivation, per guess.
PASSPHRASE_SALT = b"blindlink passphrase v1"
PASSPHRASE_COST = 2**17
MIN_PASSPHRASE_CHARACTERS = 12


def check_secret(secret: bytes) -> bytes:
    """Refuse secrets too short to resist guessing; return the secret unchanged."""
    if len(secret) < MIN_SECRET_BYTES:
        raise SecretError(
            f"the linkage secret is too short ({len(secret)} bytes; at least "
            f"{MIN_SECRET_BYTES} needed): make one with 'blindlink keygen'"
        )
    return secret


def secret_from_passphrase(passphrase: bytes) -> bytes:
    """A linkage secret (64 hex digits, as keygen writes) derived from a passphrase with scrypt."""
    if len(passphrase.decode("utf-8", errors="replace")) < MIN_PASSPHRASE_CHARACTERS:
        raise SecretError(
            f"the passphrase is too short (at least {MIN_PASSPHRASE_CHARACTERS} characters); "
            "a random secret from 'blindlink keygen' is stronger"
        )
    key = scrypt(passphrase, PASSPHRASE_SALT, 32, N=PASSPHRASE_COST, r=8, p=1)
    if not isinstance(key, bytes):
        raise TypeError("scrypt returned several keys")
    return key.hex().encode("ascii")


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A 256-bit key for ``purpose`` (e.g. ``"group:person_name"``), derived with HKDF-SHA256."""
    key = HKDF(
        check_secret(secret),
        32,
        salt=HKDF_SALT,
        hashmod=SHA256,
        context=b"blindlink/v1/" + purpose.encode("utf-8"),
    )
    if not isinstance(key, bytes):  # HKDF returns a tuple only when asked for several keys
        raise TypeError("HKDF returned several keys")
    return key


def key_check_value(secret: bytes, schema_fingerprint: str) -> str:
    """128-bit hex tag binding the secret to the schema; equal tags mean equal secret and schema."""
    mac = HMAC.new(derive_key(secret, "key-check"), digestmod=SHA256)
    mac.update(schema_fingerprint.encode("ascii"))
    return mac.hexdigest()[:32]
