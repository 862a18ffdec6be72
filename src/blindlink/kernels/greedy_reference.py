"""Plain-Python twin of the greedy 1-to-1 matcher: the definition ``greedy.py`` must match.

Candidates are taken best first (higher score, then lower row_a, then lower row_b) and a pair
is accepted when neither of its records has been matched yet. ``same_set`` says whether
rows_a and rows_b number the same records (a self-join's pairs), so a record used on either
side is taken on both.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MatchArrays = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]


def greedy_match_reference(
    scores: npt.NDArray[np.float64],
    rows_a: npt.NDArray[np.int64],
    rows_b: npt.NDArray[np.int64],
    *,
    same_set: bool = False,
) -> MatchArrays:
    """Accepted ``(rows_a, rows_b)`` in the order they were accepted (best first)."""
    candidates = sorted(
        zip(scores.tolist(), rows_a.tolist(), rows_b.tolist(), strict=True),
        key=lambda c: (-c[0], c[1], c[2]),
    )
    taken_a: set[int] = set()
    taken_b: set[int] = set()
    accepted: list[tuple[int, int]] = []
    for _, a, b in candidates:
        if same_set:
            if a in taken_a or b in taken_a or a == b:
                continue
            taken_a.update((a, b))
        else:
            if a in taken_a or b in taken_b:
                continue
            taken_a.add(a)
            taken_b.add(b)
        accepted.append((a, b))
    return (
        np.array([a for a, _ in accepted], dtype=np.int64),
        np.array([b for _, b in accepted], dtype=np.int64),
    )
