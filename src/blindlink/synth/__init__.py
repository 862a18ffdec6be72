"""Seeded synthetic case records for demos, tests and benchmarks.

``generate`` invents a hidden population of trafficking victims of many origins, lets several
agencies capture overlapping samples of it and writes each capture the way that agency would
(native script or one of several romanisations, typos, partial dates, duplicates...);
``write_dataset`` writes the agency CSV files and the ground truth.
"""

from __future__ import annotations

from blindlink.synth.generator import (
    CASE_ATTRIBUTE_COLUMNS,
    CorruptionRates,
    SyntheticData,
    agency_names,
    generate,
)
from blindlink.synth.writer import TRUTH_COLUMNS, write_dataset

__all__ = [
    "CASE_ATTRIBUTE_COLUMNS",
    "TRUTH_COLUMNS",
    "CorruptionRates",
    "SyntheticData",
    "agency_names",
    "generate",
    "write_dataset",
]
