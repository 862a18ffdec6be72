"""Authenticated and encrypted exchange: identity key files, the sealed envelope, the rules of
who may send what (protocols/exchange.md), and that no secret ever reaches an output."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest

from blindlink.encoding.keys import secret_from_passphrase
from blindlink.errors import EncodedFileError, InputError, OutputError, SecretError
from blindlink.io.blk import write_blk
from blindlink.io.identity import (
    PrivateIdentity,
    PublicIdentity,
    generate_identity,
    read_private_key,
    read_public_key,
    read_public_keys,
    write_identity,
)
from blindlink.io.sealed import (
    HEADER_BYTES,
    SIGNATURE_BYTES,
    TAG_BYTES,
    Content,
    is_sealed,
    read_header,
    seal_bytes,
    seal_file,
    sealed_output,
    unseal_bytes,
    unseal_file,
)
from blindlink.pipeline.exchange import open_sealed, read_encoded
from blindlink.types import EncodedBatch
from helpers import run_cli

PASSPHRASE = "correct horse battery staple 7"

# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def coordinator() -> PrivateIdentity:
    return generate_identity("coordinator")


@pytest.fixture(scope="module")
def north() -> PrivateIdentity:
    return generate_identity("ngo_north")


@pytest.fixture(scope="module")
def police() -> PrivateIdentity:
    return generate_identity("police_unit")


def batch_of(agency: str, records: int = 5) -> EncodedBatch:
    rng = np.random.default_rng(len(agency))
    return EncodedBatch(
        agency=agency,
        schema_fingerprint="ab" * 32,
        key_check="cd" * 16,
        filter_bits=64,
        record_ids=tuple(f"{agency}-{i}" for i in range(records)),
        filters=rng.integers(0, 256, size=(records, 8), dtype=np.uint8),
    )


def sealed_blk(
    tmp_path: Path,
    agency: str,
    recipient: PublicIdentity,
    signer: PrivateIdentity | None,
    name: str | None = None,
) -> Path:
    plain = tmp_path / f"{agency}.plain.blk"
    write_blk(plain, batch_of(agency))
    target = tmp_path / (name or f"{agency}.blk")
    seal_file(plain, target, recipient=recipient, signer=signer, content=Content.ENCODED)
    plain.unlink()
    return target


def registry(*identities: PrivateIdentity) -> dict[str, PublicIdentity]:
    return {i.name: i.public for i in identities}


# ----------------------------------------------------------------------- envelope round trip


@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("size", [0, 1, 1000])
def test_round_trip_in_memory(
    signed: bool, size: int, coordinator: PrivateIdentity, north: PrivateIdentity
) -> None:
    data = os.urandom(size)
    signer = north if signed else None
    envelope = seal_bytes(data, recipient=coordinator.public, signer=signer, content=Content.RESULT)
    assert len(envelope) == HEADER_BYTES + size + TAG_BYTES + (SIGNATURE_BYTES if signed else 0)
    assert envelope[:8] == b"BLSEALED"
    opened = unseal_bytes(envelope, key=coordinator, signer=north.public if signed else None)
    assert opened == data


def test_round_trip_of_a_file_larger_than_one_chunk(
    tmp_path: Path, coordinator: PrivateIdentity, north: PrivateIdentity
) -> None:
    data = os.urandom((1 << 20) * 2 + 12345)
    (tmp_path / "plain").write_bytes(data)
    seal_file(tmp_path / "plain", tmp_path / "sealed", recipient=coordinator.public,
              signer=north, content=Content.ENCODED)  # fmt: skip
    assert data[:4096] not in (tmp_path / "sealed").read_bytes()
    header = read_header(tmp_path / "sealed")
    assert header.sender == north.public.fingerprint
    assert header.recipient == coordinator.public.fingerprint
    assert header.length == len(data) and header.content is Content.ENCODED
    with (tmp_path / "opened").open("wb") as out:
        unseal_file(tmp_path / "sealed", out, key=coordinator, signer=north.public)
    assert (tmp_path / "opened").read_bytes() == data


def test_sealed_output_streams_and_refuses_a_wrong_length(
    tmp_path: Path, coordinator: PrivateIdentity, north: PrivateIdentity
) -> None:
    """The streaming writer that ``encode --to`` uses: the content written in pieces is
    sealed as it comes; more or less content than announced leaves no file at all."""
    target = tmp_path / "out.sealed"
    with sealed_output(target, 10, recipient=coordinator.public, signer=north,
                       content=Content.ENCODED) as sink:  # fmt: skip
        sink.write(b"01234")
        sink.write(memoryview(b"56789"))
    assert unseal_bytes(target.read_bytes(), key=coordinator, signer=north.public) == b"0123456789"
    for written in (b"short", b"far too long"):
        with pytest.raises(OutputError, match="content"):
            with sealed_output(tmp_path / "bad", 10, recipient=coordinator.public,
                               content=Content.ENCODED) as sink:  # fmt: skip
                sink.write(written)
        assert not (tmp_path / "bad").exists()
        assert [p.name for p in tmp_path.iterdir()] == ["out.sealed"]


def test_two_seals_of_the_same_content_differ(coordinator: PrivateIdentity) -> None:
    one = seal_bytes(b"same", recipient=coordinator.public, content=Content.RESULT)
    two = seal_bytes(b"same", recipient=coordinator.public, content=Content.RESULT)
    assert one[78:] != two[78:]  # fresh ephemeral key and nonce every time


def test_sealed_blk_reads_back_as_the_batch(
    tmp_path: Path, coordinator: PrivateIdentity, north: PrivateIdentity
) -> None:
    path = sealed_blk(tmp_path, "ngo_north", coordinator.public, north)
    assert is_sealed(path)
    batch = read_encoded(path, key=coordinator, agency_keys=registry(north))
    expected = batch_of("ngo_north")
    assert batch.agency == "ngo_north" and batch.record_ids == expected.record_ids
    assert np.array_equal(batch.filters, expected.filters)


# ------------------------------------------------------------------------- tampering, refused

REGIONS = {
    "magic": 0,
    "version": 8,
    "flags": 10,
    "content": 12,
    "sender": 14 + 31,
    "recipient": 46,
    "ephemeral": 78 + 5,
    "nonce": 110 + 11,
    "length": 122,
    "length-high": 129,
    "ciphertext-first": 130,
    "ciphertext-middle": 130 + 500,
    "ciphertext-last": 130 + 999,
    "tag": 130 + 1000 + 3,
    "signature-first": 130 + 1000 + 16,
    "signature-last": 130 + 1000 + 16 + 63,
}


@pytest.mark.parametrize("region", list(REGIONS))
@pytest.mark.parametrize("bit", [0, 7])
def test_a_changed_bit_anywhere_is_refused(
    region: str, bit: int, coordinator: PrivateIdentity, north: PrivateIdentity
) -> None:
    envelope = bytearray(
        seal_bytes(
            bytes(1000), recipient=coordinator.public, signer=north, content=Content.ENCODED
        )  # fmt: skip
    )
    envelope[REGIONS[region]] ^= 1 << bit
    with pytest.raises(EncodedFileError, match=r"^sealed\.blk: "):
        unseal_bytes(bytes(envelope), key=coordinator, signer=north.public,
                     content=Content.ENCODED, shown="sealed.blk")  # fmt: skip


@pytest.mark.parametrize("offset", [0, 10, 12, 14, 46, 80, 115, 125, 130, 700, 1129, 1135])
def test_a_changed_byte_of_an_unsigned_envelope_is_refused(
    offset: int, coordinator: PrivateIdentity
) -> None:
    envelope = bytearray(seal_bytes(bytes(1000), recipient=coordinator.public,
                                    content=Content.RESULT))  # fmt: skip
    envelope[offset] ^= 0x40
    with pytest.raises(EncodedFileError):
        unseal_bytes(bytes(envelope), key=coordinator, signer=None, content=Content.RESULT)


def test_every_truncation_and_any_appended_byte_is_refused(
    coordinator: PrivateIdentity, north: PrivateIdentity
) -> None:
    envelope = seal_bytes(b"x" * 300, recipient=coordinator.public, signer=north,
                          content=Content.RESULT)  # fmt: skip
    for length in range(len(envelope)):
        with pytest.raises(EncodedFileError, match="truncated|empty file|wrong magic"):
            unseal_bytes(envelope[:length], key=coordinator, signer=north.public)
    with pytest.raises(EncodedFileError, match="unexpected bytes after the end"):
        unseal_bytes(envelope + b"\0", key=coordinator, signer=north.public)


def test_a_truncated_file_names_the_file(
    tmp_path: Path, coordinator: PrivateIdentity, north: PrivateIdentity
) -> None:
    path = sealed_blk(tmp_path, "ngo_north", coordinator.public, north)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(EncodedFileError, match=rf"^{re.escape(str(path))}: is truncated"):
        read_encoded(path, key=coordinator, agency_keys=registry(north))


def test_a_re_signed_envelope_does_not_decrypt(
    coordinator: PrivateIdentity, north: PrivateIdentity, police: PrivateIdentity
) -> None:
    """Police strip the NGO's signature and sign the NGO's ciphertext as their own."""
    from Crypto.Hash import SHA512
    from Crypto.Signature import eddsa

    envelope = seal_bytes(b"ngo records", recipient=coordinator.public, signer=north,
                          content=Content.ENCODED)  # fmt: skip
    body = bytearray(envelope[:-SIGNATURE_BYTES])
    body[14:46] = police.public.fingerprint
    signature = eddsa.new(police.signing_key, "rfc8032", context=b"blindlink sealed v1").sign(
        SHA512.new(bytes(body))
    )
    forged = bytes(body) + signature
    with pytest.raises(EncodedFileError, match="integrity check"):
        unseal_bytes(forged, key=coordinator, signer=police.public)


def test_wrong_recipient_key_is_refused(
    coordinator: PrivateIdentity, north: PrivateIdentity, police: PrivateIdentity
) -> None:
    envelope = seal_bytes(b"for the coordinator", recipient=coordinator.public, signer=north,
                          content=Content.RESULT)  # fmt: skip
    with pytest.raises(EncodedFileError, match="sealed for another key"):
        unseal_bytes(envelope, key=police, signer=north.public)


def test_the_wrong_content_kind_is_refused(
    tmp_path: Path, coordinator: PrivateIdentity, north: PrivateIdentity
) -> None:
    path = tmp_path / "results.blk"
    path.write_bytes(seal_bytes(b"record_id,entity_id\n", recipient=coordinator.public,
                                signer=north, content=Content.RESULT))  # fmt: skip
    with pytest.raises(EncodedFileError, match="holds agency results, not an encoded file"):
        read_encoded(path, key=coordinator, agency_keys=registry(north))


# ------------------------------------------------------------------------- who may send what


def test_unknown_signer_is_refused(
    tmp_path: Path, coordinator: PrivateIdentity, north: PrivateIdentity, police: PrivateIdentity
) -> None:
    path = sealed_blk(tmp_path, "ngo_north", coordinator.public, north)
    with pytest.raises(EncodedFileError, match="signed by a key that is not registered"):
        read_encoded(path, key=coordinator, agency_keys=registry(police))


def test_a_signer_sending_another_agencys_records_is_refused(
    tmp_path: Path, coordinator: PrivateIdentity, north: PrivateIdentity, police: PrivateIdentity
) -> None:
    path = sealed_blk(tmp_path, "ngo_north", coordinator.public, police)
    with pytest.raises(EncodedFileError, match="holds the records of agency 'ngo_north'"):
        read_encoded(path, key=coordinator, agency_keys=registry(north, police))


def test_signed_file_without_registered_keys_is_refused(
    tmp_path: Path, coordinator: PrivateIdentity, north: PrivateIdentity
) -> None:
    path = sealed_blk(tmp_path, "ngo_north", coordinator.public, north)
    with pytest.raises(EncodedFileError, match="--agency-keys"):
        read_encoded(path, key=coordinator)


def test_with_registered_keys_unsigned_and_plain_files_are_refused(
    tmp_path: Path, coordinator: PrivateIdentity, north: PrivateIdentity
) -> None:
    unsigned = sealed_blk(tmp_path, "ngo_north", coordinator.public, None)
    with pytest.raises(EncodedFileError, match="is not signed"):
        read_encoded(unsigned, key=coordinator, agency_keys=registry(north))
    plain = tmp_path / "plain.blk"
    write_blk(plain, batch_of("ngo_north"))
    with pytest.raises(EncodedFileError, match="is not sealed and signed"):
        read_encoded(plain, key=coordinator, agency_keys=registry(north))


def test_simple_set_ups_accept_plain_and_unsigned_sealed_files(
    tmp_path: Path, coordinator: PrivateIdentity
) -> None:
    plain = tmp_path / "plain.blk"
    write_blk(plain, batch_of("ngo_north"))
    assert read_encoded(plain).record_ids == batch_of("ngo_north").record_ids
    unsigned = sealed_blk(tmp_path, "police_unit", coordinator.public, None)
    assert read_encoded(unsigned, key=coordinator).agency == "police_unit"


def test_sealed_file_without_the_coordinator_key_is_refused(
    tmp_path: Path, coordinator: PrivateIdentity
) -> None:
    path = sealed_blk(tmp_path, "ngo_north", coordinator.public, None)
    with pytest.raises(SecretError, match="--key"):
        read_encoded(path)


def test_a_damaged_blk_inside_a_valid_envelope_names_the_sealed_file(
    tmp_path: Path, coordinator: PrivateIdentity, north: PrivateIdentity
) -> None:
    plain = tmp_path / "ngo_north.plain"
    write_blk(plain, batch_of("ngo_north"))
    damaged = bytearray(plain.read_bytes())
    damaged[-1] ^= 1
    plain.write_bytes(bytes(damaged))
    seal_file(plain, tmp_path / "n.blk", recipient=coordinator.public, signer=north,
              content=Content.ENCODED)  # fmt: skip
    with pytest.raises(EncodedFileError) as caught:
        read_encoded(tmp_path / "n.blk", key=coordinator, agency_keys=registry(north))
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'n.blk'}: inside the envelope, the encoded file: ")
    assert "checksum" in message and "blindlink-" not in message


def test_open_sealed_writes_nothing_on_failure(
    tmp_path: Path, coordinator: PrivateIdentity, north: PrivateIdentity
) -> None:
    envelope = bytearray(seal_bytes(b"agency results", recipient=north.public,
                                    signer=coordinator, content=Content.RESULT))  # fmt: skip
    (tmp_path / "ok.sealed").write_bytes(bytes(envelope))
    open_sealed(tmp_path / "ok.sealed", tmp_path / "ok.csv", key=north, sender=coordinator.public)
    assert (tmp_path / "ok.csv").read_bytes() == b"agency results"
    assert stat.S_IMODE((tmp_path / "ok.csv").stat().st_mode) == 0o600
    envelope[140] ^= 1
    (tmp_path / "bad.sealed").write_bytes(bytes(envelope))
    with pytest.raises(EncodedFileError):
        open_sealed(tmp_path / "bad.sealed", tmp_path / "bad.csv", key=north,
                    sender=coordinator.public)  # fmt: skip
    with pytest.raises(EncodedFileError, match="no public key to check"):
        open_sealed(tmp_path / "ok.sealed", tmp_path / "bad.csv", key=north)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.sealed", "ok.csv", "ok.sealed"]


# ---------------------------------------------------------------------------------- key files


def test_key_files_round_trip_and_modes(tmp_path: Path, north: PrivateIdentity) -> None:
    private_path, public_path = write_identity(north, tmp_path)
    assert (private_path.name, public_path.name) == ("ngo_north.key", "ngo_north.pub")
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert read_public_key(public_path) == north.public
    again = read_private_key(private_path)
    assert again.public == north.public
    assert again.signing_key.seed == north.signing_key.seed
    document = json.loads(public_path.read_text())
    assert document["fingerprint"] == north.public.fingerprint_hex
    assert "PRIVATE" not in public_path.read_text()


def test_protected_key_needs_the_right_passphrase(tmp_path: Path, north: PrivateIdentity) -> None:
    private_path, _ = write_identity(north, tmp_path, passphrase=PASSPHRASE.encode())
    text = private_path.read_text()
    assert "ENCRYPTED PRIVATE KEY" in text and north.signing_key.seed.hex() not in text
    asked: list[int] = []

    def ask() -> bytes:
        asked.append(1)
        return PASSPHRASE.encode()

    assert read_private_key(private_path, ask).public == north.public
    assert asked == [1]
    with pytest.raises(SecretError, match=r"wrong passphrase") as caught:
        read_private_key(private_path, b"not the passphrase at all")
    assert "not the passphrase" not in str(caught.value)
    with pytest.raises(SecretError, match="protected by a passphrase"):
        read_private_key(private_path)


def test_an_unprotected_key_never_asks_for_a_passphrase(
    tmp_path: Path, north: PrivateIdentity
) -> None:
    private_path, _ = write_identity(north, tmp_path)

    def ask() -> bytes:
        raise AssertionError("asked")

    assert read_private_key(private_path, ask).name == "ngo_north"


def test_short_passphrase_is_refused(tmp_path: Path, north: PrivateIdentity) -> None:
    with pytest.raises(SecretError, match="too short"):
        write_identity(north, tmp_path, passphrase=b"short")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_private_key_readable_by_others_is_refused(
    mode: int, tmp_path: Path, north: PrivateIdentity
) -> None:
    private_path, _ = write_identity(north, tmp_path)
    private_path.chmod(mode)
    with pytest.raises(SecretError, match=r"can be read by other users; run 'chmod 600"):
        read_private_key(private_path)


def test_existing_keys_are_not_replaced_unasked(tmp_path: Path, north: PrivateIdentity) -> None:
    write_identity(north, tmp_path)
    other = generate_identity("ngo_north")
    with pytest.raises(OutputError, match="already exists"):
        write_identity(other, tmp_path)
    assert read_public_key(tmp_path / "ngo_north.pub") == north.public
    write_identity(other, tmp_path, overwrite=True)
    assert read_public_key(tmp_path / "ngo_north.pub") == other.public


def test_edited_or_swapped_key_files_are_refused(tmp_path: Path, north: PrivateIdentity) -> None:
    private_path, public_path = write_identity(north, tmp_path)
    document = json.loads(public_path.read_text())
    document["name"] = "police_unit"
    (tmp_path / "edited.pub").write_text(json.dumps(document))
    with pytest.raises(SecretError, match="fingerprint does not match"):
        read_public_key(tmp_path / "edited.pub")
    with pytest.raises(SecretError, match="is a private key file; give the public key"):
        read_public_key(private_path)
    with pytest.raises(SecretError, match="is a public key file"):
        read_private_key(public_path)
    (tmp_path / "junk.pub").write_bytes(b"\xff\x00junk")
    with pytest.raises(SecretError, match="not a blindlink key file"):
        read_public_key(tmp_path / "junk.pub")


def test_registry_rules(tmp_path: Path, north: PrivateIdentity, police: PrivateIdentity) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    with pytest.raises(SecretError, match="holds no public key files"):
        read_public_keys(keys)
    (tmp_path / "n").mkdir()
    (tmp_path / "p").mkdir()
    write_identity(north, tmp_path / "n")
    write_identity(police, tmp_path / "p")
    (keys / "ngo_north.pub").write_bytes((tmp_path / "n" / "ngo_north.pub").read_bytes())
    (keys / "police_unit.pub").write_bytes((tmp_path / "p" / "police_unit.pub").read_bytes())
    assert read_public_keys(keys) == registry(north, police)
    (keys / "hotline.pub").write_bytes((tmp_path / "p" / "police_unit.pub").read_bytes())
    with pytest.raises(SecretError, match=r"named after its party \(police_unit\.pub\)"):
        read_public_keys(keys)


def test_reprs_hold_no_key_material(north: PrivateIdentity) -> None:
    text = repr(north) + repr(north.public)
    assert north.signing_key.seed.hex() not in text and "seed" not in text
    assert north.public.sign_key.hex() not in text


def test_invalid_agency_name_for_an_identity_is_refused() -> None:
    with pytest.raises(InputError):
        generate_identity("../escape")


# --------------------------------------------------------------------------------------- CLI

HEADER = "record_id,given_name,family_name,date_of_birth,sex,nationality\n"
RECORDS = {
    "ngo_north": HEADER
    + "N1,Mohammed,Al-Hassan,1990-05-03,M,SYR\n"
    + "N2,Olena,Kovalenko,1998-11-20,F,UKR\n"
    + "N3,Bartholomew,Featherstonehaugh,1985-01-02,M,GBR\n",
    "police_unit": HEADER
    + "P-01,Mohammed,Al-Hassan,1990-05-03,M,SYR\n"
    + "P-02,Tesfaye,Mulugeta,2001-07-14,M,ETH\n"
    + "P-03,Olena,Kovalenko,1998-11-20,F,UKR\n",
}
NAMES = ["Mohammed", "Al-Hassan", "Olena", "Kovalenko", "Bartholomew", "Featherstonehaugh",
         "Tesfaye", "Mulugeta"]  # fmt: skip
LINKAGE_PASSPHRASE = "tangerine orchard under the bridge 42"


@pytest.fixture
def keyed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """Two agencies and a coordinator with keys; keys/ is the coordinator's registry."""
    for agency, text in RECORDS.items():
        (tmp_path / f"{agency}.csv").write_text(text, encoding="utf-8")
    for party in ("coordinator", *RECORDS):
        code, out, _ = run_cli(["keygen", "--identity", party, "--out", str(tmp_path / party)],
                           capsys)  # fmt: skip
        assert code == 0 and "fingerprint of" in out
    (tmp_path / "keys").mkdir()
    for agency in RECORDS:
        (tmp_path / "keys" / f"{agency}.pub").write_bytes(
            (tmp_path / agency / f"{agency}.pub").read_bytes()
        )
    return tmp_path


