"""The ``blindlink`` command: argument parsing, secrets, progress and exit codes.

This is the only module that prints or reads the environment. Every blindlink error becomes
one line on standard error and its class's exit code; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from blindlink import __version__
from blindlink.backends import open_backend
from blindlink.encoding.encoder import EncodeReport
from blindlink.encoding.keys import secret_from_passphrase
from blindlink.errors import BlindlinkError, InputError, SecretError
from blindlink.io.identity import (
    PrivateIdentity,
    generate_identity,
    read_private_key,
    read_public_key,
    read_public_keys,
    write_identity,
)
from blindlink.io.secret_file import read_secret_file, secret_file_is_private, write_secret_file
from blindlink.pipeline.encode import encode_file, load_any_schema
from blindlink.pipeline.exchange import SEALED_SUFFIX, open_sealed
from blindlink.pipeline.field_scoring import Scoring
from blindlink.pipeline.link import (
    DEFAULT_THRESHOLD,
    Blocking,
    LinkResult,
    link_files,
    parse_threshold,
)
from blindlink.schema import default_schema, load_schema
from blindlink.stats.disclosure import DEFAULT_MIN_CELL, DisclosureSettings

if TYPE_CHECKING:
    from blindlink.stats.sensitivity import ThresholdEstimate

app = typer.Typer(
    name="blindlink",
    help="Privacy-preserving record linkage between agencies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
_state = {"debug": False}


P = ParamSpec("P")
R = TypeVar("R")

#: Control characters (C0, DEL, C1, line and paragraph separators) shown escaped in messages.
_CONTROLS = {c: repr(chr(c))[1:-1] for c in (*range(32), *range(127, 160), 0x2028, 0x2029)}


def _one_line(text: str) -> str:
    """``text`` as one printable line: control characters (a file name with a line break, a
    terminal escape) and undecodable bytes (lone surrogates) shown as escapes."""
    text = text.translate(_CONTROLS)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _reporting_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn every failure of ``command`` into one line on stderr and its exit code."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except BlindlinkError as exc:
            if _state["debug"]:
                traceback.print_exc()
            err.print(f"blindlink: error: {_one_line(str(exc))}", markup=False, emoji=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("blindlink: interrupted; nothing was written")
            raise typer.Exit(130) from None
        except Exception as exc:  # the last line of defence before a raw traceback
            if _state["debug"]:
                traceback.print_exc()
            err.print(
                f"blindlink: internal error ({type(exc).__name__}); rerun with --debug for details",
                markup=False,
            )
            raise typer.Exit(1) from None

    return run


def _version(value: bool) -> None:
    if value:
        out.print(f"blindlink {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    _state["debug"] = _state["debug"] or debug


@contextmanager
def _progress(description: str) -> Iterator[Progress]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        yield progress


SECRET_FILE_VARIABLE = "BLINDLINK_SECRET_FILE"
SECRET_VARIABLE = "BLINDLINK_SECRET"


def _load_secret(path: Path | None, *, passphrase: bool) -> bytes:
    """The secret from --secret-file, $BLINDLINK_SECRET_FILE, $BLINDLINK_SECRET or a prompt.

    Never from a command-line value: those end up in shell histories and process lists.
    With ``passphrase`` the text is a passphrase and the secret is derived from it (scrypt).
    """
    if path is None and os.environ.get(SECRET_FILE_VARIABLE):
        path = Path(os.environ[SECRET_FILE_VARIABLE])
    if path is not None:
        secret = read_secret_file(path)
        if not secret_file_is_private(path):
            err.print(
                f"blindlink: warning: {path} can be read by other users; run 'chmod 600 {path}'"
            )
    elif os.environ.get(SECRET_VARIABLE):
        secret = os.environ[SECRET_VARIABLE].encode("utf-8")
    elif sys.stdin.isatty():
        prompt = "shared passphrase" if passphrase else "shared linkage secret"
        secret = typer.prompt(prompt, hide_input=True).encode("utf-8")
    else:
        raise SecretError(
            f"no secret given: use --secret-file, or set {SECRET_FILE_VARIABLE} or "
            f"{SECRET_VARIABLE}"
        )
    return secret_from_passphrase(secret) if passphrase else secret


KEY_PASSPHRASE_VARIABLE = "BLINDLINK_KEY_PASSPHRASE"
KeyPassphraseFile = Annotated[
    Path | None,
    typer.Option(
        "--key-passphrase-file",
        help=f"File holding the private key's passphrase (else ${KEY_PASSPHRASE_VARIABLE} or "
        "a prompt).",
    ),
]


def _key_passphrase(source: Path | None, key_path: Path, *, confirm: bool = False) -> bytes:
    """The passphrase of a private key file, from a file, the environment or a prompt --
    never from a command-line value."""
    if source is not None:
        return read_secret_file(source)
    if os.environ.get(KEY_PASSPHRASE_VARIABLE):
        return os.environ[KEY_PASSPHRASE_VARIABLE].encode("utf-8")
    if sys.stdin.isatty():
        text = typer.prompt(
            f"passphrase for {key_path}", hide_input=True, confirmation_prompt=confirm
        )
        return str(text).encode("utf-8")
    raise SecretError(
        f"{key_path}: needs its passphrase: use --key-passphrase-file or set "
        f"{KEY_PASSPHRASE_VARIABLE}"
    )


def _private_key(path: Path, passphrase_file: Path | None) -> PrivateIdentity:
    """Read a private key file; its passphrase is asked for only if it has one."""
    return read_private_key(path, lambda: _key_passphrase(passphrase_file, path))


def _reference_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--reference-date must be a date as YYYY-MM-DD, not {text!r}") from None


def _grouped(fingerprint: str) -> str:
    return " ".join(fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4))


@app.command()
@_reporting_errors
def keygen(
    out_path: Annotated[
        Path,
        typer.Option(
            "--out", help="Where to write the new secret (with --identity: a folder for the keys)."
        ),
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    identity: Annotated[
        str | None,
        typer.Option(
            "--identity",
            help="Make an identity key pair for this party (agency name, or e.g. coordinator): "
            "NAME.key (private, mode 0600) and NAME.pub (to hand out).",
        ),
    ] = None,
    protect: Annotated[
        bool,
        typer.Option("--protect", help="With --identity: encrypt the private key (passphrase)."),
    ] = False,
    key_passphrase_file: KeyPassphraseFile = None,
) -> None:
    """Write a new random 256-bit linkage secret (mode 0600), or an identity key pair.

    Share the secret among the agencies out of band; never give it to the coordinator.
    An identity key pair signs what a party sends and lets others encrypt to it.
    """
    if identity is None:
        if protect:
            raise InputError("--protect applies to identity keys: add --identity NAME")
        write_secret_file(out_path, overwrite=force)
        out.print(f"wrote a new 256-bit linkage secret to {out_path} (readable by you only)")
        return
    if out_path.exists() and not out_path.is_dir():
        raise InputError(f"{out_path}: with --identity, --out names a folder for the key files")
    keys = generate_identity(identity)
    passphrase = None
    if protect:
        passphrase = _key_passphrase(key_passphrase_file, out_path / f"{identity}.key",
                                     confirm=True)  # fmt: skip
    out_path.mkdir(parents=True, exist_ok=True)
    private_path, public_path = write_identity(keys, out_path, passphrase=passphrase,
                                               overwrite=force)  # fmt: skip
    out.print(
        f"wrote the private key {private_path} (readable by you only"
        f"{', protected by a passphrase' if protect else ''}; never share it) and the public "
        f"key {public_path} (hand it out)"
    )
    out.print(f"fingerprint of {identity}: {_grouped(keys.public.fingerprint_hex)}")


@app.command()
@_reporting_errors
def fingerprint(
    key_file: Annotated[Path, typer.Argument(help="A public key file (.pub).")],
) -> None:
    """Show whose key a public key file holds, and its fingerprint to compare by phone."""
    public = read_public_key(key_file)
    out.print(f"{key_file}: {public.name}, fingerprint {_grouped(public.fingerprint_hex)}")


@app.command()
@_reporting_errors
def encode(
    input_csv: Annotated[
        Path,
        typer.Argument(
            help="UTF-8 CSV of case records, with a header; comma-, semicolon- or tab-separated."
        ),
    ],
    agency: Annotated[str, typer.Option("--agency", help="Your agency's short name.")],
    out_path: Annotated[Path, typer.Option("--out", help="The encoded file to write (.blk).")],
    secret_file: Annotated[
        Path | None,
        typer.Option(
            "--secret-file",
            help="The shared secret (else $BLINDLINK_SECRET_FILE, $BLINDLINK_SECRET or a prompt).",
        ),
    ] = None,
    passphrase: Annotated[
        bool,
        typer.Option(
            "--passphrase", help="The secret is a passphrase: derive the key from it (scrypt)."
        ),
    ] = False,
    schema_path: Annotated[
        Path | None, typer.Option("--schema", help="Linkage schema JSON (default: built-in).")
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            "--id-column",
            help="Column of record ids (default: record_id; with a clkhash schema, its first "
            "ignored feature, e.g. rec_id).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Processes encoding in parallel (default: automatic, all cores for large files).",
        ),
    ] = None,
    to: Annotated[
        Path | None,
        typer.Option(
            "--to", help="Seal the file for this public key (the coordinator's .pub file)."
        ),
    ] = None,
    sign_key: Annotated[
        Path | None,
        typer.Option("--sign-key", help="Sign the sealed file with your agency's private key."),
    ] = None,
    key_passphrase_file: KeyPassphraseFile = None,
    reference_date: Annotated[
        str | None,
        typer.Option(
            "--reference-date",
            help="Day (YYYY-MM-DD) age bands count ages to, unless the schema fixes it "
            "(default: today); agree on one with the other agencies.",
        ),
    ] = None,
    blocking_keys: Annotated[
        bool,
        typer.Option(
            "--blocking-keys/--no-blocking-keys",
            help="Also send the schema's keyed blocking keys, for 'link --blocking keys' on "
            "large caseloads (off by default: they show the coordinator which records agree "
            "on them, docs/privacy.md).",
        ),
    ] = False,
) -> None:
    """Encode case records into keyed Bloom filters, to send to the coordinator."""
    reference_day = _reference_day(reference_date)
    schema = load_any_schema(schema_path) if schema_path else default_schema()
    if sign_key is not None and to is None:
        raise InputError("--sign-key signs a sealed file: add --to with the coordinator's .pub")
    recipient = read_public_key(to) if to is not None else None
    signer = _private_key(sign_key, key_passphrase_file) if sign_key is not None else None
    secret = _load_secret(secret_file, passphrase=passphrase)
    report = EncodeReport()
    with _progress(f"encoding {input_csv.name}") as progress:
        task = progress.add_task(f"encoding {input_csv.name}", total=None)
        batch = encode_file(
            input_csv,
            out_path,
            secret=secret,
            agency=agency,
            schema=schema,
            id_column=id_column,
            report=report,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            workers=workers,
            recipient=recipient,
            signer=signer,
            reference_date=reference_day,
            blocking_keys=blocking_keys,
        )
    out.print(
        f"encoded {len(batch):,} records of agency {agency} to {out_path} "
        f"(schema {batch.schema_fingerprint[:12]}, key check {batch.key_check[:12]})"
    )
    if recipient is not None:
        signed = f", signed by {signer.public.short}" if signer is not None else ", not signed"
        out.print(f"  sealed for {recipient.short}{signed}")
    if batch.attributes is not None:
        sent = ", ".join(
            column.name + (f" (ages on {column.reference_date})" if column.reference_date else "")
            for column in batch.attributes.columns
        )
        out.print(f"  sent in the clear, coarsened, for counting: {sent}")
    if batch.blocking_keys is not None:
        out.print(
            "  keyed blocking keys (the coordinator sees which records agree, not on what): "
            + ", ".join(batch.blocking_keys.names)
        )
    for name, counts in report.fields.items():
        if counts.invalid:
            out.print(
                f"  {name}: {counts.invalid:,} values not in the expected form were treated "
                "as missing"
            )
        if counts.missing == report.records:
            out.print(f"  {name}: empty in every record")


def _print_summary(result: LinkResult) -> None:
    stats = result.statistics
    out.print(
        f"{stats['records']['total']:,} records from {len(result.agencies)} "
        f"agenc{'y' if len(result.agencies) == 1 else 'ies'} -> "
        f"{stats['unique_persons']:,} unique persons (threshold {result.threshold:.3f})"
    )
    linkage = stats["linkage"]
    if "estimated_precision" in linkage:
        out.print(
            f"estimated without labels: precision {linkage['estimated_precision']:.3f}, "
            f"recall {linkage['estimated_recall']:.3f} (score-mixture model)"
        )
    table = Table(title="Persons by combination of agencies", title_justify="left")
    table.add_column("agencies")
    table.add_column("persons", justify="right")
    for row in stats["persons_by_agency_combination"]:
        table.add_row(" + ".join(row["agencies"]), f"{row['persons']:,}")
    out.print(table)
    dup = ", ".join(f"{a} {n:,}" for a, n in stats["duplicates_within_agency"].items())
    out.print(f"duplicate records within agencies: {dup}")


@app.command()
@_reporting_errors
def link(
    encoded: Annotated[list[Path], typer.Argument(help="Encoded files (.blk), one per agency.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Results folder to write.")],
    threshold: Annotated[
        str,
        typer.Option(
            "--threshold",
            help="Link score for a match (0-1); 'auto' fits it to the score distribution; "
            f"'default' is {DEFAULT_THRESHOLD} at every caseload size.",
        ),
    ] = "default",
    solver: Annotated[
        str,
        typer.Option(
            "--solver", help="multiparty (any number of agencies), greedy or optimal (1-to-1)."
        ),
    ] = "multiparty",
    seed: Annotated[
        int | None, typer.Option("--seed", help="Make the random entity IDs reproducible.")
    ] = None,
    blocking: Annotated[
        str,
        typer.Option(
            "--blocking",
            help="auto (one pass up to 200,000 records, else two bounded passes), exact, "
            "bounded, lsh, or keys (only records sharing a blocking key the agencies "
            "encoded; the schema must define blocking_keys).",
        ),
    ] = "auto",
    name_other_agencies: Annotated[
        bool,
        typer.Option(
            "--name-other-agencies",
            help="Tell each agency which other agencies know its persons (off by default).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print nothing on success.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a machine-readable summary (JSON) instead.")
    ] = False,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key", help="The coordinator's private key: opens sealed files, signs results."
        ),
    ] = None,
    agency_keys: Annotated[
        Path | None,
        typer.Option(
            "--agency-keys",
            help="Folder of registered agency public keys (<agency>.pub): every file must then "
            "be sealed and signed by its agency.",
        ),
    ] = None,
    encrypt_results: Annotated[
        bool,
        typer.Option(
            "--encrypt-results",
            help="Seal each agencies/<agency>.csv for that agency's key (needs --agency-keys).",
        ),
    ] = False,
    key_passphrase_file: KeyPassphraseFile = None,
    min_cell: Annotated[
        int,
        typer.Option(
            "--min-cell",
            min=1,
            help="public.json withholds counts below this (and enough others that they cannot "
            "be worked out).",
        ),
    ] = DEFAULT_MIN_CELL,
    dp_epsilon: Annotated[
        float | None,
        typer.Option(
            "--dp-epsilon",
            help="Add differentially private noise (OpenDP) to public.json's counts with this "
            "privacy budget; needs the 'dp' extra.",
        ),
    ] = None,
    dp_delta: Annotated[
        float,
        typer.Option("--dp-delta", help="With --dp-epsilon: (epsilon, delta)-DP; 0 is pure DP."),
    ] = 0.0,
    scoring: Annotated[
        str,
        typer.Option(
            "--scoring",
            help="record (Dice of whole records) or fields (field by field, Fellegi-Sunter; "
            "needs --schema and a field_bloom schema; the threshold is then a probability).",
        ),
    ] = "record",
    link_schema: Annotated[
        Path | None,
        typer.Option(
            "--schema", help="The linkage schema the files were encoded with (for --scoring)."
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            help="Where the candidate search runs: local (this process, the default) or dask "
            "(a cluster: --scheduler, or a local one). Same results either way.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Address of a running Dask scheduler (tcp://HOST:8786, tls://...); implies "
            "--backend dask.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Without --scheduler: worker processes of the local Dask cluster (default: one "
            "per core), or tiles at a time with --backend local.",
        ),
    ] = None,
    worker_memory: Annotated[
        str | None,
        typer.Option(
            "--worker-memory",
            help="Without --scheduler: memory limit per local Dask worker (e.g. 4GB); tiles "
            "are sized to fit.",
        ),
    ] = None,
    tile_rows: Annotated[
        int | None,
        typer.Option(
            "--tile-rows",
            min=1,
            help="Records per side of a tile of the candidate search (default: sized from the "
            "workers' memory). Never changes a result.",
        ),
    ] = None,
) -> None:
    """Link encoded files: duplicates within agencies and persons across them."""
    backend_name = backend or ("dask" if scheduler is not None else "local")
    chosen_backend = (
        open_backend(
            backend_name,
            scheduler=scheduler,
            workers=workers,
            worker_memory=worker_memory,
            tile_rows=tile_rows,
        )
        if any(v is not None for v in (backend, scheduler, workers, worker_memory, tile_rows))
        else None
    )
    disclosure = DisclosureSettings(min_cell=min_cell, epsilon=dp_epsilon, delta=dp_delta)
    if encrypt_results and agency_keys is None:
        raise InputError("--encrypt-results needs the agencies' public keys: add --agency-keys")
    registry = read_public_keys(agency_keys) if agency_keys is not None else None
    identity = _private_key(key, key_passphrase_file) if key is not None else None
    with (
        chosen_backend if chosen_backend is not None else nullcontext(),
        err.status("linking", spinner="dots")
        if err.is_terminal and not quiet
        else nullcontext() as status,
    ):
        result = link_files(
            encoded,
            out_dir,
            threshold=parse_threshold(threshold),
            solver=solver,
            blocking=cast(Blocking, blocking),
            seed=seed,
            progress=(lambda stage: status.update(stage)) if status is not None else None,
            name_other_agencies=name_other_agencies,
            key=identity,
            agency_keys=registry,
            encrypt_results=encrypt_results,
            disclosure=disclosure,
            scoring=cast(Scoring, scoring),
            schema=load_schema(link_schema) if link_schema is not None else None,
            backend=chosen_backend,
        )
    fallback = result.statistics["linkage"].get("scoring", {}).get("fallback_reason")
    if fallback:
        err.print(f"warning: scored whole records, not fields: {fallback}")
    if quiet:
        return
    agency_file = "{}.csv" + (SEALED_SUFFIX if encrypt_results else "")
    if as_json:
        summary = {
            "results": str(out_dir),
            "files": {
                "clusters": str(out_dir / "clusters.csv"),
                "links": str(out_dir / "links.csv"),
                "stats": str(out_dir / "stats.json"),
                "public": str(out_dir / "public.json"),
                "agencies": {
                    a: str(out_dir / "agencies" / agency_file.format(a)) for a in result.agencies
                },
            },
            "statistics": result.statistics,
        }
        out.print_json(data=summary)
        return
    _print_summary(result)
    out.print(
        f"wrote {out_dir}/clusters.csv, {out_dir}/links.csv (coordinator only), "
        f"{out_dir}/agencies/{agency_file.format('<agency>')}, {out_dir}/stats.json "
        f"(coordinator only), {out_dir}/public.json (publishable: counts below {min_cell} "
        "withheld" + (f", DP noise epsilon {dp_epsilon}" if dp_epsilon is not None else "") + ")"
    )
    if encrypt_results:
        signed = f"signed by {identity.public.short}" if identity is not None else "not signed"
        out.print(
            f"each agency's results are sealed for its registered key ({signed}); the agency "
            "opens its file with 'blindlink open'"
        )


@app.command("open")
@_reporting_errors
def open_command(
    sealed: Annotated[Path, typer.Argument(help="A sealed file (e.g. your agency's results).")],
    key: Annotated[Path, typer.Option("--key", help="Your private key file.")],
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the opened content.")],
    sender: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Public key of who must have signed it (e.g. coordinator.pub); needed for a "
            "signed file.",
        ),
    ] = None,
    key_passphrase_file: KeyPassphraseFile = None,
) -> None:
    """Decrypt and check a sealed file sent to you (written with mode 0600)."""
    signer = read_public_key(sender) if sender is not None else None
    identity = _private_key(key, key_passphrase_file)
    header = open_sealed(sealed, out_path, key=identity, sender=signer)
    origin = f"signed by {signer.short}" if signer is not None else "not signed: sender unknown"
    out.print(f"opened {sealed} ({header.content.text}, {origin}) to {out_path}")


@app.command()
@_reporting_errors
def convert(
    source: Annotated[Path, typer.Argument(help="A .blk file or an anonlink JSON file.")],
    to: Annotated[str, typer.Option("--to", help="anonlink-json or blk.")],
    out_path: Annotated[Path, typer.Option("--out", help="The file to write.")],
    agency: Annotated[
        str | None, typer.Option("--agency", help="Agency name for a .blk made from JSON.")
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option("--key", help="The coordinator's private key, to open a sealed .blk file."),
    ] = None,
    agency_keys: Annotated[
        Path | None,
        typer.Option(
            "--agency-keys",
            help="Folder of registered agency public keys (<agency>.pub), to check a sealed "
            "file's signature.",
        ),
    ] = None,
    key_passphrase_file: KeyPassphraseFile = None,
) -> None:
    """Convert encodings between blindlink's .blk and anonlink's JSON upload format.

    A sealed .blk file is opened by the rules of 'link' (--key, --agency-keys); the JSON
    written is not sealed.
    """
    from blindlink.io.anonlink_json import read_anonlink_json, write_anonlink_json
    from blindlink.io.blk import write_blk
    from blindlink.pipeline.exchange import read_encoded

    if to == "anonlink-json":
        registry = read_public_keys(agency_keys) if agency_keys is not None else None
        identity = _private_key(key, key_passphrase_file) if key is not None else None
        batch = read_encoded(source, key=identity, agency_keys=registry)
        write_anonlink_json(out_path, batch)
    elif to == "blk":
        if key is not None or agency_keys is not None:
            raise InputError("--key and --agency-keys open sealed .blk files; with --to blk "
                             "the source is anonlink JSON, which is never sealed")  # fmt: skip
        if not agency:
            raise InputError("--agency is needed to make a .blk file from anonlink JSON")
        batch = read_anonlink_json(source, agency=agency)
        write_blk(out_path, batch)
    else:
        raise InputError(f"--to must be 'anonlink-json' or 'blk', not {to!r}")
    out.print(f"wrote {len(batch):,} encodings to {out_path}")


@app.command()
@_reporting_errors
def estimate(
    source: Annotated[
        Path, typer.Argument(help="A run's stats.json, or a capture-history CSV (0/1 + count).")
    ],
    method: Annotated[
        str,
        typer.Option("--method", help="main-effects, stepwise-aic, stepwise-pvalue or bic."),
    ] = "stepwise-aic",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Estimate the hidden total (multiple systems estimation) from capture histories."""
    import json

    from blindlink.stats.mse import estimate as mse_estimate
    from blindlink.stats.mse import from_stats, read_capture_csv
    from blindlink.stats.sensitivity import threshold_sensitivity

    sensitivity: list[ThresholdEstimate] = []
    if source.suffix.lower() == ".json":
        try:
            stats = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{source}: not a readable stats.json ({type(exc).__name__})") from exc
        histories = from_stats(stats)
        sensitivity = threshold_sensitivity(stats, method)
    else:
        histories = read_capture_csv(source)
    result = mse_estimate(histories, method)
    if as_json:
        data = result.to_dict()
        if sensitivity:
            data["threshold_sensitivity"] = [point.to_dict() for point in sensitivity]
        out.print_json(data=data)
        return
    low, high = result.ci95
    terms = ", ".join(f"{a}:{b}" for a, b in result.interactions) or "none"
    out.print(
        f"{result.observed:,} persons observed on {len(result.lists)} lists; estimated total "
        f"{result.estimate:,.0f} (95% CI {low:,.0f} to {high:,.0f}), "
        f"{result.unobserved:,.0f} never registered"
    )
    out.print(f"method {result.method}; interactions: {terms}")
    for warning in result.warnings:
        out.print(f"warning: {warning}")
    if sensitivity:
        _print_sensitivity(sensitivity)


