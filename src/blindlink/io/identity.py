"""Identity key pairs: who signed a file, and for whom it is encrypted.

Each party (an agency, the coordinator) has one identity: a name and two key pairs,

* an **Ed25519** key pair that signs what the party sends, and
* an **X25519** key pair that others encrypt to (``io.sealed``).

Two key pairs rather than one key used both ways, because a key should serve one purpose:
pycryptodome has no conversion between the two curves' forms, and keeping them apart means a
flaw in one use can never leak the other. Both live in one private key file and one public
key file, so a party still handles one pair of files.

The **fingerprint** (SHA-256 over a label, the name and both public keys) names an identity
in sealed files and in messages. It covers the name, so "agency-a's keys" and the same keys
under another name are different identities, and reading a fingerprint out over the phone
checks the name and the keys at once.

Files are JSON (``protocols/exchange.md``). The private key file holds the two private keys
as PKCS#8 PEM blocks, encrypted by pycryptodome (scrypt + AES-256-GCM) when the owner chose
a passphrase, and is written with mode 0600; a private key file that other users may read is
refused (a copy that has leaked is a key to replace, not to keep using). Messages name files
and fingerprints, never key bytes or passphrases.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from Crypto.Protocol.DH import import_x25519_public_key
from Crypto.PublicKey import ECC
from Crypto.PublicKey.ECC import EccKey
from Crypto.Signature import eddsa

from blindlink.errors import InputError, OutputError, SecretError
from blindlink.io.atomic import atomic_file
from blindlink.io.blk import check_agency_name

__all__ = [
    "MIN_PASSPHRASE_CHARS",
    "PRIVATE_FORMAT",
    "PUBLIC_FORMAT",
    "Passphrase",
    "PrivateIdentity",
    "PublicIdentity",
    "generate_identity",
    "read_private_key",
    "read_public_key",
    "read_public_keys",
    "write_identity",
]

PUBLIC_FORMAT = "blindlink-public-key"
PRIVATE_FORMAT = "blindlink-private-key"
KEY_FILE_VERSION = 1
#: Shortest passphrase accepted for protecting a private key (as for the shared passphrase).
MIN_PASSPHRASE_CHARS = 12
#: pycryptodome's PKCS#8 protection: scrypt (N = 2^17, r = 8, p = 1) and AES-256-GCM.
_PROTECTION = "scryptAndAES256-GCM"
_FINGERPRINT_LABEL = b"blindlink-identity-v1\x00"
#: A key file is a few hundred bytes; anything far larger is not one (bounds memory).
_MAX_KEY_FILE_BYTES = 65536
_HEX64 = re.compile(r"[0-9a-f]{64}")

#: A passphrase, or a function asked for one only if the key file is protected.
Passphrase = bytes | Callable[[], bytes] | None


def _fingerprint(name: str, sign_key: bytes, box_key: bytes) -> bytes:
    encoded = name.encode("utf-8")
    return hashlib.sha256(
        _FINGERPRINT_LABEL + bytes([len(encoded)]) + encoded + sign_key + box_key
    ).digest()


@dataclass(frozen=True)
class PublicIdentity:
    """A party's public keys: raw Ed25519 (``sign_key``) and X25519 (``box_key``), 32 bytes."""

    name: str
    sign_key: bytes
    box_key: bytes

    def __repr__(self) -> str:
        return f"PublicIdentity(name={self.name!r}, fingerprint={self.fingerprint_hex!r})"

    @property
    def fingerprint(self) -> bytes:
        """32 bytes naming this identity in sealed files (see the module docstring)."""
        return _fingerprint(self.name, self.sign_key, self.box_key)

    @property
    def fingerprint_hex(self) -> str:
        return self.fingerprint.hex()

    @property
    def short(self) -> str:
        """The name and the first 16 hex digits of the fingerprint, for messages."""
        return f"{self.name!r} (key {self.fingerprint_hex[:16]})"

    def verifier(self) -> EccKey:
        """The Ed25519 public key, to verify this party's signatures."""
        return eddsa.import_public_key(self.sign_key)

    def encryption_key(self) -> EccKey:
        """The X25519 public key, to encrypt to this party."""
        return import_x25519_public_key(self.box_key)

    def document(self) -> dict[str, Any]:
        """The public key file's JSON object."""
        return {
            "format": PUBLIC_FORMAT,
            "version": KEY_FILE_VERSION,
            "name": self.name,
            "ed25519": self.sign_key.hex(),
            "x25519": self.box_key.hex(),
            "fingerprint": self.fingerprint_hex,
        }


