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
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar, cast

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from blindlink import __version__
from blindlink.encoding.encoder import EncodeReport
from blindlink.encoding.keys import secret_from_passphrase
from blindlink.errors import BlindlinkError, InputError, SecretError
from blindlink.io.secret_file import read_secret_file, secret_file_is_private, write_secret_file
from blindlink.pipeline.encode import encode_file, load_any_schema
from blindlink.pipeline.link import (
    DEFAULT_THRESHOLD,
    SMALL_CASELOAD,
    Blocking,
    LinkResult,
    link_files,
    parse_threshold,
)
from blindlink.schema import default_schema

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


def _reporting_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn every failure of ``command`` into one line on stderr and its exit code."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except BlindlinkError as exc:
            if _state["debug"]:
                traceback.print_exc()
            err.print(f"blindlink: error: {exc}", markup=False)
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


@app.command()
@_reporting_errors
def keygen(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the new secret.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a new random 256-bit linkage secret (mode 0600).

    Share it among the agencies out of band; never give it to the coordinator.
    """
    write_secret_file(out_path, overwrite=force)
    out.print(f"wrote a new 256-bit linkage secret to {out_path} (readable by you only)")


@app.command()
@_reporting_errors
def encode(
    input_csv: Annotated[Path, typer.Argument(help="UTF-8 CSV of case records, with a header.")],
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
) -> None:
    """Encode case records into keyed Bloom filters, to send to the coordinator."""
    schema = load_any_schema(schema_path) if schema_path else default_schema()
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
        )
    out.print(
        f"encoded {len(batch):,} records of agency {agency} to {out_path} "
        f"(schema {batch.schema_fingerprint[:12]}, key check {batch.key_check[:12]})"
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
            f"'default' is {DEFAULT_THRESHOLD} up to {SMALL_CASELOAD:,} records, rising with "
            "the caseload.",
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
            help="auto (all pairs up to 300,000 records, else LSH), exact or lsh.",
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
) -> None:
    """Link encoded files: duplicates within agencies and persons across them."""
    with (
        err.status("linking", spinner="dots")
        if err.is_terminal and not quiet
        else nullcontext() as status
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
        )
    if quiet:
        return
    if as_json:
        summary = {
            "results": str(out_dir),
            "files": {
                "clusters": str(out_dir / "clusters.csv"),
                "links": str(out_dir / "links.csv"),
                "stats": str(out_dir / "stats.json"),
                "agencies": {a: str(out_dir / "agencies" / f"{a}.csv") for a in result.agencies},
            },
            "statistics": result.statistics,
        }
        out.print_json(data=summary)
        return
    _print_summary(result)
    out.print(
        f"wrote {out_dir}/clusters.csv, {out_dir}/links.csv (coordinator only), "
        f"{out_dir}/agencies/<agency>.csv, {out_dir}/stats.json"
    )


@app.command()
@_reporting_errors
def convert(
    source: Annotated[Path, typer.Argument(help="A .blk file or an anonlink JSON file.")],
    to: Annotated[str, typer.Option("--to", help="anonlink-json or blk.")],
    out_path: Annotated[Path, typer.Option("--out", help="The file to write.")],
    agency: Annotated[
        str | None, typer.Option("--agency", help="Agency name for a .blk made from JSON.")
    ] = None,
) -> None:
    """Convert encodings between blindlink's .blk and anonlink's JSON upload format."""
    from blindlink.io.anonlink_json import read_anonlink_json, write_anonlink_json
    from blindlink.io.blk import read_blk, write_blk

    if to == "anonlink-json":
        batch = read_blk(source)
        write_anonlink_json(out_path, batch)
    elif to == "blk":
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

    if source.suffix.lower() == ".json":
        try:
            stats = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{source}: not a readable stats.json ({type(exc).__name__})") from exc
        histories = from_stats(stats)
    else:
        histories = read_capture_csv(source)
    result = mse_estimate(histories, method)
    if as_json:
        out.print_json(data=result.to_dict())
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
