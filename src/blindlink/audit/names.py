"""The attacker's knowledge: a public name-frequency list and the schema's name tokens.

Why this module exists: every published attack on Bloom-filter encodings needs plaintext side
information -- a census or telephone-book list of names with their frequencies -- and the
schema (Kerckhoffs: the encoding method is public, only the secret is not). From the two it
learns which tokens a name sets (``g2:an``, ``s2:mh``...), how many bits each token sets, and
how often each token, and each pair of tokens, should occur in a record. The audit then plays
that attacker against the agency's own encodings.

The names file (``--names``) is a UTF-8 CSV with a header and the columns

* ``name`` -- a name as it is written (any script; it is normalised as the encoder does);
* ``count`` -- how many people carry it (a whole number; only ratios matter);
* ``field`` (optional) -- the schema field the name is a value of (``given_name``,
  ``family_name``); a blank or missing ``field`` means the name may stand in any name field.

A given-name list and a family-name list can be one file with a ``field`` column. Rows whose
name normalises to nothing are skipped; rows of one normalised name are added up.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse

from blindlink.encoding import features
from blindlink.encoding.normalise import normalise_name
from blindlink.errors import InputError
from blindlink.schema import FeatureSpec, FieldSpec, LinkageSchema

__all__ = [
    "NameList",
    "TokenModel",
    "name_fields",
    "name_key",
    "read_name_list",
    "token_model",
]

#: Name types whose values are words (the encoder's ``person_name``).
_NAME_TYPE = "person_name"
_MAX_NAMES = 1_000_000


def name_key(raw: str) -> str:
    """A name's normal form as one string (the encoder's words, joined by spaces)."""
    return " ".join(normalise_name(raw))


@dataclass(frozen=True)
class NameList:
    """Names (normal forms) with their counts, per schema field (``None``: any name field)."""

    source: str
    by_field: Mapping[str | None, tuple[tuple[str, ...], npt.NDArray[np.float64]]]

    def for_field(self, field: str) -> tuple[tuple[str, ...], npt.NDArray[np.float64]]:
        """The names that may stand in ``field`` (its own and the field-less ones), merged."""
        counts: dict[str, float] = {}
        for key in (field, None):
            names, weights = self.by_field.get(key, ((), np.zeros(0)))
            for name, weight in zip(names, weights.tolist(), strict=True):
                counts[name] = counts.get(name, 0.0) + weight
        ordered = sorted(counts, key=lambda n: (-counts[n], n))
        return tuple(ordered), np.array([counts[n] for n in ordered], dtype=np.float64)

    def ranked(self) -> list[tuple[str | None, str, float]]:
        """Every (field, name, count), most frequent first (ties by name, for determinism)."""
        rows = [
            (field, name, float(weight))
            for field, (names, weights) in self.by_field.items()
            for name, weight in zip(names, weights.tolist(), strict=True)
        ]
        return sorted(rows, key=lambda r: (-r[2], r[1], r[0] or ""))


def name_fields(schema: LinkageSchema) -> tuple[FieldSpec, ...]:
    """The schema's person-name fields: the ones a name list says something about."""
    return tuple(spec for spec in schema.fields if spec.type == _NAME_TYPE)


def read_name_list(path: str | os.PathLike[str], schema: LinkageSchema) -> NameList:
    """Read a names file (see the module docstring); :class:`InputError` names line and rule.

    Messages never quote a cell: a names file is public, but the same reader may be handed an
    agency's own records by mistake.
    """
    shown = os.fspath(path)
    fields = {spec.name for spec in name_fields(schema)}
    if not fields:
        raise InputError(f"{shown}: the schema has no person_name field for a name list to attack")
    counts: dict[str | None, dict[str, float]] = {}
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise InputError(f"{shown}: the file is empty; expected a header 'name,count'")
            columns = [h.strip().lower() for h in header]
            missing = [c for c in ("name", "count") if c not in columns]
            if missing:
                raise InputError(
                    f"{shown}: line 1: no column {' or '.join(repr(c) for c in missing)}; "
                    "expected a header 'name,count' (optionally ',field')"
                )
            at_name, at_count = columns.index("name"), columns.index("count")
            at_field = columns.index("field") if "field" in columns else None
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(columns):
                    raise InputError(
                        f"{shown}: line {line}: {len(row)} fields, the header has {len(columns)}"
                    )
                count = _count(row[at_count], shown, line)
                field = row[at_field].strip() if at_field is not None else ""
                if field and field not in fields:
                    raise InputError(
                        f"{shown}: line {line}: column field is not a person_name field of the "
                        f"schema (use one of {', '.join(sorted(fields))}, or leave it blank)"
                    )
                key = name_key(row[at_name])
                if key and count > 0:
                    bucket = counts.setdefault(field or None, {})
                    bucket[key] = bucket.get(key, 0.0) + count
                    if len(bucket) > _MAX_NAMES:
                        raise InputError(f"{shown}: more than {_MAX_NAMES:,} distinct names")
    except UnicodeDecodeError as exc:
        raise InputError(f"{shown}: not UTF-8 text") from exc
    except csv.Error as exc:
        raise InputError(f"{shown}: malformed CSV ({exc})") from exc
    except OSError as exc:
        raise InputError(f"{shown}: cannot be read ({exc.strerror or type(exc).__name__})") from exc
    if not counts:
        raise InputError(f"{shown}: no name with a count above 0")
    by_field = {
        field: (
            tuple(sorted(bucket, key=lambda n: (-bucket[n], n))),
            np.array(sorted(bucket.values(), reverse=True), dtype=np.float64),
        )
        for field, bucket in counts.items()
    }
    return NameList(source=shown, by_field=by_field)