@dataclass(frozen=True)
class PrivateIdentity:
    """A party's private keys, and its public identity. Its repr shows no key material."""

    public: PublicIdentity
    signing_key: EccKey = field(repr=False)
    decryption_key: EccKey = field(repr=False)

    def __repr__(self) -> str:
        return f"PrivateIdentity(name={self.name!r}, fingerprint={self.public.fingerprint_hex!r})"

    @property
    def name(self) -> str:
        return self.public.name


def _public_of(name: str, signing_key: EccKey, decryption_key: EccKey) -> PublicIdentity:
    sign_key = signing_key.public_key().export_key(format="raw")
    box_key = decryption_key.public_key().export_key(format="raw")
    return PublicIdentity(name=name, sign_key=bytes(sign_key), box_key=bytes(box_key))


def generate_identity(name: str) -> PrivateIdentity:
    """A fresh identity for ``name`` (an agency name, or e.g. ``coordinator``)."""
    check_agency_name(name)
    signing_key = ECC.generate(curve="ed25519")
    decryption_key = ECC.generate(curve="X25519")
    return PrivateIdentity(_public_of(name, signing_key, decryption_key), signing_key,
                           decryption_key)  # fmt: skip


# --------------------------------------------------------------------------------- writing


def _key_paths(directory: Path, name: str) -> tuple[Path, Path]:
    return directory / f"{name}.key", directory / f"{name}.pub"


def write_identity(
    identity: PrivateIdentity,
    directory: str | os.PathLike[str],
    *,
    passphrase: bytes | None = None,
    overwrite: bool = False,
) -> tuple[Path, Path]:
    """Write ``<name>.key`` (mode 0600) and ``<name>.pub`` into ``directory``.

    With ``passphrase`` (at least :data:`MIN_PASSPHRASE_CHARS` characters) the private keys
    are encrypted. Existing files are replaced only with ``overwrite``: replacing a key in use
    locks its owner out of files already sealed to it.
    """
    folder = Path(directory)
    private_path, public_path = _key_paths(folder, identity.name)
    if not overwrite:
        for path in (private_path, public_path):
            if path.exists():
                raise OutputError(
                    f"{path}: already exists; a key in use must not be replaced by accident "
                    "(remove it first or pass --force)"
                )
    if passphrase is not None and len(passphrase.decode("utf-8", "replace")) < MIN_PASSPHRASE_CHARS:
        raise SecretError(
            f"the passphrase for {private_path} is too short: use at least "
            f"{MIN_PASSPHRASE_CHARS} characters"
        )
    private_document = {
        "format": PRIVATE_FORMAT,
        "version": KEY_FILE_VERSION,
        "name": identity.name,
        "protected": passphrase is not None,
        "ed25519": _pem(identity.signing_key, passphrase),
        "x25519": _pem(identity.decryption_key, passphrase),
        "fingerprint": identity.public.fingerprint_hex,
    }
    with atomic_file(private_path, mode=0o600) as handle:
        handle.write(_json_bytes(private_document))
    with atomic_file(public_path) as handle:
        handle.write(_json_bytes(identity.public.document()))
    return private_path, public_path


def _pem(key: EccKey, passphrase: bytes | None) -> str:
    if passphrase is None:
        return str(key.export_key(format="PEM"))
    return str(key.export_key(format="PEM", passphrase=passphrase, protection=_PROTECTION))


