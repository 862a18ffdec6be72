"""The sealed envelope's known-answer vector (protocols/test-vectors/sealed-v1-small.*):
blindlink's writer reproduces its bytes exactly from the same inputs, its reader opens and
verifies them, and the generator (a second implementation of protocols/exchange.md) still
makes the published files."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from Crypto.Protocol.DH import import_x25519_private_key
from Crypto.Signature import eddsa

from blindlink.errors import EncodedFileError
from blindlink.io.identity import PrivateIdentity, PublicIdentity
from blindlink.io.sealed import (
    HEADER_BYTES,
    Content,
    _seal_bytes_with_fixed_randomness,
    read_header,
    unseal_bytes,
)
from blindlink.pipeline.exchange import read_encoded

VECTORS = Path(__file__).resolve().parents[1] / "protocols" / "test-vectors"
SEALED = VECTORS / "sealed-v1-small.sealed"
DOCUMENT = json.loads((VECTORS / "sealed-v1-small.json").read_text(encoding="utf-8"))
CONTENT = (VECTORS / DOCUMENT["content_file"]).read_bytes()


def identity(keys: dict[str, Any]) -> PrivateIdentity:
    """A blindlink identity from the vector's published test keys."""
    signing = eddsa.import_private_key(bytes.fromhex(keys["ed25519_seed"]))
    decryption = import_x25519_private_key(bytes.fromhex(keys["x25519_private"]))
    public = PublicIdentity(
        name=keys["name"],
        sign_key=bytes(signing.public_key().export_key(format="raw")),
        box_key=bytes(decryption.public_key().export_key(format="raw")),
    )
    return PrivateIdentity(public, signing, decryption)


SENDER = identity(DOCUMENT["test_only_keys"]["sender"])
RECIPIENT = identity(DOCUMENT["test_only_keys"]["recipient"])


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_sealed_vector", VECTORS / "make_sealed_vector.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_vector_files_are_what_the_generator_makes() -> None:
    data, description = load_generator().build()
    assert SEALED.read_bytes() == data
    assert description == DOCUMENT
    assert hashlib.sha256(data).hexdigest() == DOCUMENT["file_sha256"]
    assert "TEST-ONLY" in DOCUMENT["warning"]


def test_the_published_fingerprints_are_blindlinks() -> None:
    for who, identity_ in (("sender", SENDER), ("recipient", RECIPIENT)):
        keys = DOCUMENT["test_only_keys"][who]
        assert identity_.public.fingerprint_hex == keys["fingerprint"]
        assert identity_.public.sign_key.hex() == keys["ed25519_public"]
        assert identity_.public.box_key.hex() == keys["x25519_public"]


def test_blindlinks_writer_reproduces_the_bytes_exactly() -> None:
    sealed = _seal_bytes_with_fixed_randomness(
        CONTENT,
        recipient=RECIPIENT.public,
        signer=SENDER,
        content=Content.ENCODED,
        ephemeral_private=bytes.fromhex(DOCUMENT["test_only_ephemeral_private"]),
        nonce=bytes.fromhex(DOCUMENT["nonce"]),
    )
    assert sealed == SEALED.read_bytes()
    assert sealed[:HEADER_BYTES].hex() == DOCUMENT["header_hex"]


def test_blindlinks_reader_opens_and_verifies_the_vector() -> None:
    header = read_header(SEALED)
    assert header.sender == SENDER.public.fingerprint
    assert header.recipient == RECIPIENT.public.fingerprint
    assert header.content is Content.ENCODED and header.length == DOCUMENT["content_size"]
    opened = unseal_bytes(SEALED.read_bytes(), key=RECIPIENT, signer=SENDER.public,
                          content=Content.ENCODED)  # fmt: skip
    assert opened == CONTENT
    # and as the coordinator reads it: signed by the registered agency its .blk names
    batch = read_encoded(SEALED, key=RECIPIENT, agency_keys={SENDER.name: SENDER.public})
    blk = json.loads((VECTORS / "blk-v1-small.json").read_text(encoding="utf-8"))
    assert batch.agency == "agency-a" and list(batch.record_ids) == blk["record_ids"]


def test_a_changed_byte_of_the_vector_is_refused() -> None:
    data = bytearray(SEALED.read_bytes())
    for offset in (DOCUMENT["sections"]["ciphertext_offset"], DOCUMENT["sections"]["tag_offset"]):
        changed = bytearray(data)
        changed[offset] ^= 1
        with pytest.raises(EncodedFileError, match="corrupted or modified"):
            unseal_bytes(bytes(changed), key=RECIPIENT, signer=SENDER.public)


def test_the_published_intermediates_follow_from_the_primitives() -> None:
    """A third opinion: pyca/cryptography (not pycryptodome) derives the same key from the
    published intermediates and decrypts the vector with the header as associated data."""
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.x25519 import (
        X25519PrivateKey,
        X25519PublicKey,
    )
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    recipient = X25519PrivateKey.from_private_bytes(
        bytes.fromhex(DOCUMENT["test_only_keys"]["recipient"]["x25519_private"])
    )
    shared = recipient.exchange(
        X25519PublicKey.from_public_bytes(bytes.fromhex(DOCUMENT["ephemeral_public"]))
    )
    assert shared.hex() == DOCUMENT["x25519_shared_secret"]
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=bytes.fromhex(DOCUMENT["hkdf_salt"]),
        info=DOCUMENT["hkdf_info"].encode("ascii"),
    ).derive(shared)
    assert key.hex() == DOCUMENT["aes_key"]
    data = SEALED.read_bytes()
    sections = DOCUMENT["sections"]
    encrypted = data[sections["ciphertext_offset"] : sections["signature_offset"]]
    plain = AESGCM(key).decrypt(bytes.fromhex(DOCUMENT["nonce"]), encrypted, data[:HEADER_BYTES])
    assert plain == CONTENT
