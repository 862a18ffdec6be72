"""Aggregate counts of a linkage run: what the coordinator may know and report.

These are raw counts for the coordinator. Disclosure control for publication is applied on
top of them, never instead of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt


def linkage_statistics(
    agencies: Sequence[str],
    agency_of: npt.NDArray[np.int64],
    labels: npt.NDArray[np.int64],
) -> dict[str, Any]:
    """Records per agency, unique persons, duplicates within agencies, capture histories.

    ``agency_of[i]`` indexes ``agencies`` for record i; ``labels[i]`` is its person.
    A within-agency duplicate is a record beyond the first of one person in one agency;
    ``persons_registered_more_than_once`` counts the persons with such duplicates.
    A capture history is the set of agencies that registered a person.
    """
    n_agencies = len(agencies)
    records = np.bincount(agency_of, minlength=n_agencies)
    person_agency, per_pair = np.unique(labels * n_agencies + agency_of, return_counts=True)
    registered_again = np.bincount(person_agency[per_pair > 1] % n_agencies, minlength=n_agencies)
    persons_per_agency = np.bincount(person_agency % n_agencies, minlength=n_agencies)
    histories: dict[int, int] = {}
    for person, agency in zip(person_agency // n_agencies, person_agency % n_agencies, strict=True):
        histories[int(person)] = histories.get(int(person), 0) | (1 << int(agency))
    combination_counts = Counter(histories.values())
    combinations = [
        {
            "agencies": [agencies[a] for a in range(n_agencies) if mask >> a & 1],
            "persons": count,
        }
        for mask, count in sorted(
            combination_counts.items(), key=lambda item: (bin(item[0]).count("1"), item[0])
        )
    ]
    return {
        "records": {
            "total": int(records.sum()),
            "per_agency": {agencies[a]: int(records[a]) for a in range(n_agencies)},
        },
        "unique_persons": len(histories),
        "persons_per_agency": {agencies[a]: int(persons_per_agency[a]) for a in range(n_agencies)},
        "duplicates_within_agency": {
            agencies[a]: int(records[a] - persons_per_agency[a]) for a in range(n_agencies)
        },
        "persons_registered_more_than_once": {
            agencies[a]: int(registered_again[a]) for a in range(n_agencies)
        },
        "persons_by_agency_combination": combinations,
    }
