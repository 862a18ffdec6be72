"""The agency-side encoder: a linkage schema compiled, with the secret, into Bloom filters.

``Encoder`` is built once per file. It caches, per field, the bit positions of every distinct
raw value it has seen: names and dates repeat a great deal in case records, so most values are
normalised, tokenised and hashed once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from blindlink.encoding import features
from blindlink.encoding.hashing import TokenHasher
from blindlink.encoding.keys import derive_key, key_check_value
from blindlink.encoding.normalise import normalise_code, normalise_name, parse_partial_date
from blindlink.schema import FieldSpec, LinkageSchema

#: Cached values per field before the cache is emptied (bounds memory on huge files).
_VALUE_CACHE_LIMIT = 1 << 20

Tokenizer = Callable[[str], "tuple[list[str], bool]"]


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


def _name_tokens(spec: FieldSpec) -> Tokenizer:
    def tokenize(raw: str) -> tuple[list[str], bool]:
        words = normalise_name(raw)
        if not words:
            return [], raw.strip() != ""
        tokens: list[str] = []
        for feature in spec.features:
            if feature.kind == "ngrams":
                tokens.extend(features.ngrams(words, feature.n))
            elif feature.kind == "skeleton_ngrams":
                tokens.extend(features.skeleton_ngrams(words, feature.n))
            elif feature.kind == "phonetic":
                tokens.extend(features.phonetic(words, feature.algorithm))
            else:
                tokens.extend(features.name_words(words))
        return tokens, False

    return tokenize


def _feature_hashes(spec: FieldSpec) -> dict[str, int]:
    """Bits per token by token prefix (the text before the first colon)."""
    prefixes = {
        "ngrams": lambda f: [f"g{f.n}"],
        "skeleton_ngrams": lambda f: [f"s{f.n}"],
        "exact": lambda f: ["x", "w"],
        "phonetic": lambda f: ["p"],
        "year": lambda f: ["y"],
        "month_day": lambda f: ["m", "d", "md"],
    }
    return {p: f.hashes for f in spec.features for p in prefixes[f.kind](f)}


def _date_tokens(spec: FieldSpec) -> Tokenizer:
    def tokenize(raw: str) -> tuple[list[str], bool]:
        parsed = parse_partial_date(raw)
        if parsed is None:
            return [], raw.strip() != ""
        year, month, day = parsed
        tokens: list[str] = []
        for feature in spec.features:
            if feature.kind == "year":
                tokens.extend(features.year(year, feature.tolerance))
            elif f"{month or 0:02d}-{day or 0:02d}" in feature.unknown_month_days:
                continue  # a placeholder for "only the year is known", not a birthday
            else:
                tokens.extend(features.month_day(month, day))
        return tokens, False

    return tokenize


def _code_tokens(spec: FieldSpec) -> Tokenizer:
    def tokenize(raw: str) -> tuple[list[str], bool]:
        return features.exact(normalise_code(raw)), False

    return tokenize


_TOKENIZERS: dict[str, Callable[[FieldSpec], Tokenizer]] = {
    "person_name": _name_tokens,
    "date": _date_tokens,
    "categorical": _code_tokens,
}


class _CompiledField:
    """One field of the schema, ready to turn raw values into bit positions."""

    def __init__(self, spec: FieldSpec, hasher: TokenHasher) -> None:
        self.spec = spec
        self._tokenize = _TOKENIZERS[spec.type](spec)
        self._hashes = _feature_hashes(spec)
        self._hasher = hasher
        self._cache: dict[str, tuple[tuple[int, ...], bool]] = {}

    def positions(self, raw: str) -> tuple[tuple[int, ...], bool]:
        """Bit positions for a raw value, and whether the value was present but unusable."""
        hit = self._cache.get(raw)
        if hit is not None:
            return hit
        tokens, invalid = self._tokenize(raw)
        found: list[int] = []
        for token in tokens:
            hashes = self._hashes[token.split(":", 1)[0]]
            found.extend(self._hasher.positions(token, hashes))
        result = (tuple(found), invalid)
        if len(self._cache) >= _VALUE_CACHE_LIMIT:
            self._cache.clear()
        self._cache[raw] = result
        return result


class Encoder:
    """Encodes records under one schema and one secret.

    The secret is used only here, to derive one key per key group and the key check value;
    the encoder keeps neither the secret nor plaintext values beyond its per-value cache.
    """

    def __init__(self, schema: LinkageSchema, secret: bytes) -> None:
        self.schema = schema
        self.key_check = key_check_value(secret, schema.fingerprint)
        hashers: dict[str, TokenHasher] = {}
        for spec in schema.fields:
            if spec.key_group not in hashers:
                key = derive_key(secret, f"group:{spec.key_group}")
                hashers[spec.key_group] = TokenHasher(key, schema.filter_bits)
        self._fields = [_CompiledField(spec, hashers[spec.key_group]) for spec in schema.fields]

    def encode(
        self, rows: Iterable[Mapping[str, str]], report: EncodeReport | None = None
    ) -> npt.NDArray[np.uint8]:
        """Packed filters, one row per record, in input order (anonlink's CLK byte layout)."""
        report = report if report is not None else EncodeReport()
        for compiled in self._fields:
            report.fields.setdefault(compiled.spec.name, FieldCounts())
        counts = [report.fields[compiled.spec.name] for compiled in self._fields]
        lengths: list[int] = []
        flat: list[int] = []
        for row in rows:
            start = len(flat)
            for compiled, count in zip(self._fields, counts, strict=True):
                raw = row.get(compiled.spec.column) or ""
                found, invalid = compiled.positions(raw)
                if not found:
                    count.missing += 1
                    count.invalid += invalid
                flat.extend(found)
            lengths.append(len(flat) - start)
        report.records += len(lengths)
        bits = np.zeros((len(lengths), self.schema.filter_bits), dtype=np.bool_)
        if flat:
            row_index = np.repeat(np.arange(len(lengths)), lengths)
            bits[row_index, np.asarray(flat, dtype=np.int64)] = True
        return np.packbits(bits, axis=1)