def encode_sealed(ws: Path, agency: str, capsys: pytest.CaptureFixture[str], *extra: str):
    return run_cli(
        [
            "encode", str(ws / f"{agency}.csv"), "--agency", agency,
            "--out", str(ws / f"{agency}.blk"), "--passphrase",
            "--to", str(ws / "coordinator" / "coordinator.pub"),
            "--sign-key", str(ws / agency / f"{agency}.key"), *extra,
        ],
        capsys,
    )  # fmt: skip


def link_sealed(ws: Path, capsys: pytest.CaptureFixture[str], *extra: str):
    return run_cli(
        [
            *extra, "link", str(ws / "ngo_north.blk"), str(ws / "police_unit.blk"),
            "--out", str(ws / "results"), "--seed", "1",
            "--key", str(ws / "coordinator" / "coordinator.key"),
            "--agency-keys", str(ws / "keys"), "--encrypt-results",
        ],
        capsys,
    )  # fmt: skip


def one_error_line(code: int, out: str, err: str, expected_code: int) -> str:
    assert code == expected_code, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("blindlink: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_cli_sealed_encode_link_and_open(
    keyed: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLINDLINK_SECRET", LINKAGE_PASSPHRASE)
    for agency in RECORDS:
        code, out, err = encode_sealed(keyed, agency, capsys)
        assert code == 0, err
        assert f"signed by '{agency}'" in out and "sealed for 'coordinator'" in out
        assert is_sealed(keyed / f"{agency}.blk")
    code, out, err = link_sealed(keyed, capsys)
    assert code == 0, err
    assert "sealed for its registered key (signed by 'coordinator'" in out
    agencies = sorted(p.name for p in (keyed / "results" / "agencies").iterdir())
    assert agencies == ["ngo_north.csv.sealed", "police_unit.csv.sealed"]
    opened = keyed / "north-results.csv"
    code, out, err = run_cli(
        ["open", str(keyed / "results" / "agencies" / "ngo_north.csv.sealed"),
         "--key", str(keyed / "ngo_north" / "ngo_north.key"),
         "--from", str(keyed / "coordinator" / "coordinator.pub"), "--out", str(opened)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    rows = opened.read_text().splitlines()
    assert rows[0].startswith("record_id,entity_id,known_elsewhere")
    assert sorted(r.split(",")[0] for r in rows[1:]) == ["N1", "N2", "N3"]
    # the police cannot open the NGO's results
    code, out, err = run_cli(
        ["open", str(keyed / "results" / "agencies" / "ngo_north.csv.sealed"),
         "--key", str(keyed / "police_unit" / "police_unit.key"),
         "--from", str(keyed / "coordinator" / "coordinator.pub"),
         "--out", str(keyed / "stolen.csv")],
        capsys,
    )  # fmt: skip
    line = one_error_line(code, out, err, 5)
    assert "sealed for another key" in line and not (keyed / "stolen.csv").exists()


def test_cli_refusals_are_one_line_with_their_exit_codes(
    keyed: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLINDLINK_SECRET", LINKAGE_PASSPHRASE)
    # the NGO's key cannot sign the police's file
    code, out, err = run_cli(
        ["encode", str(keyed / "police_unit.csv"), "--agency", "police_unit", "--passphrase",
         "--out", str(keyed / "police_unit.blk"),
         "--to", str(keyed / "coordinator" / "coordinator.pub"),
         "--sign-key", str(keyed / "ngo_north" / "ngo_north.key")],
        capsys,
    )  # fmt: skip
    assert "belongs to 'ngo_north'" in one_error_line(code, out, err, 7)
    assert not (keyed / "police_unit.blk").exists()
    # a private key given where the recipient's public key belongs
    code, out, err = run_cli(
        ["encode", str(keyed / "ngo_north.csv"), "--agency", "ngo_north", "--passphrase",
         "--out", str(keyed / "x.blk"), "--to", str(keyed / "coordinator" / "coordinator.key")],
        capsys,
    )  # fmt: skip
    assert "is a private key file" in one_error_line(code, out, err, 7)
    # signing without sealing
    code, out, err = run_cli(
        ["encode", str(keyed / "ngo_north.csv"), "--agency", "ngo_north", "--passphrase",
         "--out", str(keyed / "x.blk"), "--sign-key", str(keyed / "ngo_north" / "ngo_north.key")],
        capsys,
    )  # fmt: skip
    assert "--to" in one_error_line(code, out, err, 3)
    for agency in RECORDS:
        assert encode_sealed(keyed, agency, capsys)[0] == 0
    # a changed byte in a sealed file
    path = keyed / "police_unit.blk"
    data = bytearray(path.read_bytes())
    data[200] ^= 1
    path.write_bytes(bytes(data))
    line = one_error_line(*link_sealed(keyed, capsys), 5)
    assert line.startswith(f"blindlink: error: {path}: corrupted or modified")
    assert not (keyed / "results").exists()
    # an unknown signer
    (keyed / "keys" / "police_unit.pub").unlink()
    assert encode_sealed(keyed, "police_unit", capsys)[0] == 0
    line = one_error_line(*link_sealed(keyed, capsys), 5)
    assert "not registered" in line
    # signed files but no registry
    code, out, err = run_cli(
        ["link", str(keyed / "ngo_north.blk"), "--out", str(keyed / "results"),
         "--key", str(keyed / "coordinator" / "coordinator.key")],
        capsys,
    )  # fmt: skip
    assert "--agency-keys" in one_error_line(code, out, err, 5)
    # --encrypt-results without a registry
    code, out, err = run_cli(
        ["link", str(keyed / "ngo_north.blk"), "--out", str(keyed / "results"),
         "--encrypt-results"],
        capsys,
    )  # fmt: skip
    assert "--agency-keys" in one_error_line(code, out, err, 3)
    # a private key readable by others
    key = keyed / "coordinator" / "coordinator.key"
    key.chmod(0o644)
    code, out, err = run_cli(
        ["link", str(keyed / "ngo_north.blk"), "--out", str(keyed / "results"), "--key", str(key)],
        capsys,
    )  # fmt: skip
    assert "chmod 600" in one_error_line(code, out, err, 7)


def test_cli_keygen_identity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli(["keygen", "--identity", "hotline", "--out", str(tmp_path)], capsys)
    assert code == 0
    assert stat.S_IMODE((tmp_path / "hotline.key").stat().st_mode) == 0o600
    fingerprint = read_public_key(tmp_path / "hotline.pub").fingerprint_hex
    assert fingerprint[:4] + " " + fingerprint[4:8] in out
    code, out, err = run_cli(["keygen", "--identity", "hotline", "--out", str(tmp_path)], capsys)
    assert "already exists" in one_error_line(code, out, err, 8)
    code, out, err = run_cli(["fingerprint", str(tmp_path / "hotline.pub")], capsys)
    assert code == 0 and fingerprint[:4] in out
    # --protect without any source of a passphrase (no terminal in tests)
    monkeypatch.delenv("BLINDLINK_KEY_PASSPHRASE", raising=False)
    code, out, err = run_cli(
        ["keygen", "--identity", "hotline", "--out", str(tmp_path), "--protect", "--force"],
        capsys,
    )  # fmt: skip
    assert "BLINDLINK_KEY_PASSPHRASE" in one_error_line(code, out, err, 7)
    (tmp_path / "pass.txt").write_text(PASSPHRASE + "\n")
    code, out, err = run_cli(
        ["keygen", "--identity", "hotline", "--out", str(tmp_path), "--protect", "--force",
         "--key-passphrase-file", str(tmp_path / "pass.txt")],
        capsys,
    )  # fmt: skip
    assert code == 0 and "protected by a passphrase" in out
    assert read_private_key(tmp_path / "hotline.key", PASSPHRASE.encode()).name == "hotline"
    # the shared secret keygen still works as before
    code, out, err = run_cli(["keygen", "--out", str(tmp_path / "linkage.secret")], capsys)
    assert code == 0 and (tmp_path / "linkage.secret").read_text().strip()


def test_cli_convert_opens_a_sealed_blk_by_the_rules_of_link(
    keyed: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """convert --to anonlink-json takes a sealed .blk with the coordinator's key and the
    registry, and makes the JSON the plain file gives; without them it refuses in one line."""
    monkeypatch.setenv("BLINDLINK_SECRET", LINKAGE_PASSPHRASE)
    assert encode_sealed(keyed, "ngo_north", capsys)[0] == 0
    code, _, err = run_cli(
        ["encode", str(keyed / "ngo_north.csv"), "--agency", "ngo_north", "--passphrase",
         "--out", str(keyed / "plain.blk")],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    sealed, key = keyed / "ngo_north.blk", keyed / "coordinator" / "coordinator.key"
    convert = ["convert", str(sealed), "--to", "anonlink-json", "--out", str(keyed / "s.json")]
    code, out, err = run_cli([*convert, "--key", str(key), "--agency-keys", str(keyed / "keys")],
                         capsys)  # fmt: skip
    assert code == 0, err
    code, _, err = run_cli(
        ["convert", str(keyed / "plain.blk"), "--to", "anonlink-json", "--out",
         str(keyed / "p.json")],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    # encoding is deterministic: the sealed file holds exactly what the plain one does
    assert (keyed / "s.json").read_bytes() == (keyed / "p.json").read_bytes()
    line = one_error_line(*run_cli(convert, capsys), 7)
    assert "is sealed" in line and "--key" in line
    line = one_error_line(*run_cli([*convert, "--key", str(key)], capsys), 5)
    assert "--agency-keys" in line
    line = one_error_line(
        *run_cli(["convert", str(keyed / "s.json"), "--to", "blk", "--agency", "ngo_north",
              "--out", str(keyed / "x.blk"), "--key", str(key)], capsys),
        3,
    )  # fmt: skip
    assert "never sealed" in line and not (keyed / "x.blk").exists()


def test_cli_audit_of_a_sealed_file_says_to_audit_the_plain_one(
    keyed: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLINDLINK_SECRET", LINKAGE_PASSPHRASE)
    assert encode_sealed(keyed, "ngo_north", capsys)[0] == 0
    (keyed / "names.csv").write_text("name,count\nOlena,10\n", encoding="utf-8")
    code, out, err = run_cli(
        ["audit", str(keyed / "ngo_north.blk"), "--names", str(keyed / "names.csv")], capsys
    )
    line = one_error_line(code, out, err, 5)
    assert line.startswith(f"blindlink: error: {keyed / 'ngo_north.blk'}: is sealed")
    assert "audit the plain .blk file before sealing it" in line


def _forbidden(ws: Path) -> dict[str, list[bytes]]:
    """Every secret of the run, in every form it could leak in."""
    forbidden: dict[str, list[bytes]] = {}
    secret = secret_from_passphrase(LINKAGE_PASSPHRASE.encode())
    forbidden["linkage passphrase"] = [LINKAGE_PASSPHRASE.encode()]
    forbidden["linkage secret"] = [secret, bytes.fromhex(secret.decode())]
    forbidden["key passphrase"] = [PASSPHRASE.encode()]
    for party in ("coordinator", *RECORDS):
        path = ws / party / f"{party}.key"
        identity = read_private_key(path, PASSPHRASE.encode())
        private = forbidden.setdefault(f"{party} private key", [])
        for key in (identity.signing_key, identity.decryption_key):
            seed = bytes(key.seed)
            private += [
                seed, seed.hex().encode(), seed.hex().upper().encode(),
                base64.b64encode(seed), str(key.d).encode(),
            ]  # fmt: skip
            pem = str(key.export_key(format="PEM"))
            private += [ln.encode() for ln in pem.splitlines() if not ln.startswith("-----")]
        document = json.loads(path.read_text())
        for field in ("ed25519", "x25519"):
            body = [ln for ln in document[field].splitlines() if not ln.startswith("-----")]
            private += [ln.encode() for ln in body if len(ln) >= 16]
    forbidden["record values"] = [name.encode() for name in NAMES]
    forbidden["record values"] += [name.upper().encode() for name in NAMES]
    return forbidden


def test_no_secret_key_or_record_value_reaches_any_output(
    keyed: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full run through the CLI, successes and forced errors with --debug tracebacks: no
    output file, stdout or stderr holds the secret, a passphrase, a private key (raw, hex,
    base64, integer, PEM body) or a record's name. Outputs include public.json, report.html
    (with matplotlib), a sealed file converted to anonlink JSON, and the agency's audit of
    its plain file with --truth (what it prints; it writes nothing)."""
    # protect every private key with the passphrase
    for party in ("coordinator", *RECORDS):
        (keyed / party / f"{party}.key").unlink()
        (keyed / party / f"{party}.pub").unlink()
    (keyed / "pass.txt").write_text(PASSPHRASE + "\n")
    (keyed / "pass.txt").chmod(0o600)
    for party in ("coordinator", *RECORDS):
        code, _, err = run_cli(
            ["keygen", "--identity", party, "--out", str(keyed / party), "--protect",
             "--key-passphrase-file", str(keyed / "pass.txt")],
            capsys,
        )  # fmt: skip
        assert code == 0, err
    for agency in RECORDS:
        (keyed / "keys" / f"{agency}.pub").write_bytes(
            (keyed / agency / f"{agency}.pub").read_bytes()
        )
    monkeypatch.setenv("BLINDLINK_SECRET", LINKAGE_PASSPHRASE)
    monkeypatch.setenv("BLINDLINK_KEY_PASSPHRASE", PASSPHRASE)
    transcript: list[str] = []

    def record(result: tuple[int, str, str]) -> int:
        transcript.extend(result[1:])
        return result[0]

    for agency in RECORDS:
        assert record(encode_sealed(keyed, agency, capsys)) == 0
    assert record(link_sealed(keyed, capsys, "--debug")) == 0
    code = record(run_cli(
        ["open", str(keyed / "results" / "agencies" / "ngo_north.csv.sealed"),
         "--key", str(keyed / "ngo_north" / "ngo_north.key"),
         "--from", str(keyed / "coordinator" / "coordinator.pub"),
         "--out", str(keyed / "opened.csv")],
        capsys,
    ))  # fmt: skip
    assert code == 0
    # what else reads or writes the run's files: the report, convert, the agency's audit
    written = {"ngo_north.blk", "police_unit.blk", "clusters.csv", "stats.json", "public.json",
               "opened.csv", "north.json", "plain.blk"}  # fmt: skip
    if importlib.util.find_spec("matplotlib") is not None:
        assert record(run_cli(["report", str(keyed / "results")], capsys)) == 0
        written.add("report.html")
    code = record(run_cli(
        ["convert", str(keyed / "ngo_north.blk"), "--to", "anonlink-json",
         "--out", str(keyed / "north.json"), "--agency-keys", str(keyed / "keys"),
         "--key", str(keyed / "coordinator" / "coordinator.key")],
        capsys,
    ))  # fmt: skip
    assert code == 0
    code = record(run_cli(
        ["encode", str(keyed / "ngo_north.csv"), "--agency", "ngo_north", "--passphrase",
         "--out", str(keyed / "plain.blk")],
        capsys,
    ))  # fmt: skip
    assert code == 0
    names = "name,count,field\n" + "".join(f"{n},{10 + i},\n" for i, n in enumerate(NAMES))
    (keyed / "names.csv").write_text(names, encoding="utf-8")
    audit = ["audit", str(keyed / "plain.blk"), "--names", str(keyed / "names.csv"),
             "--truth", str(keyed / "ngo_north.csv")]  # fmt: skip
    assert record(run_cli(audit, capsys)) == 0
    assert record(run_cli([*audit, "--json"], capsys)) == 0
    assert '"records_reidentified"' in transcript[-2]  # the audit's numbers are in the search
    audit[1] = str(keyed / "ngo_north.blk")
    assert record(run_cli(["--debug", *audit], capsys)) == 5  # sealed: audit the plain file
    # forced errors, with tracebacks
    monkeypatch.setenv("BLINDLINK_KEY_PASSPHRASE", "a wrong passphrase, long enough")
    assert record(encode_sealed(keyed, "ngo_north", capsys, "--debug")) == 7
    monkeypatch.setenv("BLINDLINK_KEY_PASSPHRASE", PASSPHRASE)
    sealed = keyed / "police_unit.blk"
    data = bytearray(sealed.read_bytes())
    data[HEADER_BYTES + 3] ^= 1
    (keyed / "tampered.blk").write_bytes(bytes(data))
    code = record(run_cli(
        ["--debug", "link", str(keyed / "ngo_north.blk"), str(keyed / "tampered.blk"),
         "--out", str(keyed / "results2"), "--key", str(keyed / "coordinator" / "coordinator.key"),
         "--agency-keys", str(keyed / "keys")],
        capsys,
    ))  # fmt: skip
    assert code == 5
    assert any("Traceback" in text for text in transcript)  # --debug did show tracebacks

    inputs = {keyed / f"{a}.csv" for a in RECORDS} | {keyed / "pass.txt", keyed / "names.csv"}
    inputs |= {keyed / party / f"{party}.key" for party in ("coordinator", *RECORDS)}
    outputs = [p for p in keyed.rglob("*") if p.is_file() and p not in inputs]
    assert {p.name for p in outputs} >= written | {"ngo_north.csv.sealed"}
    assert not [p for p in keyed.rglob("*") if ".plain." in p.name]  # no plaintext left behind
    forbidden = _forbidden(keyed)
    # the search is not vacuous: the inputs do hold the names and the stored private keys
    given = b"".join(p.read_bytes() for p in inputs)
    assert all(value in given for value in forbidden["record values"][: len(NAMES)])
    assert sum(value in given for value in forbidden["coordinator private key"]) >= 4
    texts = [(f"output {p.relative_to(keyed)}", p.read_bytes()) for p in outputs]
    texts += [(f"console output {i}", text.encode("utf-8")) for i, text in enumerate(transcript)]
    for what, values in forbidden.items():
        for value in values:
            for where, content in texts:
                assert value not in content, f"{what} found in {where}"
    # the opened results hold the agency's own record ids and nothing else
    opened = (keyed / "opened.csv").read_text()
    assert "N1" in opened and "P-01" not in opened
