from __future__ import annotations

import numpy as np

from blindlink.encoding.encoder import Encoder, EncodeReport
from blindlink.pipeline.link import DEFAULT_THRESHOLD
from blindlink.schema import default_schema

SECRET = b"0123456789abcdef0123456789abcdef"


def dice(a: np.ndarray, b: np.ndarray) -> float:
    inter = int(np.bitwise_count(a & b).sum())
    return 2 * inter / int(np.bitwise_count(a).sum() + np.bitwise_count(b).sum())


def record(**values: str) -> dict[str, str]:
    base = dict.fromkeys(
        ("record_id", "given_name", "family_name", "date_of_birth", "sex", "nationality"), ""
    )
    base.update(values)
    return base


def encode(*rows: dict[str, str], secret: bytes = SECRET) -> np.ndarray:
    return Encoder(default_schema(), secret).encode(list(rows))


def test_shape_and_determinism() -> None:
    rows = [record(given_name="Ana", family_name="Silva", date_of_birth="1990-01-02")]
    filters = encode(*rows)
    assert filters.shape == (1, 128)
    assert filters.dtype == np.uint8
    assert np.array_equal(filters, encode(*rows))


def test_other_secret_other_bits() -> None:
    row = record(given_name="Ana", family_name="Silva")
    assert not np.array_equal(encode(row), encode(row, secret=b"x" * 32))


def test_missing_values_set_no_bits() -> None:
    empty = encode(record())
    assert int(np.bitwise_count(empty).sum()) == 0


def test_swapped_names_encode_identically() -> None:
    a, b = encode(
        record(given_name="Oleksandr", family_name="Shevchenko", date_of_birth="1985"),
        record(given_name="Shevchenko", family_name="Oleksandr", date_of_birth="1985"),
    )
    assert np.array_equal(a, b)


def test_native_script_is_closer_to_its_romanisation_than_to_another_name() -> None:
    native, roman, other = encode(
        record(given_name="Олександр", family_name="Шевченко", date_of_birth="1985-01-02"),
        record(given_name="Oleksandr", family_name="Shevchenko", date_of_birth="1985-01-02"),
        record(given_name="Petro", family_name="Bondarenko", date_of_birth="1985-01-02"),
    )
    assert dice(native, roman) == 1.0
    # another person born the same day stays below the match threshold
    assert dice(native, other) < DEFAULT_THRESHOLD


def test_near_miss_dates_lower_similarity_gradually() -> None:
    base, swapped, year_off, year_only, other = encode(
        record(given_name="Amina", date_of_birth="1990-05-03"),
        record(given_name="Amina", date_of_birth="1990-03-05"),
        record(given_name="Amina", date_of_birth="1991-05-03"),
        record(given_name="Amina", date_of_birth="1990"),
        record(given_name="Amina", date_of_birth="1975-11-22"),
    )
    far = dice(base, other)
    for near in (swapped, year_off, year_only):
        assert far < dice(base, near) < 1.0


def test_report_counts_missing_and_invalid() -> None:
    report = EncodeReport()
    Encoder(default_schema(), SECRET).encode(
        [
            record(given_name="Ana", date_of_birth="sometime in 1990"),
            record(given_name="Ana", date_of_birth=""),
            record(given_name="Ana", date_of_birth="1990"),
        ],
        report,
    )
    assert report.records == 3
    assert report.fields["date_of_birth"].missing == 2
    assert report.fields["date_of_birth"].invalid == 1
    assert report.fields["given_name"].missing == 0
    assert report.fields["sex"].missing == 3


def test_placeholder_birthday_counts_as_year_only() -> None:
    jan_first, year_only, real = encode(
        record(given_name="Amina", date_of_birth="1990-01-01"),
        record(given_name="Amina", date_of_birth="1990"),
        record(given_name="Amina", date_of_birth="1990-05-03"),
    )
    assert np.array_equal(jan_first, year_only)
    assert dice(jan_first, real) < 1.0