def _print_sensitivity(points: list[ThresholdEstimate]) -> None:
    """The estimate at each link threshold the run stored: how much of the spread is linkage."""
    from blindlink.stats.sensitivity import envelope

    table = Table(
        title="The same estimate at other link thresholds (lower: more records merged)",
        title_justify="left",
    )
    for column in ("threshold", "persons observed", "estimate", "95% CI"):
        table.add_column(column, justify="right")
    for point in points:
        ci = f"{point.ci95[0]:,.0f} to {point.ci95[1]:,.0f}" if point.ci95 else "-"
        table.add_row(
            f"{point.threshold:.3f}" + (" (chosen)" if point.chosen else ""),
            f"{point.observed:,}",
            f"{point.estimate:,.0f}" if point.estimate is not None else "no estimate",
            ci,
        )
    out.print(table)
    estimates = [p.estimate for p in points if p.estimate is not None]
    joined = envelope(points)
    if estimates and joined:
        out.print(
            f"across thresholds {points[0].threshold:.3f} to {points[-1].threshold:.3f} the "
            f"estimate ranges from {min(estimates):,.0f} to {max(estimates):,.0f}; the intervals "
            f"together span {joined[0]:,.0f} to {joined[1]:,.0f} (linkage and sampling, "
            "not a calibrated interval)"
        )


