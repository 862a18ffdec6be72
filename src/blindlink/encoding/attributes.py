"""Aggregate attributes, coarsened at the agency: what may leave it in the clear, for counting.

A schema's ``aggregate_attributes`` name case attributes the coordinator counts persons by
(sex, age band, nationality, ...). They travel in the clear beside the encodings, so each is
reduced here, before it leaves the agency, to one of a closed list of coarse values:

* ``categorical``: the value trimmed and in upper case, a listed spelling mapped to its code,
  kept only if it is one of the attribute's ``values``;
* ``age_band``: the age on the reference date of a date of birth, as the band it falls in.
  A date known only to the year counts from 1 July of that year, one known to the month from
  the 15th: the middle, so that the band is right as often as it can be. The date of birth
  itself never leaves the agency;
* ``year``: the year of a date (or a bare year), within the attribute's range.

Anything else -- blank, a placeholder, an unlisted code, an unreadable date, an age outside
0 to 120 -- is sent as unknown (code 0), never as what was written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt

from blindlink.encoding.normalise import normalise_code, parse_partial_date
from blindlink.schema import AggregateAttribute
from blindlink.types import MISSING_CODE, AttributeColumn

__all__ = ["AttributeCoder", "MAX_AGE", "reference_day"]

#: Ages above this are typing errors, not people.
MAX_AGE = 120

Coarsen = Callable[[str], int]


def reference_day(attribute: AggregateAttribute, given: date | None) -> date:
    """The day ages are counted to: the schema's, else ``given``, else today (UTC)."""
    if attribute.reference_date is not None:
        return date.fromisoformat(attribute.reference_date)
    return given if given is not None else datetime.now(UTC).date()


def _categorical(attribute: AggregateAttribute) -> Coarsen:
    index = {value: position for position, value in enumerate(attribute.values, start=1)}
    spelled = {normalise_code(spelling): normalise_code(code) for spelling, code in attribute.codes}
    placeholders = {normalise_code(value) for value in attribute.missing_values}

    def coarsen(value: str) -> int:
        text = normalise_code(value)
        if not text or text in placeholders:
            return MISSING_CODE
        return index.get(spelled.get(text, text), MISSING_CODE)

    return coarsen


def age_in_years(year: int, month: int | None, day: int | None, on: date) -> int:
    """Completed years on ``on`` of a person born on the (partial) date; a missing month
    counts as July and a missing day as the 15th (the middle of what is known)."""
    born = (month or 7, day or (15 if month else 1))
    return on.year - year - ((on.month, on.day) < born)


def _age_band(attribute: AggregateAttribute, on: date) -> Coarsen:
    bands = attribute.bands
    placeholders = {normalise_code(value) for value in attribute.missing_values}

    def coarsen(value: str) -> int:
        if normalise_code(value) in placeholders:
            return MISSING_CODE
        parsed = parse_partial_date(value)
        if parsed is None:
            return MISSING_CODE
        age = age_in_years(*parsed, on)
        if not 0 <= age <= MAX_AGE:
            return MISSING_CODE
        return sum(1 for low in bands if low <= age)  # bands rise from 0: 1-based band

    return coarsen


def _year(attribute: AggregateAttribute) -> Coarsen:
    first, last = attribute.first_year, attribute.last_year
    placeholders = {normalise_code(value) for value in attribute.missing_values}

    def coarsen(value: str) -> int:
        if normalise_code(value) in placeholders:
            return MISSING_CODE
        parsed = parse_partial_date(value)
        if parsed is None or not first <= parsed[0] <= last:
            return MISSING_CODE
        return parsed[0] - first + 1

    return coarsen


class AttributeCoder:
    """Turns the attribute columns of records into the codes an encoded file carries.

    Built from the attributes an agency sends (optional ones whose column its CSV lacks are
    left out by the caller) and the day ages are counted to; each distinct text is coarsened
    once, so a column costs a dictionary look-up per record.
    """

    def __init__(self, attributes: Sequence[AggregateAttribute], *, on: date | None = None):
        self.attributes = tuple(attributes)
        columns: list[AttributeColumn] = []
        coarseners: list[Coarsen] = []
        for attribute in self.attributes:
            if attribute.kind == "age_band":
                day = reference_day(attribute, on)
                coarseners.append(_age_band(attribute, day))
                reference: str | None = day.isoformat()
            else:
                coarseners.append(
                    _categorical(attribute) if attribute.kind == "categorical" else _year(attribute)
                )
                reference = None
            columns.append(
                AttributeColumn(attribute.name, attribute.kind, attribute.categories, reference)
            )
        self.columns = tuple(columns)
        self._coarseners = tuple(coarseners)

    @property
    def source_columns(self) -> tuple[str, ...]:
        """The CSV columns read, in order, each once."""
        return tuple(dict.fromkeys(attribute.column for attribute in self.attributes))

    def codes(self, columns: Mapping[str, Sequence[str]], count: int) -> npt.NDArray[np.uint16]:
        """Codes of ``count`` records given as columns: shape ``(count, attributes)``."""
        out = np.zeros((count, len(self.attributes)), dtype=np.uint16)
        for j, (attribute, coarsen) in enumerate(
            zip(self.attributes, self._coarseners, strict=True)
        ):
            cache: dict[str, int] = {}
            values = columns[attribute.column]
            coded = [
                cache[text] if text in cache else cache.setdefault(text, coarsen(text))
                for text in values
            ]
            out[:, j] = coded
        return out
