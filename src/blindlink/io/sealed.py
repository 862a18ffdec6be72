"""The sealed envelope (format 1): a file encrypted for one party and signed by another.

Small agencies send files by e-mail and on USB sticks, so a file must be useless to whoever
finds it, and the coordinator must know that a file comes from the agency it claims, intact.
The envelope wraps any file's bytes unchanged (a ``.blk`` file, an agency's results), so the
inner formats stay as they are. Layout, byte by byte, in ``protocols/exchange.md``; this
module is the reference implementation.

Construction (all primitives from pycryptodome):

* **Encryption** to the recipient's X25519 key: a fresh ephemeral X25519 key pair per file,
  ECDH, HKDF-SHA256 (salt: both public keys) to a one-time AES-256-GCM key; the whole fixed
  header is the GCM associated data, so no header byte can change unnoticed.
* **Signature**, optional (flag bit 0): Ed25519ph (RFC 8032, prehashed with SHA-512, so files
  of any size are signed in one streaming pass) over every byte before it: header,
  ciphertext and tag. This is *encrypt-then-sign*, and the signed header names the sender's
  and the recipient's key fingerprints: a signature can be checked (and a forged or unknown
  signer refused) before anything is decrypted; the recipient cannot pass a signed file on
  as if it had been sent to someone else (the recipient is signed, and only it can decrypt);
  and nobody can strip the signature and sign the ciphertext as their own, because the
  sender's fingerprint is also in the GCM associated data, so decryption then fails.

What it does not hide: the sender's and the recipient's fingerprints and the size are
visible to anyone holding the file. It does not stop an old file being sent again (replay);
rotating the shared secret per linkage round does (key check values then differ).

Sealing streams: :func:`sealed_output` encrypts a file's bytes as they are written into the
output's atomic temporary, so ``encode --to`` never writes the plain ``.blk`` under a name. The
ephemeral key and nonce are always fresh; a private seam fixes them for the known-answer
vector only (``protocols/test-vectors/make_sealed_vector.py``).

Every error names the file and what is wrong, never key bytes or content.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import IO, NoReturn

from Crypto.Cipher import AES
from Crypto.Hash import SHA256, SHA512
from Crypto.Protocol.DH import (
    import_x25519_private_key,
    import_x25519_public_key,
    key_agreement,
)
from Crypto.Protocol.KDF import HKDF
from Crypto.PublicKey import ECC
from Crypto.PublicKey.ECC import EccKey
from Crypto.Random import get_random_bytes
from Crypto.Signature import eddsa

from blindlink.errors import EncodedFileError, OutputError
from blindlink.io.atomic import atomic_file
from blindlink.io.identity import PrivateIdentity, PublicIdentity

__all__ = [
    "HEADER_BYTES",
    "MAGIC",
    "VERSION",
    "Content",
    "SealedHeader",
    "is_sealed",
    "read_header",
    "seal_bytes",
    "seal_file",
    "sealed_output",
    "unseal_bytes",
    "unseal_file",
]

#: First eight bytes of every sealed file.
MAGIC = b"BLSEALED"
VERSION = 1
FLAG_SIGNED = 0x0001

#: magic, u16 version, u16 flags, u16 content, sender fp, recipient fp, ephemeral public key,
#: nonce, u64 ciphertext length: 130 bytes, all of it GCM associated data.
_HEADER = struct.Struct("<8sHHH32s32s32s12sQ")
HEADER_BYTES = _HEADER.size
TAG_BYTES = 16
SIGNATURE_BYTES = 64
#: HKDF info and Ed25519ph context: tie keys and signatures to this format and version.
_CONTEXT = b"blindlink sealed v1"
#: AES-GCM's limit is 2^36 - 32 bytes per message.
MAX_PAYLOAD = (1 << 36) - 32
_CHUNK = 1 << 20
_NO_SENDER = bytes(32)


class Content(IntEnum):
    """What the envelope holds. It is signed, so one kind cannot be passed off as another."""

    ENCODED = 1  #: an agency's encoded file (.blk), for the coordinator
    RESULT = 2  #: an agency's link results (CSV), for that agency

    @property
    def text(self) -> str:
        return {1: "an encoded file (.blk)", 2: "agency results"}[self.value]


@dataclass(frozen=True)
class SealedHeader:
    """The envelope's fixed header, as read (nothing in it is secret)."""

    flags: int
    content: Content
    sender: bytes | None  #: signer's key fingerprint, None for an unsigned envelope
    recipient: bytes  #: recipient's key fingerprint
    ephemeral: bytes
    nonce: bytes
    length: int  #: ciphertext bytes (= plaintext bytes)

    @property
    def size(self) -> int:
        """Total bytes of the envelope this header starts."""
        extra = SIGNATURE_BYTES if self.sender is not None else 0
        return HEADER_BYTES + self.length + TAG_BYTES + extra


