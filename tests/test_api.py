"""The public library API: pinned exports, a light import, DataFrames and dicts as input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd

import blindlink

EXPECTED = {
    "BlindlinkError", "EncodeReport", "EncodedBatch", "LinkResult", "LinkageSchema",
    "__version__", "candidate_pairs", "default_schema", "encode", "encode_file", "link",
    "link_files", "load_schema", "new_secret_text", "read_blk", "read_secret_file", "write_blk",
    "write_results",
}  # fmt: skip
SECRET = b"api-test-secret-0123456789abcdef"


def test_exports_are_pinned_and_resolve() -> None:
    assert set(blindlink.__all__) == EXPECTED
    for name in blindlink.__all__:
        assert getattr(blindlink, name) is not None


def test_import_stays_light() -> None:
    code = "import sys, blindlink; print('numba' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_dataframe_and_dicts_encode_identically() -> None:
    rows = [
        {"record_id": "1", "given_name": "Amina", "family_name": "Yusuf",
         "date_of_birth": "1999-04-02", "sex": "F", "nationality": "NGA"},
        {"record_id": "2", "given_name": "Оксана", "family_name": "Бойко",
         "date_of_birth": "", "sex": "F", "nationality": "UKR"},
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    frame.loc[1, "date_of_birth"] = None
    from_frame = blindlink.encode(frame, secret=SECRET, agency="a")
    from_dicts = blindlink.encode(rows, secret=SECRET, agency="a")
    assert from_frame.record_ids == ("1", "2")
    assert np.array_equal(from_frame.filters, from_dicts.filters)


def test_library_round_trip_without_files() -> None:
    rows_a = [
        {"record_id": "record-a1", "given_name": "Mohammed", "family_name": "Al-Hassan",
         "date_of_birth": "1990-05-03", "sex": "M", "nationality": "SYR"},
        {"record_id": "a2", "given_name": "Lan", "family_name": "Nguyen",
         "date_of_birth": "2002-12-01", "sex": "F", "nationality": "VNM"},
    ]  # fmt: skip
    rows_b = [
        {"record_id": "b1", "given_name": "Muhammad", "family_name": "Alhassan",
         "date_of_birth": "1990-05-03", "sex": "M", "nationality": "SYR"},
    ]  # fmt: skip
    a = blindlink.encode(rows_a, secret=SECRET, agency="a")
    b = blindlink.encode(rows_b, secret=SECRET, agency="b")
    result = blindlink.link([a, b], seed=1)
    entity = {(agency, rid): e for e, agency, rid in result.rows()}
    assert entity["a", "record-a1"] == entity["b", "b1"]
    assert entity["a", "a2"] != entity["a", "record-a1"]
    assert result.statistics["unique_persons"] == 2
    assert "EncodedBatch(agency='a'" in repr(a) and "record-a1" not in repr(a)


def test_default_threshold_is_one_value_at_every_caseload() -> None:
    # competitor densities keep the right threshold from drifting with the caseload
    # (docs/quality.md), so the log(records) rule of the old densities is gone
    from blindlink.pipeline.link import DEFAULT_THRESHOLD, default_threshold

    sizes = [3_000, 60_000, 90_000, 150_000, 300_000, 10_000_000]
    assert [default_threshold(n) for n in sizes] == [DEFAULT_THRESHOLD] * len(sizes)