@app.command()
@_reporting_errors
def report(
    results: Annotated[Path, typer.Argument(help="A results folder of 'blindlink link'.")],
    method: Annotated[
        str,
        typer.Option("--method", help="main-effects, stepwise-aic, stepwise-pvalue or bic."),
    ] = "stepwise-aic",
) -> None:
    """Write RESULTS/report.html: figures, quality, overlap, estimate (needs blindlink[report])."""
    from blindlink.pipeline.report import write_report

    path = write_report(results, method=method)
    out.print(
        f"wrote {path} (for the coordinator: exact counts; only its disclosure-controlled "
        "tables may be published)"
    )


schema_app = typer.Typer(
    help="Linkage schemas: check one, or show the built-in default.", no_args_is_help=True
)
app.add_typer(schema_app, name="schema")


@schema_app.command("validate")
@_reporting_errors
def schema_validate(
    path: Annotated[Path, typer.Argument(help="A blindlink or clkhash v3 schema (JSON).")],
) -> None:
    """Check a linkage schema; every problem is listed with its JSON location."""
    from blindlink.schema import LinkageSchema

    schema = load_any_schema(path)
    if isinstance(schema, LinkageSchema):
        out.print(
            f"{path}: valid blindlink schema {schema.name!r}, {len(schema.fields)} fields, "
            f"{schema.filter_bits}-bit filters, fingerprint {schema.fingerprint[:12]}"
        )
    else:
        from blindlink.encoding.clkhash_compat import ClkhashEncoder

        encoder = ClkhashEncoder(dict(schema), "0" * 32, source=str(path))
        out.print(
            f"{path}: valid clkhash v3 schema, {len(encoder.columns)} encoded columns, "
            f"{encoder.filter_bits}-bit filters, fingerprint {encoder.fingerprint[:12]}"
        )


