"""The agency-side encoder: a linkage schema compiled, with the secret, into Bloom filters.

``Encoder`` is built once per file. Each field is compiled into a normaliser (raw text to a
normal form, or nothing when missing), feature extractors (normal form to tokens), a keyed
token hasher, and a layout that places the field's bits in the record's filter (``clk``: one
shared filter; ``field_bloom``: the field's own slice; ``rbf``: keyed sampling from the
field's own filter). The bit positions of every distinct raw value are cached: names and
dates repeat a great deal in case records, so most values are normalised, tokenised and hashed
once. Hardening steps then transform the finished filters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from blindlink.encoding import features, hardening
from blindlink.encoding.assemble import or_rows, pack_positions
from blindlink.encoding.hashing import TokenHasher
from blindlink.encoding.keyed_random import keyed_integers, keyed_permutation
from blindlink.encoding.keys import derive_key, key_check_value
from blindlink.encoding.normalise import (
    normalise_code,
    normalise_identifier,
    normalise_name,
    normalise_text,
    parse_number,
    parse_partial_date,
)
from blindlink.errors import InputError
from blindlink.schema import FeatureSpec, FieldSpec, LinkageSchema

#: Cached values per field before the cache is emptied (bounds memory on huge files).
_VALUE_CACHE_LIMIT = 1 << 20

#: Raw text to a normal form; an empty result (``()``, ``""``, None) means no usable value.
Normaliser = Callable[[str], Any]
#: A normal form to the tokens of one feature.
Extractor = Callable[[Any], list[str]]

_NORMALISERS: dict[str, Normaliser] = {
    "person_name": normalise_name,
    "free_text": normalise_text,
    "date": parse_partial_date,
    "categorical": normalise_code,
    "identifier": normalise_identifier,
    "numeric": parse_number,
}


@dataclass
class FieldCounts:
    """How many values of one field were missing, and how many unusable (so treated as missing)."""

    missing: int = 0
    invalid: int = 0


@dataclass
class EncodeReport:
    """What the data officer should hear about an encoding run (counts only, never values)."""

    records: int = 0
    fields: dict[str, FieldCounts] = field(default_factory=dict)


def _as_words(field_type: str, value: Any) -> tuple[str, ...]:
    """Names and free text are words already; a code or identifier is one word."""
    return value if field_type in ("person_name", "free_text") else (str(value),)


def _date_extractor(feature: FeatureSpec) -> Extractor:
    def extract(date: tuple[int, int | None, int | None]) -> list[str]:
        year, month, day = date
        if feature.kind == "year":
            return features.year(year, int(feature.tolerance))
        if f"{month or 0:02d}-{day or 0:02d}" in feature.unknown_month_days:
            return []  # a placeholder for "only the year is known", not a birthday
        if feature.kind == "month_year":
            return features.month_year(year, month)
        return features.month_day(month, day)

    return extract


def _number_text(value: Decimal) -> str:
    """One text per number: ``2.50``, ``2.5`` and ``+2.5`` all read ``2.5``."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _extractor(field_type: str, feature: FeatureSpec) -> Extractor:
    kind = feature.kind
    if field_type == "date":
        return _date_extractor(feature)
    if kind == "ngrams":
        return lambda v: features.ngrams(
            _as_words(field_type, v), feature.n, padding=feature.padding,
            positional=feature.positional,
        )  # fmt: skip
    if kind == "skeleton_ngrams":
        return lambda v: features.skeleton_ngrams(v, feature.n, padding=feature.padding)
    if kind == "phonetic":
        return lambda v: features.phonetic(v, feature.algorithm)
    if kind == "numeric":
        return lambda v: features.numeric(float(v), feature.tolerance, feature.resolution)
    if field_type in ("person_name", "free_text"):
        return features.name_words
    if field_type == "numeric":
        return lambda v: features.exact(_number_text(v))
    return features.exact


def _coded(codes: tuple[tuple[str, str], ...]) -> Normaliser:
    """A categorical normaliser that maps every listed spelling to its code."""
    table = {normalise_code(spelling): normalise_code(code) for spelling, code in codes}

    def normalise(raw: str) -> str:
        value = normalise_code(raw)
        return table.get(value, value)

    return normalise


