"""The frequency alignment attack (Kuzu et al. 2011; Niedermeyer et al. 2014; Christen et al.).

Why it works: a keyed encoding hides which value a filter encodes, but not how often it
occurs. Identical plaintext gives identical filters, so the most frequent filter is most
likely the most frequent value of a public frequency list, the second the second, and so on.
It needs no secret and no knowledge of the hashing; it fails as soon as the encoded values
are mostly unique (a record-level filter over name, date of birth, sex and nationality), and
that failure is itself what the audit reports.

The attack here groups identical filters, keeps groups of at least ``min_count`` records,
and aligns them rank by rank with the names of the list, most frequent first. Records of an
aligned group are claimed to carry the aligned name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from blindlink.audit.names import NameList

__all__ = ["FrequencyAlignment", "frequency_alignment", "identical_groups"]


@dataclass(frozen=True)
class FrequencyAlignment:
    """Per record, the (field, name) the attack claims -- field None: any name field."""

    claims: list[tuple[str | None, str] | None]
    groups_aligned: int


def identical_groups(
    filters: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]:
    """Group number of each filter (0 = most frequent filter) and each group's size."""
    if filters.shape[0] == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
    rows = np.ascontiguousarray(filters).view(np.dtype((np.void, filters.shape[1])))[:, 0]
    _, first, inverse, counts = np.unique(
        rows, return_index=True, return_inverse=True, return_counts=True
    )
    # most frequent first; ties broken by first appearance, so the result is deterministic
    order = np.lexsort((first, -counts))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse.reshape(-1)].astype(np.intp), counts[order].astype(np.int64)


def frequency_alignment(
    filters: npt.NDArray[np.uint8], names: NameList, *, min_count: int = 2
) -> FrequencyAlignment:
    """Align groups of identical filters with the list's names, by frequency rank."""
    group, sizes = identical_groups(filters)
    ranked = names.ranked()
    frequent = int((sizes >= min_count).sum())
    aligned = min(frequent, len(ranked))
    claims: list[tuple[str | None, str] | None] = [
        (ranked[g][0], ranked[g][1]) if g < aligned else None for g in group.tolist()
    ]
    return FrequencyAlignment(claims=claims, groups_aligned=aligned)