def _payload_key(shared: bytes, ephemeral: bytes, recipient_box_key: bytes) -> bytes:
    """HKDF-SHA256 of the X25519 shared secret; salt binds the key to both public keys."""
    key = HKDF(shared, 32, ephemeral + recipient_box_key, SHA256, context=_CONTEXT)
    return key if isinstance(key, bytes) else key[0]


def _signer(identity: PrivateIdentity) -> eddsa.EdDSASigScheme:
    return eddsa.new(identity.signing_key, "rfc8032", context=_CONTEXT)


# --------------------------------------------------------------------------------- sealing


class _Sealer:
    """Encrypts (and signs) one envelope's content as it is written, into ``out``.

    The content's length is in the header, which is the GCM associated data, so it must be
    known before the first byte; :meth:`finish` refuses a content that came out shorter or
    longer. A writer object rather than a function over a source file, so that the ``.blk``
    writer can stream its sections straight into it and the plain file never exists under a
    name on disk (a run killed mid-way leaves no plaintext beside the output).

    ``ephemeral_key`` and ``nonce`` are fresh random values unless given; only
    :func:`_seal_bytes_with_fixed_randomness` gives them, for known-answer test vectors.
    """

    def __init__(
        self,
        out: IO[bytes],
        length: int,
        *,
        recipient: PublicIdentity,
        signer: PrivateIdentity | None,
        content: Content,
        shown: str,
        ephemeral_key: EccKey | None = None,
        nonce: bytes | None = None,
    ) -> None:
        if length > MAX_PAYLOAD:
            raise OutputError(f"{shown}: too large to seal ({length} bytes)")
        if ephemeral_key is None:
            ephemeral_key = ECC.generate(curve="X25519")
        ephemeral = bytes(ephemeral_key.public_key().export_key(format="raw"))
        key = key_agreement(
            eph_priv=ephemeral_key,
            static_pub=recipient.encryption_key(),
            kdf=lambda shared: _payload_key(shared, ephemeral, recipient.box_key),
        )
        nonce = get_random_bytes(12) if nonce is None else nonce
        header = _HEADER.pack(
            MAGIC,
            VERSION,
            FLAG_SIGNED if signer is not None else 0,
            int(content),
            signer.public.fingerprint if signer is not None else _NO_SENDER,
            recipient.fingerprint,
            ephemeral,
            nonce,
            length,
        )
        self._out, self._shown, self._signer = out, shown, signer
        self._remaining = length
        self._cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=TAG_BYTES)
        self._cipher.update(header)
        self._digest = SHA512.new(header)
        out.write(header)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Encrypt ``data`` (the next bytes of the content) into the envelope."""
        size = memoryview(data).nbytes
        if size > self._remaining:
            raise OutputError(f"{self._shown}: more content than the envelope announced")
        encrypted = self._cipher.encrypt(data)
        self._digest.update(encrypted)
        self._out.write(encrypted)
        self._remaining -= size
        return size

    def finish(self) -> None:
        """Write the tag and, if signing, the signature; the content must be complete."""
        if self._remaining:
            raise OutputError(f"{self._shown}: the content to seal shrank while it was being read")
        tag = self._cipher.digest()
        self._digest.update(tag)
        self._out.write(tag)
        if self._signer is not None:
            self._out.write(_signer(self._signer).sign(self._digest))


def _seal_stream(
    source: IO[bytes],
    length: int,
    out: IO[bytes],
    *,
    recipient: PublicIdentity,
    signer: PrivateIdentity | None,
    content: Content,
    shown: str,
) -> None:
    sealer = _Sealer(out, length, recipient=recipient, signer=signer, content=content,
                     shown=shown)  # fmt: skip
    remaining = length
    while remaining:
        block = source.read(min(remaining, _CHUNK))
        if not block:
            break  # finish() names the problem
        sealer.write(block)
        remaining -= len(block)
    sealer.finish()


def seal_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    recipient: PublicIdentity,
    signer: PrivateIdentity | None = None,
    content: Content,
) -> None:
    """Seal the file ``source`` into ``target`` (atomically), for ``recipient``, signed by
    ``signer`` if given. Streams: memory does not depend on the file's size."""
    shown = os.fspath(source)
    try:
        with open(source, "rb") as handle:
            length = os.fstat(handle.fileno()).st_size
            with atomic_file(target) as out:
                _seal_stream(handle, length, out, recipient=recipient, signer=signer,
                             content=content, shown=shown)  # fmt: skip
    except OSError as exc:
        raise OutputError(f"{shown}: cannot be read to seal it ({exc.strerror})") from exc


