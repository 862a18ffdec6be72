"""Sealed exchange between agencies and the coordinator: which files to accept, from whom.

``io.sealed`` seals and opens envelopes; this module holds the rules of the exchange
(``protocols/exchange.md``, "Rules"):

* A plain ``.blk`` file is accepted for simple set-ups, unless agency keys are registered:
  then every file must be sealed for the coordinator and signed by a registered agency key.
* A sealed file needs the coordinator's private key. A signed one is accepted only if its
  signer is registered, and only if the signer's name is the agency named inside the
  ``.blk`` file: agency A cannot send records under agency B's name. A signature is never
  accepted unchecked: a signed file without registered keys to check it is refused.
* Results for an agency can be sealed for that agency's registered key, and signed by the
  coordinator when the coordinator has an identity.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path

from blindlink.errors import EncodedFileError, InputError, SecretError
from blindlink.io.atomic import atomic_file
from blindlink.io.blk import Destination, Sink, read_blk
from blindlink.io.identity import PrivateIdentity, PublicIdentity
from blindlink.io.sealed import (
    Content,
    SealedHeader,
    is_sealed,
    read_header,
    seal_bytes,
    sealed_output,
    unseal_file,
)
from blindlink.types import EncodedBatch

__all__ = [
    "SEALED_SUFFIX",
    "AgencyFile",
    "AgencyKeys",
    "agency_result_sealer",
    "encoded_destination",
    "open_sealed",
    "read_encoded",
]

#: Appended to the name of a sealed results file: ``agencies/<agency>.csv.sealed``.
SEALED_SUFFIX = ".sealed"
#: Registered public keys, by party name (see ``io.identity.read_public_keys``).
AgencyKeys = Mapping[str, PublicIdentity]
#: Turns an agency's results (CSV bytes) into the file name and bytes to write.
AgencyFile = Callable[[str, bytes], tuple[str, bytes]]

_ENCODE_HINT = "blindlink encode ... --to COORDINATOR.pub --sign-key AGENCY.key"


def read_encoded(
    path: str | os.PathLike[str],
    *,
    key: PrivateIdentity | None = None,
    agency_keys: AgencyKeys | None = None,
) -> EncodedBatch:
    """Read an encoded file, plain or sealed, by the rules of the module docstring.

    ``key`` is the coordinator's identity (to decrypt); ``agency_keys`` the registered agency
    keys (to check signatures; when given, every file must be sealed and signed). Raises
    :class:`EncodedFileError` for a file that breaks a rule or is damaged or modified,
    :class:`SecretError` when a sealed file arrives and ``key`` is missing.
    """
    shown = os.fspath(path)
    if not is_sealed(path):
        if agency_keys is not None:
            raise EncodedFileError(
                f"{shown}: is not sealed and signed; with registered agency keys every file "
                f"must be ({_ENCODE_HINT})"
            )
        return read_blk(path)
    header = read_header(path)
    if key is None:
        raise SecretError(
            f"{shown}: is sealed; the coordinator's private key (--key) is needed to open it"
        )
    signer = _signer(shown, header, agency_keys)
    batch = _unsealed_blk(shown, path, key, signer)
    if signer is not None and batch.agency != signer.name:
        raise EncodedFileError(
            f"{shown}: is signed by {signer.short} but holds the records of agency "
            f"{batch.agency!r}; an agency may only send its own records"
        )
    return batch


def _signer(
    shown: str, header: SealedHeader, agency_keys: AgencyKeys | None
) -> PublicIdentity | None:
    """The registered key the file must be signed by (None: it must be unsigned)."""
    if header.sender is None:
        if agency_keys is not None:
            raise EncodedFileError(
                f"{shown}: is not signed; with registered agency keys every file must be "
                f"signed ({_ENCODE_HINT})"
            )
        return None
    if agency_keys is None:
        raise EncodedFileError(
            f"{shown}: is signed (key {header.sender.hex()[:16]}); give the agencies' public "
            "keys (--agency-keys) so that the signature can be checked"
        )
    for identity in agency_keys.values():
        if identity.fingerprint == header.sender:
            return identity
    raise EncodedFileError(
        f"{shown}: is signed by a key that is not registered (key {header.sender.hex()[:16]}); "
        "refusing it"
    )


def _unsealed_blk(
    shown: str, path: str | os.PathLike[str], key: PrivateIdentity, signer: PublicIdentity | None
) -> EncodedBatch:
    """Decrypt into a private temporary folder and read the ``.blk`` file inside."""
    with tempfile.TemporaryDirectory(prefix="blindlink-") as folder:
        plain = Path(folder) / "encoded.blk"
        descriptor = os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            unseal_file(path, out, key=key, signer=signer, content=Content.ENCODED)
        try:
            return read_blk(plain)
        except EncodedFileError as exc:
            inner = str(exc).removeprefix(str(plain))
            message = f"{shown}: inside the envelope, the encoded file{inner}"
            raise EncodedFileError(message) from exc


def encoded_destination(
    output: str | os.PathLike[str],
    *,
    agency: str,
    recipient: PublicIdentity | None,
    signer: PrivateIdentity | None,
) -> Destination | None:
    """Where an agency's ``.blk`` file goes: ``None`` for the plain file at ``output``, or
    with a ``recipient``, a destination that seals the file into ``output`` as it is written
    (:class:`blindlink.io.blk.BlkWriter`).

    Sealed as it is written rather than written and then sealed: no plain copy ever lies
    under a name beside the output, so a run killed outright cannot leave one behind.
    """
    if recipient is None:
        if signer is not None:
            raise InputError("a signed file must also be sealed for its recipient (--to)")
        return None
    if signer is not None and signer.name != agency:
        raise SecretError(
            f"the signing key belongs to {signer.public.short}, not to agency {agency!r}; "
            "the coordinator would refuse the file"
        )

    def destination(size: int) -> AbstractContextManager[Sink]:
        return sealed_output(output, size, recipient=recipient, signer=signer,
                             content=Content.ENCODED)  # fmt: skip

    return destination


def agency_result_sealer(agency_keys: AgencyKeys, signer: PrivateIdentity | None) -> AgencyFile:
    """Seal each agency's results for that agency's registered key (signed by ``signer``)."""

    def seal(agency: str, data: bytes) -> tuple[str, bytes]:
        recipient = agency_keys.get(agency)
        if recipient is None:
            raise SecretError(
                f"no public key is registered for agency {agency!r}: its results cannot be "
                "encrypted for it"
            )
        sealed = seal_bytes(data, recipient=recipient, signer=signer, content=Content.RESULT)
        return f"{agency}.csv{SEALED_SUFFIX}", sealed

    return seal


def open_sealed(
    path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    key: PrivateIdentity,
    sender: PublicIdentity | None = None,
) -> SealedHeader:
    """Decrypt the sealed file ``path`` into ``out_path`` (atomically, mode 0600).

    ``sender`` is who must have signed it; without it the file must be unsigned. Nothing is
    written unless every check passes.
    """
    with atomic_file(out_path, mode=0o600) as out:
        return unseal_file(path, out, key=key, signer=sender)
