"""What the self-audit tells the data officer: attack outcomes and warnings, as data.

Why two kinds of numbers: without the plaintext, the audit can only say what an attacker
would *claim* (how many records it would put a name on, how many q-grams it would think it
has decoded) -- an upper bound on the damage that may be mostly wrong guesses. With the
agency's own CSV (``--truth``; the agency has it, the attacker does not) it measures how many
claims are right. Warnings point at records and filters that stand out whatever the attack:
outlying popcounts and frequent identical filters. Nothing here holds a name, a record id or
filter bytes, so a report can be shared with the coordinator or a supervisor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "AttackOutcome",
    "AuditReport",
    "AuditWarning",
    "frequent_filter_warning",
    "popcount_warning",
]

#: A filter's popcount is an outlier beyond this many robust standard deviations (MAD).
POPCOUNT_Z = 4.0
#: Identical filters shared by at least this many records are flagged.
FREQUENT_FILTER_COUNT = 3


def _share(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole


@dataclass(frozen=True)
class AttackOutcome:
    """One attack against the file: what it claims and, with the plaintext, what it got right.

    ``qgrams_*`` count name tokens (q-grams, skeleton q-grams) -- pattern mining only.
    ``qgrams_in_data`` is the number of distinct name tokens the file's records hold and
    ``qgram_occurrences_*`` count (record, token) incidences, so that decoding the few
    frequent tokens shows as the large share of the text it is.
    """

    attack: str
    records: int
    records_claimed: int
    qgrams_claimed: int | None = None
    records_reidentified: int | None = None
    qgrams_reidentified: int | None = None
    qgrams_in_data: int | None = None
    qgram_occurrences_reidentified: int | None = None
    qgram_occurrences: int | None = None

    @property
    def record_rate(self) -> float | None:
        """Share of all records whose name the attack got right (None without truth)."""
        return _share(self.records_reidentified, self.records)

    @property
    def claim_rate(self) -> float:
        """Share of all records the attack puts a name on, right or wrong."""
        return self.records_claimed / self.records if self.records else 0.0

    @property
    def qgram_rate(self) -> float | None:
        """Share of the file's distinct name tokens whose bit pattern was decoded correctly."""
        return _share(self.qgrams_reidentified, self.qgrams_in_data)

    @property
    def qgram_occurrence_rate(self) -> float | None:
        """Share of the name tokens in the records (with repeats) decoded correctly."""
        return _share(self.qgram_occurrences_reidentified, self.qgram_occurrences)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(
            record_rate=self.record_rate,
            claim_rate=self.claim_rate,
            qgram_rate=self.qgram_rate,
            qgram_occurrence_rate=self.qgram_occurrence_rate,
        )
        return out


@dataclass(frozen=True)
class AuditWarning:
    """Something in the encodings that helps an attacker, with the records concerned."""

    kind: str
    records: int
    message: str


@dataclass(frozen=True)
class AuditReport:
    """The audit of one encoded file."""

    source: str
    records: int
    filter_bits: int
    schema: str
    hardening: tuple[str, ...]
    names: str
    truth: str | None
    patterns_found: int
    attacks: tuple[AttackOutcome, ...]
    warnings: tuple[AuditWarning, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``blindlink audit --json``)."""
        return {
            "source": self.source,
            "records": self.records,
            "filter_bits": self.filter_bits,
            "schema": self.schema,
            "hardening": list(self.hardening),
            "names": self.names,
            "truth": self.truth,
            "patterns_found": self.patterns_found,
            "attacks": [a.to_dict() for a in self.attacks],
            "warnings": [asdict(w) for w in self.warnings],
        }


def popcount_warning(bits: npt.NDArray[np.bool_]) -> AuditWarning | None:
    """Records whose number of set bits is far from the rest (robust z-score beyond 4).

    A filter's weight grows with the number of tokens: very light filters are records with
    most fields missing, very heavy ones long or many-part names. Both stand out in any
    encoded file and narrow down who they can be.
    """
    if bits.shape[0] < 10:
        return None
    weight = bits.sum(axis=1).astype(np.float64)
    median = float(np.median(weight))
    spread = 1.4826 * float(np.median(np.abs(weight - median)))
    spread = max(spread, 1.0)
    low, high = median - POPCOUNT_Z * spread, median + POPCOUNT_Z * spread
    outlying = int(((weight < low) | (weight > high)).sum())
    if not outlying:
        return None
    return AuditWarning(
        kind="popcount_outliers",
        records=outlying,
        message=(
            f"{outlying:,} records ({outlying / len(weight):.1%}) have a popcount far from the "
            f"rest (below {max(low, 0):.0f} or above {high:.0f} set bits; median "
            f"{median:.0f}): a filter's weight gives away nearly empty records (most fields "
            "missing) and unusually long names; check those records' values"
        ),
    )


def frequent_filter_warning(sizes: npt.NDArray[np.int64]) -> AuditWarning | None:
    """Identical filters shared by several records: the foothold of frequency attacks."""
    frequent = sizes[sizes >= FREQUENT_FILTER_COUNT]
    if not len(frequent):
        return None
    records = int(frequent.sum())
    return AuditWarning(
        kind="frequent_identical_filters",
        records=records,
        message=(
            f"{len(frequent):,} filters occur {FREQUENT_FILTER_COUNT} times or more "
            f"({records:,} records; the commonest {int(frequent.max()):,} times): identical "
            "filters mean identical encoded values, and a frequent one a frequent value that "
            "a frequency attack can align with public lists; remove duplicate registrations, "
            "or encode more fields"
        ),
    )