def seal_bytes(
    data: bytes,
    *,
    recipient: PublicIdentity,
    signer: PrivateIdentity | None = None,
    content: Content,
) -> bytes:
    """The sealed envelope of ``data`` (for small payloads such as an agency's results)."""
    out = io.BytesIO()
    _seal_stream(io.BytesIO(data), len(data), out, recipient=recipient, signer=signer,
                 content=content, shown="data")  # fmt: skip
    return out.getvalue()


def _seal_bytes_with_fixed_randomness(
    data: bytes,
    *,
    recipient: PublicIdentity,
    signer: PrivateIdentity | None,
    content: Content,
    ephemeral_private: bytes,
    nonce: bytes,
) -> bytes:
    """:func:`seal_bytes` with a given ephemeral X25519 private key (32 raw bytes) and nonce.

    **For known-answer test vectors only** (``protocols/test-vectors/make_sealed_vector.py``
    and its test): reusing an ephemeral key and nonce for two contents gives away both (the
    same GCM key stream), which is why no public function and no command takes them.
    """
    if len(nonce) != 12:
        raise ValueError("the nonce must be 12 bytes")
    out = io.BytesIO()
    sealer = _Sealer(out, len(data), recipient=recipient, signer=signer, content=content,
                     shown="data", ephemeral_key=import_x25519_private_key(ephemeral_private),
                     nonce=nonce)  # fmt: skip
    sealer.write(data)
    sealer.finish()
    return out.getvalue()


@contextmanager
def sealed_output(
    target: str | os.PathLike[str],
    length: int,
    *,
    recipient: PublicIdentity,
    signer: PrivateIdentity | None = None,
    content: Content,
) -> Iterator[_Sealer]:
    """A writer whose ``length`` bytes of content are sealed into ``target`` as they come.

    ``target`` appears whole or not at all (:func:`blindlink.io.atomic.atomic_file`): what
    lies beside it while the block runs, or after a run killed outright, is a hidden
    temporary holding ciphertext only, which the next write of ``target`` removes. The plain
    content is never written to disk here, so it cannot be left behind.
    """
    with atomic_file(target) as out:
        sealer = _Sealer(out, length, recipient=recipient, signer=signer, content=content,
                         shown=os.fspath(target))  # fmt: skip
        yield sealer
        sealer.finish()


# --------------------------------------------------------------------------------- opening


