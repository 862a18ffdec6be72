"""Make the known-answer test vector for the sealed envelope, version 1.

Writes ``sealed-v1-small.sealed`` and ``sealed-v1-small.json`` beside this script: the
encoded-file vector ``blk-v1-small.blk`` sealed by ``agency-a`` for ``coordinator`` and
signed, with every input fixed -- both parties' keys, the ephemeral key and the nonce -- so
that the bytes are exactly reproducible. The bytes are built directly from
``protocols/exchange.md`` (header layout, key derivation, associated data, what is signed)
with the primitives alone -- pycryptodome for X25519, AES-GCM and Ed25519ph, the standard
library for HKDF and the fingerprints -- not with blindlink's ``io.sealed``, so the vector is a
second implementation of the format: blindlink's tests check that its writer reproduces the
bytes and its reader opens and verifies them, and another implementation can do the same.

**Every key here is a published test key.** They are derived from public labels, so anyone
can recompute them: never use them, or anything sealed to them, for real data.

Usage: ``python make_sealed_vector.py`` (write) or ``python make_sealed_vector.py --check``
(exit 1 if the files on disk differ from what this script makes).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import sys
from pathlib import Path
from typing import Any

from Crypto.Cipher import AES
from Crypto.Hash import SHA512
from Crypto.Protocol.DH import import_x25519_private_key, key_agreement
from Crypto.Signature import eddsa

HERE = Path(__file__).resolve().parent
CONTENT_PATH = HERE / "blk-v1-small.blk"
SEALED_PATH = HERE / "sealed-v1-small.sealed"
JSON_PATH = HERE / "sealed-v1-small.json"

#: Test-only key material: SHA-256 of a public label, so that it is plainly not a real key.
_LABEL = "blindlink sealed-v1 test vector, TEST ONLY, never use: "
SENDER = "agency-a"  # the agency named inside blk-v1-small.blk
RECIPIENT = "coordinator"
CONTENT_KIND = 1  # an encoded file (.blk)
FLAG_SIGNED = 0x0001
CONTEXT = b"blindlink sealed v1"  # HKDF info and Ed25519ph context
FINGERPRINT_LABEL = b"blindlink-identity-v1\x00"


def test_only(what: str) -> bytes:
    """32 bytes of published test key material for ``what``."""
    return hashlib.sha256((_LABEL + what).encode("ascii")).digest()


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869, with the standard library only."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def party(name: str) -> dict[str, Any]:
    """A test identity: private keys (raw), public keys (raw) and the fingerprint."""
    ed25519_seed = test_only(f"{name} ed25519 seed")
    x25519_private = test_only(f"{name} x25519 private key")
    ed25519_public = bytes(eddsa.import_private_key(ed25519_seed).public_key()
                           .export_key(format="raw"))  # fmt: skip
    x25519_public = bytes(import_x25519_private_key(x25519_private).public_key()
                          .export_key(format="raw"))  # fmt: skip
    encoded = name.encode("utf-8")
    fingerprint = hashlib.sha256(
        FINGERPRINT_LABEL + bytes([len(encoded)]) + encoded + ed25519_public + x25519_public
    ).digest()
    return {
        "name": name,
        "ed25519_seed": ed25519_seed,
        "x25519_private": x25519_private,
        "ed25519_public": ed25519_public,
        "x25519_public": x25519_public,
        "fingerprint": fingerprint,
    }


def build() -> tuple[bytes, dict[str, Any]]:
    """The sealed file's bytes and the JSON document that describes how they were made."""
    content = CONTENT_PATH.read_bytes()
    sender, recipient = party(SENDER), party(RECIPIENT)
    ephemeral_private = test_only("ephemeral x25519 private key")
    nonce = test_only("nonce")[:12]
    ephemeral = import_x25519_private_key(ephemeral_private)
    ephemeral_public = bytes(ephemeral.public_key().export_key(format="raw"))
    shared = key_agreement(
        eph_priv=ephemeral,
        static_pub=import_x25519_private_key(recipient["x25519_private"]).public_key(),
        kdf=lambda z: z,
    )
    salt = ephemeral_public + recipient["x25519_public"]
    aes_key = hkdf_sha256(shared, salt, CONTEXT, 32)
    header = struct.pack(
        "<8sHHH32s32s32s12sQ",
        b"BLSEALED",
        1,
        FLAG_SIGNED,
        CONTENT_KIND,
        sender["fingerprint"],
        recipient["fingerprint"],
        ephemeral_public,
        nonce,
        len(content),
    )
    cipher = AES.new(aes_key, AES.MODE_GCM, nonce=nonce, mac_len=16)
    cipher.update(header)
    ciphertext, tag = cipher.encrypt_and_digest(content)
    signed = header + ciphertext + tag
    signature = eddsa.new(
        eddsa.import_private_key(sender["ed25519_seed"]), "rfc8032", context=CONTEXT
    ).sign(SHA512.new(signed))
    data = signed + signature

    def keys(who: dict[str, Any]) -> dict[str, str]:
        return {key: value if isinstance(value, str) else value.hex() for key, value in who.items()}

    description = {
        "description": (
            "Known-answer vector for the blindlink sealed envelope, version 1 "
            "(protocols/exchange.md): blk-v1-small.blk sealed by agency-a for coordinator and "
            "signed. Sealing that content with these keys, this ephemeral key and this nonce "
            "must give exactly the bytes of sealed-v1-small.sealed; opening them with the "
            "recipient's key and the sender's public key must give exactly the content."
        ),
        "warning": (
            "TEST-ONLY KEYS: every private key here is published (SHA-256 of a public label). "
            "Never use them, or anything sealed to them, for real data. A fixed ephemeral key "
            "and nonce are for this vector only: reusing them gives content away."
        ),
        "file": SEALED_PATH.name,
        "file_size": len(data),
        "file_sha256": hashlib.sha256(data).hexdigest(),
        "content_file": CONTENT_PATH.name,
        "content_size": len(content),
        "content_sha256": hashlib.sha256(content).hexdigest(),
        "version": 1,
        "flags": FLAG_SIGNED,
        "content_kind": CONTENT_KIND,
        "test_only_keys": {"sender": keys(sender), "recipient": keys(recipient)},
        "test_only_ephemeral_private": ephemeral_private.hex(),
        "ephemeral_public": ephemeral_public.hex(),
        "nonce": nonce.hex(),
        "x25519_shared_secret": bytes(shared).hex(),
        "hkdf_salt": salt.hex(),
        "hkdf_info": CONTEXT.decode("ascii"),
        "aes_key": aes_key.hex(),
        "header_hex": header.hex(),
        "sections": {
            "header_offset": 0,
            "ciphertext_offset": len(header),
            "ciphertext_bytes": len(ciphertext),
            "tag_offset": len(header) + len(ciphertext),
            "signature_offset": len(signed),
        },
        "tag_hex": tag.hex(),
        "signed_sha512": SHA512.new(signed).hexdigest(),
        "signature_hex": signature.hex(),
    }
    return data, description


def json_text(description: dict[str, Any]) -> str:
    """The JSON file's exact text (stable, so --check can compare it)."""
    return json.dumps(description, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    data, description = build()
    text = json_text(description)
    if argv[1:] == ["--check"]:
        same = (
            SEALED_PATH.is_file()
            and SEALED_PATH.read_bytes() == data
            and JSON_PATH.is_file()
            and JSON_PATH.read_text(encoding="utf-8") == text
        )
        sys.stderr.write("test vector is up to date\n" if same else "test vector is stale\n")
        return 0 if same else 1
    if argv[1:]:
        sys.stderr.write(__doc__ or "")
        return 2
    SEALED_PATH.write_bytes(data)
    JSON_PATH.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