@schema_app.command("show")
@_reporting_errors
def schema_show() -> None:
    """Print the built-in schema for trafficking-victim case records (JSON)."""
    out.print_json(data=default_schema().document)


@app.command()
@_reporting_errors
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo's files.")] = Path(
        "blindlink-demo"
    ),
    persons: Annotated[int, typer.Option("--persons", min=10, help="Population size.")] = 1500,
    agencies: Annotated[int, typer.Option("--agencies", min=1, max=12)] = 4,
    seed: Annotated[int, typer.Option("--seed")] = 2024,
) -> None:
    """Act out agencies and coordinator on built-in synthetic data and score the result."""
    from blindlink.pipeline.demo import run_demo

    outcome = run_demo(
        out_dir, n_persons=persons, n_agencies=agencies, seed=seed, narrate=out.print
    )
    _print_summary(outcome.result)
    q = outcome.quality
    out.print(
        f"true persons among the records: {outcome.true_persons_seen:,} "
        f"(population incl. never registered: {outcome.true_population:,})"
    )
    out.print(
        f"linkage quality against the truth (record pairs): precision {q.precision:.3f}, "
        f"recall {q.recall:.3f}, F1 {q.f1:.3f}"
    )
    population = outcome.population_estimate
    if population is not None:
        low, high = population.ci95
        out.print(
            f"estimated total population (MSE, {population.method}): {population.estimate:,.0f} "
            f"(95% CI {low:,.0f} to {high:,.0f}); the generator's true total: "
            f"{outcome.true_population:,}"
        )
    out.print(f"files: {out_dir}/ (input/, encoded/, results/, truth.csv, secret.key)")