def field_normaliser(spec: FieldSpec) -> tuple[Normaliser, frozenset[Any]]:
    """A field's normaliser (its codes applied) and the normal forms of its placeholders.

    Public so that what else the agency derives from a field (blocking keys) reads a value
    exactly as the encoder does: same transliteration, codes and missing values.
    """
    normalise = _coded(spec.codes) if spec.codes else _NORMALISERS[spec.type]
    return normalise, frozenset({normalise(v) for v in spec.missing_values} - {None})


class _Layout:
    """Where a field's own bit positions land in the record's filter.

    Field-level layouts give each key group one filter (fields of one group, such as given
    and family name, share it, so swapped names still match), in order of first appearance.
    """

    def __init__(self, schema: LinkageSchema, secret: bytes) -> None:
        self.field_bits: dict[str, int] = {}
        self._maps: dict[str, list[tuple[int, ...]]] = {}
        self._offsets: dict[str, int] = {}
        offset = 0
        permutation = (
            keyed_permutation(derive_key(secret, "rbf:permutation"), schema.bloom_bits)
            if schema.encoding_type == "rbf"
            else None
        )
        for spec in schema.fields:
            group = spec.key_group
            if schema.encoding_type == "clk":
                self.field_bits[spec.name] = schema.bloom_bits
                continue
            self.field_bits[spec.name] = spec.bits
            if group in self._offsets or group in self._maps:
                continue
            if permutation is None:
                self._offsets[group] = offset
                offset += spec.bits
                continue
            # rbf: record bit (offset + j) copies group bit choice[j]; then one permutation
            choice = keyed_integers(derive_key(secret, f"rbf:{group}"), spec.sample_bits,
                                    spec.bits)  # fmt: skip
            targets: list[list[int]] = [[] for _ in range(spec.bits)]
            for j, source in enumerate(choice.tolist()):
                targets[source].append(int(permutation[offset + j]))
            self._maps[group] = [tuple(t) for t in targets]
            offset += spec.sample_bits

    def place(self, spec: FieldSpec, positions: list[int]) -> tuple[int, ...]:
        """Record-filter positions for a field's own positions."""
        targets = self._maps.get(spec.key_group)
        if targets is not None:
            return tuple(t for p in set(positions) for t in targets[p])
        offset = self._offsets.get(spec.key_group, 0)
        return tuple(p + offset for p in positions) if offset else tuple(positions)


class _CompiledField:
    """One field of the schema, ready to turn raw values into record-filter bit positions."""

    def __init__(self, spec: FieldSpec, hasher: TokenHasher, layout: _Layout) -> None:
        self.spec = spec
        self._normalise = _NORMALISERS[spec.type]
        if spec.codes:
            self._normalise = _coded(spec.codes)
        self._extractors = [(_extractor(spec.type, f), f.hashes) for f in spec.features]
        self._placeholders = {self._normalise(v) for v in spec.missing_values} - {None}
        self._hasher = hasher
        self._layout = layout
        self._cache: dict[tuple[str, str], tuple[tuple[int, ...], bool]] = {}

    def positions(self, raw: str, salt: str) -> tuple[tuple[int, ...], bool]:
        """Bit positions for a raw value, and whether the value was present but unusable.

        No positions means the value is missing (blank, a placeholder, or unusable).
        """
        hit = self._cache.get((raw, salt))
        if hit is not None:
            return hit
        normal = self._normalise(raw)
        found: list[int] = []
        if normal in self._placeholders:
            invalid = False
        elif normal is None or normal == () or normal == "":
            invalid = raw.strip() != ""
        else:
            invalid = False
            prefix = f"{salt}\x1f" if salt else ""
            for extract, hashes in self._extractors:
                for token in extract(normal):
                    found.extend(self._hasher.positions(prefix + token, hashes))
        result = (self._layout.place(self.spec, found) if found else (), invalid)
        if len(self._cache) >= _VALUE_CACHE_LIMIT:
            self._cache.clear()
        self._cache[(raw, salt)] = result
        return result

    def column(
        self,
        rows: list[Mapping[str, str]],
        salts: list[str] | None,
        bits: int,
        counts: FieldCounts,
        *,
        first_record: int,
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.intp]]:
        """This field for a block of records: a packed row per distinct value, and the
        index of each record's value. Counts missing and unusable values into ``counts``."""
        name = self.spec.column
        distinct: dict[tuple[str, str], int] = {}
        if salts is None:
            index = [distinct.setdefault((row.get(name) or "", ""), len(distinct)) for row in rows]
        else:
            index = [
                distinct.setdefault((row.get(name) or "", salt), len(distinct))
                for row, salt in zip(rows, salts, strict=True)
            ]
        offsets = [0]
        flat: list[int] = []
        missing = np.zeros(len(distinct), dtype=np.bool_)
        invalid = np.zeros(len(distinct), dtype=np.bool_)
        for value, (raw, salt) in enumerate(distinct):
            found, unusable = self.positions(raw, salt)
            flat.extend(found)
            offsets.append(len(flat))
            missing[value] = not found
            invalid[value] = unusable
        picks = np.asarray(index, dtype=np.intp)
        if missing.any():
            per_value = np.bincount(picks, minlength=len(distinct))
            if self.spec.reject_missing:
                record = first_record + int(np.flatnonzero(missing[picks])[0])
                raise InputError(
                    f"record {record}, column {name!r}: no usable value, and the schema does "
                    "not allow a missing one"
                )
            counts.missing += int(per_value[missing].sum())
            counts.invalid += int(per_value[invalid].sum())
        return pack_positions(offsets, flat, bits), picks


