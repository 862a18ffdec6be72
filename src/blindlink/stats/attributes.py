"""Counts of persons by case attribute (sex, age band, nationality, ...), once per person.

Agencies send coarse attribute values in the clear beside their encodings (``types.
RecordAttributes``). After linkage a person may have several records, from one agency or
several, and they need not agree. Each person gets one value per attribute by these rules
(:data:`RULES`, also written into ``stats.json``):

* records whose value is unknown do not vote; a person none of whose records knows the value
  is ``unknown``;
* ``categorical``: the value most of the person's records give; a tie between different values
  is ``conflicting`` -- a category of its own, so disagreement stays visible instead of being
  settled by an arbitrary pick;
* ``age_band``: the band most records give; a tie goes to the youngest of the tied bands (the
  presumption of minority: when it is uncertain whether a victim is a child, they are treated
  as one);
* ``year``: the earliest year any record gives (the year the person first came to an agency's
  attention), whatever the other records say.

An attribute that an agency did not send (an optional column its CSV lacks) is unknown for its
records. Values are matched by their text, so files whose value lists differ still count
together. Nothing here reads encodings or secrets: only codes, labels and cluster labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from blindlink.types import MISSING_CODE, RecordAttributes

__all__ = [
    "CONFLICTING",
    "CROSS_TABULATIONS",
    "RULES",
    "UNKNOWN",
    "PersonAttribute",
    "attribute_statistics",
    "cross_tabulation",
    "person_attributes",
]

#: Label of a person whose records give no value.
UNKNOWN = "unknown"
#: Label of a person whose records disagree with no majority (categorical attributes).
CONFLICTING = "conflicting"
#: Pairs of attributes counted against each other (rows, columns), when both were sent.
CROSS_TABULATIONS: tuple[tuple[str, str], ...] = (("sex", "age_band"),)
#: How one value per person is chosen, by attribute kind (written into stats.json).
RULES: dict[str, str] = {
    "unknown": "records with an unknown value do not vote; a person with no known value is "
    f"{UNKNOWN!r}",
    "categorical": "the value most of the person's records give; a tie between different values "
    f"is {CONFLICTING!r}",
    "age_band": "the band most of the person's records give; a tie goes to the youngest tied "
    "band (presumption of minority)",
    "year": "the earliest year any of the person's records gives",
}


@dataclass(frozen=True)
class PersonAttribute:
    """One attribute resolved to one category per person.

    ``categories`` are the attribute's values in order, then ``conflicting`` (categorical
    only), then ``unknown``; ``person_category[p]`` indexes them. ``disagreeing`` counts the
    persons whose records give more than one value (resolved by the rule or not).
    """

    name: str
    kind: str
    categories: tuple[str, ...]
    person_category: npt.NDArray[np.int64]
    disagreeing: int
    reference_dates: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """Persons per category, every category listed (zeros too), in category order."""
        tally = np.bincount(self.person_category, minlength=len(self.categories))
        return {label: int(n) for label, n in zip(self.categories, tally.tolist(), strict=True)}


def _merged_columns(
    batches: Sequence[RecordAttributes | None],
) -> dict[str, tuple[str, list[str], list[str]]]:
    """Per attribute name: kind, the union of value lists (first seen order), reference dates."""
    merged: dict[str, tuple[str, list[str], list[str]]] = {}
    for attributes in batches:
        for column in attributes.columns if attributes is not None else ():
            kind, values, dates = merged.setdefault(column.name, (column.kind, [], []))
            values += [v for v in column.values if v not in values]
            if column.reference_date is not None and column.reference_date not in dates:
                dates.append(column.reference_date)
    return merged


def _record_codes(
    name: str, values: list[str], batches: Sequence[RecordAttributes | None], sizes: Sequence[int]
) -> npt.NDArray[np.int64]:
    """Every record's code for attribute ``name`` in the merged value list (0 = unknown)."""
    parts: list[npt.NDArray[np.int64]] = []
    for attributes, size in zip(batches, sizes, strict=True):
        if attributes is None or name not in attributes.names:
            parts.append(np.zeros(size, dtype=np.int64))
            continue
        j = attributes.names.index(name)
        column = attributes.columns[j]
        translate = np.array(
            [MISSING_CODE, *(values.index(v) + 1 for v in column.values)], dtype=np.int64
        )
        parts.append(translate[attributes.codes[:, j].astype(np.int64)])
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _resolve(
    kind: str, codes: npt.NDArray[np.int64], labels: npt.NDArray[np.int64], n_values: int,
    n_persons: int,
) -> tuple[npt.NDArray[np.int64], int]:  # fmt: skip
    """Each person's code by the rule of ``kind`` (0 unknown, -1 conflicting); disagreements."""
    known = codes != MISSING_CODE
    stride = n_values + 1
    keys, tally = np.unique(labels[known] * stride + codes[known], return_counts=True)
    person, code = keys // stride, keys % stride
    distinct = np.bincount(person, minlength=n_persons)
    resolved = np.zeros(n_persons, dtype=np.int64)
    if kind == "year":
        order = np.lexsort((code, person))  # earliest year first within each person
    else:  # most votes first, then the lowest code (for age bands: the youngest band)
        order = np.lexsort((code, -tally, person))
    person, code, tally = person[order], code[order], tally[order]
    first = np.flatnonzero(np.r_[True, person[1:] != person[:-1]]) if person.size else person
    resolved[person[first]] = code[first]
    if kind == "categorical" and person.size:
        after = np.minimum(first + 1, person.size - 1)
        tied = (after != first) & (person[after] == person[first]) & (tally[after] == tally[first])
        resolved[person[first][tied]] = -1
    return resolved, int(np.count_nonzero(distinct > 1))