def _json_bytes(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# --------------------------------------------------------------------------------- reading


def read_public_key(path: str | os.PathLike[str]) -> PublicIdentity:
    """Read a public key file; :class:`SecretError` naming the file if it is not one."""
    target = Path(path)
    document = _read_document(target, PUBLIC_FORMAT)
    name = _name(target, document)
    keys = []
    for field_name in ("ed25519", "x25519"):
        value = document.get(field_name)
        if not isinstance(value, str) or not _HEX64.fullmatch(value):
            raise SecretError(f"{target}: {field_name!r} must be 64 lowercase hex digits")
        keys.append(bytes.fromhex(value))
    identity = PublicIdentity(name=name, sign_key=keys[0], box_key=keys[1])
    try:
        identity.verifier()
        identity.encryption_key()
    except ValueError as exc:
        raise SecretError(f"{target}: holds an invalid public key") from exc
    _check_fingerprint(target, document, identity)
    return identity


def read_private_key(
    path: str | os.PathLike[str], passphrase: Passphrase = None
) -> PrivateIdentity:
    """Read a private key file, asking ``passphrase`` for its passphrase if it is protected.

    Refused with :class:`SecretError`: a file other users may read (run ``chmod 600``), a
    wrong passphrase, a damaged or foreign file.
    """
    target = Path(path)
    document = _read_document(target, PRIVATE_FORMAT)
    if not _is_private(target):
        raise SecretError(
            f"{target}: private key file can be read by other users; run 'chmod 600 {target}' "
            "(and replace the key if others may have copied it)"
        )
    name = _name(target, document)
    protected = document.get("protected")
    if not isinstance(protected, bool):
        raise SecretError(f"{target}: 'protected' must be true or false")
    secret: bytes | None = None
    if protected:
        secret = passphrase() if callable(passphrase) else passphrase
        if not secret:
            raise SecretError(f"{target}: is protected by a passphrase, and none was given")
    signing_key = _import_private(target, document, "ed25519", "Ed25519", secret)
    decryption_key = _import_private(target, document, "x25519", "Curve25519", secret)
    public = _public_of(name, signing_key, decryption_key)
    _check_fingerprint(target, document, public)
    return PrivateIdentity(public, signing_key, decryption_key)


def read_public_keys(directory: str | os.PathLike[str]) -> dict[str, PublicIdentity]:
    """The public keys registered in ``directory``: every ``<name>.pub``, by name.

    A file's name must be its identity's name (``agency-a.pub`` holds ``agency-a``), so the
    folder listing is the list of registered parties; two files with one signing key are
    refused (one party could then sign as two).
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise SecretError(f"{folder}: is not a folder of public keys (<agency>.pub)")
    registry: dict[str, PublicIdentity] = {}
    signers: dict[bytes, Path] = {}
    for path in sorted(folder.glob("*.pub")):
        identity = read_public_key(path)
        if identity.name != path.stem:
            raise SecretError(
                f"{path}: holds the key of {identity.name!r}; a registered key file must be "
                f"named after its party ({identity.name}.pub)"
            )
        if identity.sign_key in signers:
            raise SecretError(
                f"{path} and {signers[identity.sign_key]}: hold the same signing key; "
                "each party needs its own"
            )
        signers[identity.sign_key] = path
        registry[identity.name] = identity
    if not registry:
        raise SecretError(f"{folder}: holds no public key files (<agency>.pub)")
    return registry


def _is_private(path: Path) -> bool:
    """Whether only the owner may read ``path`` (always true where modes mean nothing)."""
    if os.name == "nt":
        return True
    try:
        return os.stat(path).st_mode & 0o077 == 0
    except OSError as exc:
        raise SecretError(f"{path}: cannot read the key file ({exc.strerror})") from exc


def _read_document(path: Path, expected: str) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise SecretError(f"{path}: cannot read the key file ({exc.strerror})") from exc
    if len(raw) > _MAX_KEY_FILE_BYTES:
        raise SecretError(f"{path}: is not a blindlink key file (too large)")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SecretError(f"{path}: is not a blindlink key file (not JSON)") from exc
    if not isinstance(document, dict):
        raise SecretError(f"{path}: is not a blindlink key file")
    kind = document.get("format")
    if kind != expected:
        if kind == PRIVATE_FORMAT:
            raise SecretError(
                f"{path}: is a private key file; give the public key file (.pub) here, and "
                "never hand the private one to anyone"
            )
        if kind == PUBLIC_FORMAT:
            raise SecretError(f"{path}: is a public key file; the private key file is needed")
        raise SecretError(f"{path}: is not a blindlink {expected.rsplit('-', 2)[-2]} key file")
    version = document.get("version")
    if version != KEY_FILE_VERSION:
        raise SecretError(
            f"{path}: key file version {version!r} is not supported (this blindlink reads "
            f"version {KEY_FILE_VERSION})"
        )
    return document


def _name(path: Path, document: Mapping[str, Any]) -> str:
    name = document.get("name")
    try:
        return check_agency_name(name)  # type: ignore[arg-type]
    except InputError as exc:
        raise SecretError(f"{path}: 'name': {exc}") from None


def _import_private(
    path: Path, document: Mapping[str, Any], field_name: str, curve: str, secret: bytes | None
) -> EccKey:
    pem = document.get(field_name)
    if not isinstance(pem, str):
        raise SecretError(f"{path}: {field_name!r} must be a PEM text")
    try:
        key = ECC.import_key(pem, passphrase=secret)
    except ValueError:  # a wrong passphrase is a ValueError (IncorrectPassphraseError)
        if secret is not None:
            raise SecretError(f"{path}: wrong passphrase, or the key file is damaged") from None
        raise SecretError(f"{path}: {field_name!r} is not a valid private key") from None
    if key.curve != curve or not key.has_private():
        raise SecretError(f"{path}: {field_name!r} is not an {field_name} private key")
    return key


def _check_fingerprint(path: Path, document: Mapping[str, Any], identity: PublicIdentity) -> None:
    """The file's stated fingerprint must be the one its keys and name give (catches edits)."""
    if document.get("fingerprint") != identity.fingerprint_hex:
        raise SecretError(
            f"{path}: its fingerprint does not match its keys and name (edited or damaged)"
        )