def is_sealed(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` starts like a sealed envelope (False if it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def _fail(shown: str, problem: str, cause: BaseException | None = None) -> NoReturn:
    raise EncodedFileError(f"{shown}: {problem}") from cause


def _parse_header(shown: str, raw: bytes, size: int) -> SealedHeader:
    if raw[: len(MAGIC)] != MAGIC[: len(raw)] or not raw:
        _fail(shown, "not a sealed blindlink file (wrong magic bytes)")
    if len(raw) < HEADER_BYTES:
        _fail(shown, f"is truncated: {size} bytes, shorter than the {HEADER_BYTES}-byte header "
                     "of a sealed file")  # fmt: skip
    _, version, flags, content, sender, recipient, ephemeral, nonce, length = _HEADER.unpack(raw)
    if version != VERSION:
        newer = version > VERSION
        _fail(shown, f"sealed by {'a newer' if newer else 'an older'} blindlink (envelope "
                     f"version {version}); this blindlink reads version {VERSION}")  # fmt: skip
    if flags & ~FLAG_SIGNED:
        _fail(shown, f"uses envelope features this blindlink does not support (flags "
                     f"0x{flags:04x})")  # fmt: skip
    try:
        kind = Content(content)
    except ValueError:
        _fail(shown, f"holds content of unknown kind {content}")
    signed = bool(flags & FLAG_SIGNED)
    if not signed and sender != _NO_SENDER:
        _fail(shown, "is malformed: an unsigned envelope names a sender")
    if length > MAX_PAYLOAD:
        _fail(shown, f"declares {length} bytes of content (at most {MAX_PAYLOAD})")
    header = SealedHeader(flags, kind, sender if signed else None, recipient, ephemeral, nonce,
                          length)  # fmt: skip
    if size < header.size:
        _fail(shown, f"is truncated: {size} bytes, but its header declares {header.size}; "
                     "was the copy incomplete?")  # fmt: skip
    if size > header.size:
        _fail(shown, f"has {size - header.size} unexpected bytes after the end of the sealed "
                     "data")  # fmt: skip
    return header


def _read_header(shown: str, handle: IO[bytes], size: int) -> tuple[SealedHeader, bytes]:
    """The header of the envelope of ``size`` bytes open in ``handle``, and its raw bytes."""
    if size == 0:
        _fail(shown, "empty file")
    raw = handle.read(HEADER_BYTES)
    return _parse_header(shown, raw, size), raw


def read_header(path: str | os.PathLike[str]) -> SealedHeader:
    """The header of the sealed file ``path``, checked against the file's size."""
    shown = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            return _read_header(shown, handle, os.fstat(handle.fileno()).st_size)[0]
    except OSError as exc:
        _fail(shown, f"cannot be read ({exc.strerror or type(exc).__name__})", exc)


def _blocks(shown: str, handle: IO[bytes], length: int) -> Iterator[bytes]:
    """The next ``length`` bytes of ``handle``, in blocks of at most 1 MiB."""
    remaining = length
    while remaining:
        block = handle.read(min(remaining, _CHUNK))
        if not block:
            _fail(shown, "is truncated (the file shrank while it was being read)")
        yield block
        remaining -= len(block)


def _verify_signature(
    shown: str, handle: IO[bytes], raw: bytes, header: SealedHeader, signer: PublicIdentity
) -> None:
    """Check the signature over header, ciphertext and tag before anything is decrypted,
    so that a forged file never meets the private key."""
    digest = SHA512.new(raw)
    for block in _blocks(shown, handle, header.length + TAG_BYTES):
        digest.update(block)
    try:
        eddsa.new(signer.verifier(), "rfc8032", context=_CONTEXT).verify(
            digest, handle.read(SIGNATURE_BYTES)
        )
    except ValueError:
        _fail(shown, f"corrupted or modified: the signature of {signer.short} does not verify")


def _unseal_stream(
    shown: str,
    handle: IO[bytes],
    size: int,
    out: IO[bytes],
    *,
    key: PrivateIdentity,
    signer: PublicIdentity | None,
    content: Content | None,
) -> SealedHeader:
    header, raw = _read_header(shown, handle, size)
    if content is not None and header.content != content:
        _fail(shown, f"holds {header.content.text}, not {content.text}")
    if header.recipient != key.public.fingerprint:
        _fail(shown, f"is sealed for another key ({header.recipient.hex()[:16]}), not for "
                     f"{key.public.short}")  # fmt: skip
    if signer is None and header.sender is not None:
        _fail(shown, f"is signed by key {header.sender.hex()[:16]}, but no public key to check "
                     "the signature against was given")  # fmt: skip
    if signer is not None and header.sender is None:
        _fail(shown, f"is not signed; a file signed by {signer.short} was expected")
    if signer is not None and header.sender is not None and header.sender != signer.fingerprint:
        _fail(shown, f"is signed by another key ({header.sender.hex()[:16]}), not by "
                     f"{signer.short}")  # fmt: skip
    if signer is not None:
        _verify_signature(shown, handle, raw, header, signer)
        handle.seek(HEADER_BYTES)
    try:
        secret_key = key_agreement(
            static_priv=key.decryption_key,
            eph_pub=import_x25519_public_key(header.ephemeral),
            kdf=lambda shared: _payload_key(shared, header.ephemeral, key.public.box_key),
        )
    except ValueError as exc:
        _fail(shown, "corrupted or modified: invalid ephemeral key", exc)
    cipher = AES.new(secret_key, AES.MODE_GCM, nonce=header.nonce, mac_len=TAG_BYTES)
    cipher.update(raw)
    for block in _blocks(shown, handle, header.length):
        out.write(cipher.decrypt(block))
    try:
        cipher.verify(handle.read(TAG_BYTES))
    except ValueError:
        _fail(shown, "corrupted or modified: decryption failed its integrity check")
    return header


def unseal_file(
    path: str | os.PathLike[str],
    out: IO[bytes],
    *,
    key: PrivateIdentity,
    signer: PublicIdentity | None,
    content: Content | None = None,
) -> SealedHeader:
    """Decrypt the sealed file ``path`` into ``out``, checking everything.

    ``signer`` is the party the file must be signed by; ``None`` means the file must be
    unsigned (a signature that cannot be checked is never silently accepted). ``content``, if
    given, is the kind of content expected. Raises :class:`EncodedFileError` for a file that
    is not sealed, is damaged, truncated or modified, sealed for another key or signed by
    another party. **What was written to ``out`` is valid only if this returns**: on error the
    caller must discard it.
    """
    shown = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            return _unseal_stream(shown, handle, size, out, key=key, signer=signer,
                                  content=content)  # fmt: skip
    except OSError as exc:
        _fail(shown, f"cannot be read ({exc.strerror or type(exc).__name__})", exc)


def unseal_bytes(
    data: bytes,
    *,
    key: PrivateIdentity,
    signer: PublicIdentity | None,
    content: Content | None = None,
    shown: str = "data",
) -> bytes:
    """:func:`unseal_file` for an envelope in memory; returns the content."""
    out = io.BytesIO()
    _unseal_stream(shown, io.BytesIO(data), len(data), out, key=key, signer=signer,
                   content=content)  # fmt: skip
    return out.getvalue()