def person_attributes(
    batches: Sequence[RecordAttributes | None],
    sizes: Sequence[int],
    labels: npt.NDArray[np.int64],
) -> list[PersonAttribute]:
    """Resolve every attribute any batch sent to one category per person (see :data:`RULES`).

    ``batches[i]`` are the attributes of the ``i``-th batch's ``sizes[i]`` records (None if it
    sent none), in the order their records have in ``labels`` (the person of each record).
    """
    n_persons = int(labels.max()) + 1 if labels.size else 0
    out: list[PersonAttribute] = []
    for name, (kind, values, dates) in _merged_columns(batches).items():
        codes = _record_codes(name, values, batches, sizes)
        resolved, disagreeing = _resolve(kind, codes, labels, len(values), n_persons)
        n = len(values)
        if kind == "categorical":
            categories: tuple[str, ...] = (*values, CONFLICTING, UNKNOWN)
            index = np.where(resolved > 0, resolved - 1, np.where(resolved < 0, n, n + 1))
        else:
            categories = (*values, UNKNOWN)
            index = np.where(resolved > 0, resolved - 1, n)
        out.append(
            PersonAttribute(
                name=name,
                kind=kind,
                categories=categories,
                person_category=index.astype(np.int64),
                disagreeing=disagreeing,
                reference_dates=tuple(sorted(dates)),
            )
        )
    return out


def cross_tabulation(row: PersonAttribute, column: PersonAttribute) -> dict[str, dict[str, int]]:
    """Persons by ``row`` category and ``column`` category, every cell listed."""
    width = len(column.categories)
    cells = np.bincount(
        row.person_category * width + column.person_category,
        minlength=len(row.categories) * width,
    ).reshape(len(row.categories), width)
    return {
        r: {c: int(n) for c, n in zip(column.categories, cells[i].tolist(), strict=True)}
        for i, r in enumerate(row.categories)
    }


def attribute_statistics(
    batches: Sequence[RecordAttributes | None],
    sizes: Sequence[int],
    labels: npt.NDArray[np.int64],
) -> dict[str, Any]:
    """The ``attributes`` part of stats.json: raw persons per category, for the coordinator.

    Per attribute: its kind, persons per category (every category, zeros too), how many
    persons' records disagreed, and for age bands the reference dates the agencies used;
    cross-tabulations of :data:`CROSS_TABULATIONS`; and the rules. Empty when no batch sent
    attributes.
    """
    resolved = person_attributes(batches, sizes, labels)
    if not resolved:
        return {}
    by_name = {attribute.name: attribute for attribute in resolved}
    tables: dict[str, Any] = {}
    for attribute in resolved:
        table: dict[str, Any] = {
            "kind": attribute.kind,
            "persons": attribute.counts(),
            "persons_whose_records_disagree": attribute.disagreeing,
        }
        if attribute.kind == "age_band":
            table["reference_dates"] = list(attribute.reference_dates)
        tables[attribute.name] = table
    crossed = {
        f"{a}_by_{b}": {
            "rows": a,
            "columns": b,
            "persons": cross_tabulation(by_name[a], by_name[b]),
        }
        for a, b in CROSS_TABULATIONS
        if a in by_name and b in by_name
    }
    return {
        "attributes": {
            "rules": dict(RULES),
            "tables": tables,
            "cross_tabulations": crossed,
        }
    }