@app.command()
@_reporting_errors
def audit(
    encoded: Annotated[
        Path, typer.Argument(help="Your encoded file (.blk), plain: audit it before sealing it.")
    ],
    names: Annotated[
        Path,
        typer.Option(
            "--names",
            help="Public name-frequency list: CSV with columns name,count[,field] "
            "(field: given_name, family_name, or blank for any name field).",
        ),
    ],
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth",
            help="Your own CSV that was encoded: measure what the attacks get right.",
        ),
    ] = None,
    schema_path: Annotated[
        Path | None,
        typer.Option("--schema", help="The schema the file was encoded with (default: built-in)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Attack your own encodings with published attacks and report what they recover."""
    from blindlink.audit import audit_file
    from blindlink.schema import LinkageSchema

    schema = load_any_schema(schema_path) if schema_path else default_schema()
    if not isinstance(schema, LinkageSchema):
        raise InputError(f"{schema_path}: the audit needs a blindlink schema, not a clkhash one")
    with err.status("auditing", spinner="dots") if err.is_terminal else nullcontext():
        report = audit_file(encoded, names, schema=schema, truth=truth)
    if as_json:
        out.print_json(data=report.to_dict())
        return
    hardening = ", ".join(report.hardening) or "none"
    out.print(
        f"{report.source}: {report.records:,} records, {report.filter_bits}-bit filters, "
        f"hardening: {hardening}; {report.patterns_found:,} bit patterns mined"
    )
    table = Table(title="Attacks", title_justify="left")
    for column in ("attack", "records claimed", "records re-identified", "q-grams decoded"):
        table.add_column(column, justify="left" if column == "attack" else "right")
    for attack in report.attacks:
        right = (
            "-"
            if attack.record_rate is None
            else f"{attack.records_reidentified:,} ({attack.record_rate:.1%})"
        )
        if attack.qgrams_claimed is None:
            qgrams = "-"
        elif attack.qgram_rate is None:
            qgrams = f"{attack.qgrams_claimed:,} claimed"
        else:
            qgrams = (
                f"{attack.qgrams_reidentified:,} of {attack.qgrams_in_data:,} "
                f"({attack.qgram_rate:.1%}); {attack.qgram_occurrence_rate:.1%} of occurrences"
            )
        table.add_row(
            attack.attack,
            f"{attack.records_claimed:,} ({attack.claim_rate:.1%})",
            right,
            qgrams,
        )
    out.print(table)
    if report.truth is None:
        out.print(
            "claims are what an attacker would assert, right or wrong; give --truth with the "
            "CSV you encoded to measure how many are right"
        )
    for warning in report.warnings:
        out.print(f"warning: {warning.message}")


@app.command()
@_reporting_errors
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for <agency>.csv and truth.csv.")],
    persons: Annotated[int, typer.Option("--persons", min=1)] = 1000,
    agencies: Annotated[int, typer.Option("--agencies", min=1, max=12)] = 4,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Write synthetic multilingual case records with a ground truth (for trials, benchmarks)."""
    from blindlink.synth import generate, write_dataset

    out_dir.mkdir(parents=True, exist_ok=True)
    data = generate(n_persons=persons, n_agencies=agencies, seed=seed)
    paths = write_dataset(data, out_dir)
    out.print(f"wrote {len(paths) - 1} agency files and truth.csv to {out_dir}")


def main() -> None:
    """Console entry point; ``--debug`` is accepted anywhere on the command line."""
    args = sys.argv[1:]
    _state["debug"] = "--debug" in args
    args = [a for a in args if a != "--debug"]
    app(args=args, prog_name="blindlink")
