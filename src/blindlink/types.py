"""Data contracts that stages hand to each other: small, typed, free of behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

#: The CSV columns of the built-in schema for trafficking-victim case records.
STANDARD_COLUMNS: tuple[str, ...] = (
    "record_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "nationality",
)


#: Code of a missing (unknown, unusable) attribute value in :attr:`RecordAttributes.codes`.
MISSING_CODE = 0


@dataclass(frozen=True)
class AttributeColumn:
    """One aggregate attribute an agency sends in the clear: its name and its possible values.

    Values are coarse by construction (a closed list of codes, age bands, years), fixed by the
    linkage schema. ``kind`` is ``categorical``, ``age_band`` or ``year``; ``reference_date``
    (``YYYY-MM-DD``) is the date ages were counted to, for ``age_band`` only.
    """

    name: str
    kind: str
    values: tuple[str, ...]
    reference_date: str | None = None


@dataclass(frozen=True)
class RecordAttributes:
    """Aggregate attributes of an agency's records, one row per record, in record order.

    ``codes[i, j]`` is record ``i``'s value of ``columns[j]``: :data:`MISSING_CODE` (0) when
    unknown, else ``c`` for ``columns[j].values[c - 1]`` (``uint16``, shape
    ``(n_records, len(columns))``). They are for counting only: never personal details beyond
    these coarse values, and never a reason to look a record up.
    """

    columns: tuple[AttributeColumn, ...]
    codes: npt.NDArray[np.uint16] = field(repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


@dataclass(frozen=True)
class RecordBlockingKeys:
    """Keyed blocking-key values of an agency's records, in the layout of the encoded file.

    ``counts[i, k]`` is how many values record ``i`` has for the key ``names[k]`` (``uint16``,
    shape ``(n_records, len(names))``; 0: the record has no value of that key). ``values``
    holds them all (``uint64``: the first 8 bytes of an HMAC, read big-endian), record after
    record and, within a record, key after key; one record's values of one key are distinct
    and ascending. Values are only ever compared for equality, within one key: they say
    which records agree on a key, never on what.
    """

    names: tuple[str, ...]
    counts: npt.NDArray[np.uint16] = field(repr=False)
    values: npt.NDArray[np.uint64] = field(repr=False)

    def key(self, index: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64]]:
        """The values of key ``names[index]`` and the record (row) each belongs to.

        A record appears once per value it has, in record order.
        """
        counts = self.counts.astype(np.int64)
        per_key = counts[:, index]
        if not per_key.any():
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
        ends = np.cumsum(counts.ravel()).reshape(counts.shape)
        starts = ends[:, index] - per_key
        rows = np.repeat(np.arange(counts.shape[0], dtype=np.int64), per_key)
        first_of_row = np.cumsum(per_key) - per_key
        within = np.arange(rows.shape[0], dtype=np.int64) - np.repeat(first_of_row, per_key)
        return rows, self.values[np.repeat(starts, per_key) + within]


@dataclass(frozen=True)
class EncodedBatch:
    """One agency's encoded records: what leaves the agency, and all the coordinator sees.

    ``filters`` holds one packed Bloom filter per record (``uint8``, shape
    ``(n_records, filter_bits // 8)``, bit ``i`` of a filter is bit ``7 - i % 8`` of byte
    ``i // 8``: the same byte layout as anonlink's CLKs). ``attributes``, when the schema
    marks aggregate attributes, holds their coarse values per record, sent in the clear for
    counting. ``blocking_keys``, when the schema defines blocking keys, holds each record's
    keyed blocking-key values (``link --blocking keys``). Record ids, filters, attributes and
    blocking keys are left out of the repr so that they never reach a log or a traceback.
    """

    agency: str
    schema_fingerprint: str
    key_check: str
    filter_bits: int
    record_ids: tuple[str, ...] = field(repr=False)
    filters: npt.NDArray[np.uint8] = field(repr=False)
    attributes: RecordAttributes | None = field(default=None, repr=False)
    blocking_keys: RecordBlockingKeys | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.record_ids)


@dataclass(frozen=True)
class CandidatePairs:
    """Pairs of records that scored at or above a threshold, as a struct of arrays.

    Rows index into the concatenation of all batches being linked (``rows_a < rows_b``).
    """

    scores: npt.NDArray[np.float64]
    rows_a: npt.NDArray[np.int64]
    rows_b: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.scores.shape[0])
