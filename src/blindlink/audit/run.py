"""Run the self-audit: read the files, play both attacks, compare with the plaintext if given.

Why it runs at the agency: the audit may read the agency's own CSV (``truth``) to measure
what the attacks really get right, and the names list is the attacker's side information.
It never needs the secret -- an attacker does not have it either -- and it writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from blindlink.audit.frequency import frequency_alignment, identical_groups
from blindlink.audit.names import (
    NameList,
    TokenModel,
    name_fields,
    name_key,
    read_name_list,
    token_model,
)
from blindlink.audit.pattern_mining import (
    Alignment,
    Pattern,
    align_patterns,
    mine_patterns,
    reidentify,
    true_token_rows,
    unpack,
)
from blindlink.audit.report import (
    AttackOutcome,
    AuditReport,
    AuditWarning,
    frequent_filter_warning,
    popcount_warning,
)
from blindlink.errors import EncodedFileError, IncompatibleFilesError, InputError, SchemaError
from blindlink.io.blk import read_blk
from blindlink.io.records import read_csv_records
from blindlink.io.sealed import is_sealed
from blindlink.schema import LinkageSchema, default_schema
from blindlink.types import EncodedBatch

__all__ = ["audit_batch", "audit_file", "read_truth", "truth_from_columns"]

#: Minimum support of a mined pattern: 0.2 % of the records, at least 5.
_MIN_SUPPORT_SHARE = 0.002
_MIN_SUPPORT = 5
#: A decoded pattern counts as the token when their record sets overlap this much (Jaccard).
_TOKEN_MATCH = 0.8


def audit_file(
    encoded: str | os.PathLike[str],
    names: str | os.PathLike[str],
    *,
    schema: LinkageSchema | None = None,
    truth: str | os.PathLike[str] | None = None,
) -> AuditReport:
    """Audit an encoded file (.blk) against a public names list (see ``audit.names``).

    The file must be plain: the audit runs at the agency, before the file is sealed for the
    coordinator, whose key alone opens it; a sealed file raises :class:`EncodedFileError`
    saying so.

    ``schema`` is the one the file was encoded with (default: the built-in one); a file of
    another schema raises :class:`IncompatibleFilesError`. ``truth`` is the agency's own CSV
    that was encoded (matched on the schema's id column).
    """
    schema = schema if schema is not None else default_schema()
    if is_sealed(encoded):
        # sealed for the coordinator: the agency cannot open it, and should not need to
        raise EncodedFileError(
            f"{os.fspath(encoded)}: is sealed for the coordinator; audit the plain .blk file "
            "before sealing it (encode without --to, audit that file, then encode again with "
            "--to: the same secret and schema give the same filters)"
        )
    batch = read_blk(encoded)
    if batch.schema_fingerprint != schema.fingerprint:
        raise IncompatibleFilesError(
            f"{os.fspath(encoded)}: encoded with another schema (fingerprint "
            f"{batch.schema_fingerprint[:12]}) than the one given ({schema.fingerprint[:12]}); "
            "pass the schema it was encoded with (--schema)"
        )
    name_list = read_name_list(names, schema)
    plain = read_truth(truth, schema, batch.record_ids) if truth is not None else None
    return audit_batch(
        batch, name_list, schema, truth=plain, source=os.fspath(encoded),
        truth_source=os.fspath(truth) if truth is not None else None,
    )  # fmt: skip


def read_truth(
    path: str | os.PathLike[str], schema: LinkageSchema, record_ids: Sequence[str]
) -> dict[str, list[str]]:
    """The encoded records' names (normal forms, ``""`` when missing), per name field.

    Records are matched on the schema's id column; every encoded record must be in the CSV.
    """
    specs = name_fields(schema)
    columns = [schema.id_column] + [s.column for s in specs if s.column != schema.id_column]
    table = read_csv_records(path, required=columns, id_column=schema.id_column)
    where = {rid: i for i, rid in enumerate(table.record_ids)}
    rows = [where.get(rid, -1) for rid in record_ids]
    lost = sum(1 for r in rows if r < 0)
    if lost:
        raise InputError(
            f"{os.fspath(path)}: {lost:,} of the {len(record_ids):,} encoded records are not in "
            f"this file (matched on column {schema.id_column}); is it the CSV that was encoded?"
        )
    return truth_from_columns(
        {s.column: [table.columns[s.column][r] for r in rows] for s in specs}, schema
    )


def truth_from_columns(
    columns: Mapping[str, Sequence[str]], schema: LinkageSchema
) -> dict[str, list[str]]:
    """Raw name columns (by CSV column) as the audit's truth: normal forms per name field.

    Placeholders the schema treats as missing (``unknown``, ``fnu``...) become ``""``.
    """
    out: dict[str, list[str]] = {}
    for spec in name_fields(schema):
        placeholders = {name_key(v) for v in spec.missing_values}
        keys = [name_key(v) for v in columns[spec.column]]
        out[spec.name] = ["" if k in placeholders else k for k in keys]
    return out


def audit_batch(
    batch: EncodedBatch,
    names: NameList,
    schema: LinkageSchema,
    *,
    truth: Mapping[str, Sequence[str]] | None = None,
    source: str = "<batch>",
    truth_source: str | None = None,
) -> AuditReport:
    """Both attacks and the warnings on an encoded batch (no files read or written)."""
    if schema.encoding_type not in ("clk", "field_bloom", "rbf"):
        raise SchemaError(f"the audit cannot model encoding type {schema.encoding_type!r}")
    fields = [spec.name for spec in name_fields(schema)]
    records = len(batch)
    bits = unpack(batch.filters, batch.filter_bits)
    _, sizes = identical_groups(batch.filters)

    frequency = frequency_alignment(batch.filters, names)
    freq_right: int | None = None
    if truth is not None:
        freq_right = sum(
            1
            for r, claim in enumerate(frequency.claims)
            if claim is not None and _right(claim[0], claim[1], truth, fields, r)
        )
    attacks = [
        AttackOutcome(
            attack="frequency alignment",
            records=records,
            records_claimed=sum(c is not None for c in frequency.claims),
            records_reidentified=freq_right,
        )
    ]

    model = token_model(schema, names)
    min_support = max(_MIN_SUPPORT, round(_MIN_SUPPORT_SHARE * records))
    patterns = mine_patterns(bits, min_support=min_support) if records else []
    alignment = align_patterns(patterns, model, records)
    claims = reidentify(bits, patterns, alignment, model, names, fields)
    attacks.append(_mining_outcome(records, patterns, alignment, claims, model, truth, fields))

    warnings: list[AuditWarning] = []
    for warning in (popcount_warning(bits), frequent_filter_warning(sizes)):
        if warning is not None:
            warnings.append(warning)
    return AuditReport(
        source=source,
        records=records,
        filter_bits=batch.filter_bits,
        schema=schema.name,
        hardening=tuple(step.kind for step in schema.hardening),
        names=names.source,
        truth=truth_source,
        patterns_found=len(patterns),
        attacks=tuple(attacks),
        warnings=tuple(warnings),
    )


def _right(
    field: str | None, name: str, truth: Mapping[str, Sequence[str]], fields: Sequence[str], r: int
) -> bool:
    targets = fields if field is None else [field]
    return any(f in truth and truth[f][r] == name for f in targets)


def _mining_outcome(
    records: int,
    patterns: Sequence[Pattern],
    alignment: Alignment,
    claims: Mapping[str, Sequence[str | None]],
    model: TokenModel,
    truth: Mapping[str, Sequence[str]] | None,
    fields: Sequence[str],
) -> AttackOutcome:
    claimed = [any(claims[f][r] is not None for f in fields) for r in range(records)]
    outcome = AttackOutcome(
        attack="pattern mining",
        records=records,
        records_claimed=sum(claimed),
        qgrams_claimed=len(alignment.token),
    )
    if truth is None:
        return outcome
    right = sum(
        1
        for r in range(records)
        if any(claims[f][r] is not None and claims[f][r] == truth[f][r] for f in fields)
    )
    held = true_token_rows(model, truth, records)
    decoded = 0
    decoded_occurrences = 0
    for p, t in zip(alignment.pattern.tolist(), alignment.token.tolist(), strict=True):
        true_rows = held.get(model.tokens[t])
        if true_rows is None:
            continue
        rows = patterns[p].rows
        union = int((true_rows | rows).sum())
        if union and int((true_rows & rows).sum()) / union >= _TOKEN_MATCH:
            decoded += 1
            decoded_occurrences += int(true_rows.sum())
    return AttackOutcome(
        attack=outcome.attack,
        records=records,
        records_claimed=outcome.records_claimed,
        qgrams_claimed=outcome.qgrams_claimed,
        records_reidentified=right,
        qgrams_reidentified=decoded,
        qgrams_in_data=len(held),
        qgram_occurrences_reidentified=decoded_occurrences,
        qgram_occurrences=int(sum(int(v.sum()) for v in held.values())),
    )