class Encoder:
    """Encodes records under one schema and one secret.

    The secret is used only here, to derive the keys (one per key group, and those of the
    layout and hardening) and the key check value; the encoder keeps plaintext values only in
    its per-value cache, and the secret only when a hardening step needs keys for each chunk.
    """

    def __init__(self, schema: LinkageSchema, secret: bytes) -> None:
        self.schema = schema
        self.key_check = key_check_value(secret, schema.fingerprint)
        self._secret = secret if schema.hardening else b""
        layout = _Layout(schema, secret)
        hashers: dict[tuple[str, int], TokenHasher] = {}
        self._fields: list[_CompiledField] = []
        for spec in schema.fields:
            bits = layout.field_bits[spec.name]
            if (spec.key_group, bits) not in hashers:
                key = derive_key(secret, f"group:{spec.key_group}")
                hashers[(spec.key_group, bits)] = TokenHasher(key, bits, schema.hashing)
            self._fields.append(_CompiledField(spec, hashers[(spec.key_group, bits)], layout))
        self._records_seen = 0

    def encode(
        self, rows: Iterable[Mapping[str, str]], report: EncodeReport | None = None
    ) -> npt.NDArray[np.uint8]:
        """Packed filters, one row per record, in input order (anonlink's CLK byte layout).

        Column by column: each distinct value of the block gets one packed row (from the
        per-value position cache), and each record's filter is the OR of its values' rows
        (``assemble``), so no Python loop runs per bit. Records are numbered from 1 across
        all calls on this encoder, so an error in a later chunk names the record's position
        in the whole input.
        """
        report = report if report is not None else EncodeReport()
        block = rows if isinstance(rows, list) else list(rows)
        salt_column = self.schema.salt_column
        salts = (
            [normalise_code(row.get(salt_column) or "") for row in block] if salt_column else None
        )
        tables: list[npt.NDArray[np.uint8]] = []
        picks: list[npt.NDArray[np.intp]] = []
        for compiled in self._fields:
            counts = report.fields.setdefault(compiled.spec.name, FieldCounts())
            table, index = compiled.column(block, salts, self.schema.bloom_bits, counts,
                                           first_record=self._records_seen + 1)  # fmt: skip
            tables.append(table)
            picks.append(index)
        self._records_seen += len(block)
        report.records += len(block)
        if not block:
            return np.zeros((0, self.schema.filter_bits // 8), dtype=np.uint8)
        return self._harden(or_rows(tables, picks))

    def _harden(self, filters: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Apply the schema's hardening steps in order (keys derived from the secret)."""
        bits = self.schema.bloom_bits
        for step in self.schema.hardening:
            if step.kind == "balancing":
                filters, bits = hardening.balance(filters, bits, self._secret)
            elif step.kind == "xor_folding":
                filters, bits = hardening.xor_fold(filters, bits)
            elif step.kind == "blip":
                filters, bits = hardening.blip(filters, bits, step.epsilon)
            else:
                filters, bits = hardening.diffuse(
                    filters, bits, self._secret, step.output_bits, step.taps
                )
        return filters
