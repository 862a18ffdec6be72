"""Write a synthetic data set as the CSV files agencies would hand in, plus the truth.

Why atomic writes: benchmarks and the demo regenerate data in place; a half-written agency
file would silently change measured linkage quality, so each file appears whole or not at all.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from blindlink.io.atomic import atomic_file
from blindlink.synth.generator import CASE_ATTRIBUTE_COLUMNS, SyntheticData
from blindlink.types import STANDARD_COLUMNS

#: Header of ``truth.csv``; ``corruptions`` lists the kinds applied to the record, ``;``-joined.
TRUTH_COLUMNS: tuple[str, ...] = ("agency", "record_id", "person_id", "corruptions")


def _write_csv(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with atomic_file(path) as handle:
        handle.write(buffer.getvalue().encode("utf-8"))


def write_dataset(data: SyntheticData, directory: str | Path) -> dict[str, Path]:
    """Write ``<directory>/<agency>.csv`` for each agency and ``<directory>/truth.csv``.

    Agency files are UTF-8 with the standard columns, then the case attribute columns
    (:data:`CASE_ATTRIBUTE_COLUMNS`), as header, records in file order.
    Returns ``{agency: path, ..., "truth": path}``. ``directory`` must exist.
    """
    folder = Path(directory)
    paths: dict[str, Path] = {}
    truth_rows: list[list[str]] = []
    for agency, records in data.agencies.items():
        if agency == "truth":
            raise ValueError("an agency may not be called 'truth' (its file would clash)")
        path = folder / f"{agency}.csv"
        header = (*STANDARD_COLUMNS, *CASE_ATTRIBUTE_COLUMNS)
        _write_csv(path, header, [[r.get(c, "") for c in header] for r in records])
        paths[agency] = path
        for r in records:
            key = (agency, r["record_id"])
            truth_rows.append(
                [agency, r["record_id"], data.truth[key], ";".join(data.corruptions.get(key, ()))]
            )
    truth_path = folder / "truth.csv"
    _write_csv(truth_path, TRUTH_COLUMNS, truth_rows)
    paths["truth"] = truth_path
    return paths