def _count(text: str, shown: str, line: int) -> float:
    try:
        value = int(text.strip())
    except ValueError:
        raise InputError(f"{shown}: line {line}: column count is not a whole number") from None
    if value < 0:
        raise InputError(f"{shown}: line {line}: column count is negative")
    return float(value)


# ------------------------------------------------------------------------------ token model


def _feature_tokens(feature: FeatureSpec) -> Callable[[tuple[str, ...]], list[str]]:
    """The encoder's extractor for one feature of a name field (same functions, no hashing)."""
    if feature.kind == "ngrams":
        return lambda words: features.ngrams(
            words, feature.n, padding=feature.padding, positional=feature.positional
        )
    if feature.kind == "skeleton_ngrams":
        return lambda words: features.skeleton_ngrams(words, feature.n, padding=feature.padding)
    if feature.kind == "phonetic":
        return lambda words: features.phonetic(words, feature.algorithm)
    return features.name_words


@dataclass(frozen=True)
class TokenModel:
    """What the schema and the name list tell an attacker about name tokens.

    ``tokens[i]`` is ``"<key group>|<token>"`` (tokens of one key group share bits);
    ``hashes[i]`` the bits it sets; ``single[i]`` the expected share of records holding it;
    ``pair[i, j]`` the expected share holding both. ``all_hashes`` lists the bit counts of
    every feature of the schema, names or not: a mined pattern's size says which kind of
    token it is. ``incidence[field]`` holds the names that may stand in the field and, as a
    sparse 0/1 matrix (names x tokens), the tokens each sets.
    """

    tokens: tuple[str, ...]
    hashes: npt.NDArray[np.int64]
    single: npt.NDArray[np.float64]
    pair: npt.NDArray[np.float64]
    all_hashes: tuple[int, ...]
    extractors: Mapping[str, Sequence[tuple[str, Callable[[tuple[str, ...]], list[str]]]]]
    incidence: Mapping[str, tuple[tuple[str, ...], sparse.csr_array]]

    def name_tokens(self, field: str, name: str) -> set[str]:
        """The (group-qualified) tokens ``name`` sets when written in ``field``."""
        return _tokens_of(self.extractors[field], name)


def _tokens_of(
    extractors: Sequence[tuple[str, Callable[[tuple[str, ...]], list[str]]]], name: str
) -> set[str]:
    words = tuple(name.split())
    return {f"{group}|{t}" for group, extract in extractors for t in extract(words)}


def token_model(schema: LinkageSchema, names: NameList) -> TokenModel:
    """Expected token and token-pair frequencies per record, from the name list.

    Within one field, the share of values holding tokens t and u is read off the list; the
    name fields of a record are taken as independent, so a record lacks t only if every name
    field lacks it: ``P(t) = 1 - prod_f (1 - p_f(t))`` and likewise for pairs.
    """
    specs = name_fields(schema)
    extractors = {
        spec.name: [(spec.key_group, _feature_tokens(f)) for f in spec.features] for spec in specs
    }
    token_hashes: dict[str, int] = {}
    held: dict[str, tuple[tuple[str, ...], npt.NDArray[np.float64], list[list[str]]]] = {}
    for spec in specs:
        listed, weights = names.for_field(spec.name)
        per_name: list[list[str]] = []
        for name in listed:
            words = tuple(name.split())
            keys: set[str] = set()
            for feature in spec.features:
                for t in _feature_tokens(feature)(words):
                    key = f"{spec.key_group}|{t}"
                    token_hashes.setdefault(key, feature.hashes)
                    keys.add(key)
            per_name.append(sorted(keys))
        held[spec.name] = (listed, weights, per_name)
    tokens = tuple(sorted(token_hashes))
    index = {t: i for i, t in enumerate(tokens)}
    size = len(tokens)
    lacks_single = np.ones(size)
    lacks_pair = np.ones((size, size))
    incidences: dict[str, tuple[tuple[str, ...], sparse.csr_array]] = {}
    for field, (listed, weights, per_name) in held.items():
        rows = [r for r, ks in enumerate(per_name) for _ in ks]
        cols = [index[k] for ks in per_name for k in ks]
        incidence = sparse.csr_array(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(listed), size)
        )
        incidences[field] = (listed, incidence)
        if not listed:
            continue
        share = weights / weights.sum()
        p1 = np.asarray(incidence.T @ share, dtype=np.float64)
        p2 = np.asarray((incidence.T @ sparse.diags_array(share) @ incidence).toarray())
        lacks_single *= 1.0 - p1
        lacks_pair *= 1.0 - p1[:, None] - p1[None, :] + p2
    single = 1.0 - lacks_single
    pair = 1.0 - lacks_single[:, None] - lacks_single[None, :] + lacks_pair
    all_hashes = tuple(sorted({f.hashes for spec in schema.fields for f in spec.features}))
    return TokenModel(
        tokens=tokens,
        hashes=np.array([token_hashes[t] for t in tokens], dtype=np.int64),
        single=np.clip(single, 0.0, 1.0),
        pair=np.clip(pair, 0.0, 1.0),
        all_hashes=all_hashes,
        extractors=extractors,
        incidence=incidences,
    )
