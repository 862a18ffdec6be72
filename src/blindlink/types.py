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


@dataclass(frozen=True)
class EncodedBatch:
    """One agency's encoded records: what leaves the agency, and all the coordinator sees.

    ``filters`` holds one packed Bloom filter per record (``uint8``, shape
    ``(n_records, filter_bits // 8)``, bit ``i`` of a filter is bit ``7 - i % 8`` of byte
    ``i // 8``: the same byte layout as anonlink's CLKs). Record ids and filters are left out of
    the repr so that they never reach a log or a traceback.
    """

    agency: str
    schema_fingerprint: str
    key_check: str
    filter_bits: int
    record_ids: tuple[str, ...] = field(repr=False)
    filters: npt.NDArray[np.uint8] = field(repr=False)

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
