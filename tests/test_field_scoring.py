"""Field-aware scoring: layout from the schema, per-segment Dice twins, the Fellegi–Sunter EM,
and the wiring into link() and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from blindlink.errors import IncompatibleFilesError, InputError
from blindlink.io.blk import write_blk
from blindlink.kernels.segment_dice import segment_dice
from blindlink.kernels.segment_dice_reference import segment_dice_reference
from blindlink.linkage.fields import (
    MISSING,
    FieldModel,
    comparison_levels,
    fit_field_model,
)
from blindlink.pipeline.encode import encode
from blindlink.pipeline.link import link
from blindlink.schema import HardeningStep, default_schema, load_schema
from blindlink.schema.layout import NoFieldLayout, field_layout, field_layout_problem
from blindlink.synth import generate
from helpers import run_cli

EXAMPLES = Path(__file__).resolve().parents[1] / "protocols" / "examples"
SECRET = b"field-scoring-test-secret-012345"


@pytest.fixture(scope="module")
def field_schema():  # type: ignore[no-untyped-def]
    return load_schema(EXAMPLES / "field-level-bloom.json")


def _bits(filters: np.ndarray) -> np.ndarray:
    return np.unpackbits(filters, axis=1).astype(bool)


# ---- layout ------------------------------------------------------------------------------


def test_layout_matches_what_the_encoder_writes(field_schema) -> None:  # type: ignore[no-untyped-def]
    layout = field_layout(field_schema)
    assert layout.names == ("person_name", "date_of_birth", "sex", "nationality")
    assert layout.segments[0].fields == ("given_name", "family_name")
    assert layout.segments[0].start == 0 and layout.segments[-1].stop == field_schema.filter_bits
    assert all(
        a.stop == b.start for a, b in zip(layout.segments, layout.segments[1:], strict=False)
    )
    blank = {"given_name": "", "family_name": "", "date_of_birth": "", "sex": "", "nationality": ""}
    rows = [
        {**blank, "record_id": "1", "given_name": "Amina", "family_name": "Yusuf"},
        {**blank, "record_id": "2", "date_of_birth": "1999-04-02"},
        {**blank, "record_id": "3", "sex": "F"},
        {**blank, "record_id": "4", "nationality": "NGA"},
    ]
    bits = _bits(encode(rows, secret=SECRET, agency="a", schema=field_schema).filters)
    for row, segment in enumerate(layout.segments):
        inside = np.zeros(field_schema.filter_bits, dtype=bool)
        inside[segment.start : segment.stop] = True
        assert bits[row, inside].any(), segment.key_group
        assert not bits[row, ~inside].any(), segment.key_group


def test_layouts_that_mix_segments_are_refused(field_schema) -> None:  # type: ignore[no-untyped-def]
    assert "clk" in (field_layout_problem(default_schema()) or "")
    with pytest.raises(NoFieldLayout, match="rbf"):
        field_layout(load_schema(EXAMPLES / "field-level-rbf.json"))
    for kind, reason in (("diffusion", "diffusion"), ("xor_folding", "xor_folding"),
                         ("balancing", "keyed permutation")):  # fmt: skip
        hardened = replace(field_schema, hardening=(HardeningStep(kind),))
        with pytest.raises(NoFieldLayout, match=reason):
            field_layout(hardened)
    # blip flips bits in place: the segments survive
    blipped = replace(field_schema, hardening=(HardeningStep("blip", epsilon=3.0),))
    assert field_layout(blipped).segments == field_layout(field_schema).segments


# ---- per-segment Dice: kernel and twin -----------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    width=st.integers(1, 24),
    rows=st.integers(1, 12),
)
def test_segment_dice_kernel_agrees_with_its_twin(
    data: st.DataObject, width: int, rows: int
) -> None:
    filters = data.draw(
        arrays(np.uint8, (rows, width), elements=st.sampled_from([0, 0, 1, 3, 128, 255, 90]))
    )
    cuts = sorted(data.draw(st.lists(st.integers(0, width * 8), min_size=2, max_size=6)))
    bounds = np.array(list(zip(cuts[:-1], cuts[1:], strict=True)), dtype=np.int64).reshape(-1, 2)
    pairs = data.draw(st.lists(st.tuples(st.integers(0, rows - 1), st.integers(0, rows - 1))))
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    fast = segment_dice(filters, a, b, bounds)
    slow = segment_dice_reference(filters, a, b, bounds)
    assert fast.dtype == slow.dtype and fast.shape == slow.shape == (len(pairs), len(bounds))
    assert np.array_equal(fast, slow, equal_nan=True)


def test_segment_empty_on_either_side_is_missing() -> None:
    filters = np.array([[0xFF, 0x00], [0xF0, 0x0F], [0xFF, 0x0F]], dtype=np.uint8)
    bounds = np.array([[0, 8], [8, 16]], dtype=np.int64)
    dice = segment_dice(filters, np.array([0, 1]), np.array([2, 2]), bounds)
    assert dice[0, 0] == 1.0 and np.isnan(dice[0, 1])  # record 0 has nothing in segment 1
    assert dice[1, 0] == pytest.approx(2 * 4 / 12) and dice[1, 1] == 1.0
    assert comparison_levels(dice)[0, 1] == MISSING


def test_missing_segments_contribute_nothing() -> None:
    m = np.array([[0.8, 0.1, 0.1], [0.7, 0.2, 0.1]])
    u = np.array([[0.01, 0.09, 0.9], [0.05, 0.15, 0.8]])
    model = FieldModel(("a", "b"), (0.9, 0.7), m, u, 0.001, "random pairs", 1, True)
    prior = np.log2(0.001 / 0.999)
    levels = np.array([[0, MISSING], [MISSING, 2], [MISSING, MISSING], [0, 2]], dtype=np.int8)
    weights = model.weights(levels)
    assert weights[0] == pytest.approx(prior + np.log2(0.8 / 0.01))
    assert weights[1] == pytest.approx(prior + np.log2(0.1 / 0.8))
    assert weights[2] == pytest.approx(prior)  # nothing known: the prior alone
    assert weights[3] == pytest.approx(weights[0] + weights[1] - prior)


# ---- EM ------------------------------------------------------------------------------------


def _simulate(
    rng: np.random.Generator, n: int, share: float, m: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Comparison vectors drawn from planted m, u and match share (10 % of values missing)."""
    is_match = rng.random(n) < share
    levels = np.empty((n, m.shape[0]), dtype=np.int8)
    for s in range(m.shape[0]):
        levels[:, s] = np.where(
            is_match,
            rng.choice(m.shape[1], size=n, p=m[s]),
            rng.choice(u.shape[1], size=n, p=u[s]),
        )
    levels[rng.random(levels.shape) < 0.1] = MISSING
    return levels, is_match


PLANTED_M = np.array([[0.70, 0.15, 0.10, 0.05], [0.80, 0.05, 0.05, 0.10], [0.90, 0.04, 0.03, 0.03]])
PLANTED_U = np.array([[0.02, 0.03, 0.15, 0.80], [0.01, 0.02, 0.07, 0.90], [0.20, 0.05, 0.05, 0.70]])


def test_em_recovers_planted_m_with_u_fixed() -> None:
    rng = np.random.default_rng(7)
    levels, is_match = _simulate(rng, 60_000, 0.05, PLANTED_M, PLANTED_U)
    all_pairs = levels.shape[0]  # u is over all non-matches: here every pair is a candidate
    start = np.where(is_match & (rng.random(is_match.shape[0]) < 0.3), 1.0, 0.0)  # a few sure ones
    model = fit_field_model(levels, start, u=PLANTED_U, all_pairs=all_pairs, edges=(0.9, 0.8, 0.7))
    assert model.converged
    assert np.abs(model.m - PLANTED_M).max() < 0.02
    assert model.prior * all_pairs == pytest.approx(is_match.sum(), rel=0.05)


def test_em_recovers_planted_m_and_u_on_candidates() -> None:
    rng = np.random.default_rng(8)
    levels, is_match = _simulate(rng, 60_000, 0.05, PLANTED_M, PLANTED_U)
    start = np.where(is_match & (rng.random(is_match.shape[0]) < 0.3), 1.0, 0.0)
    model = fit_field_model(levels, start, edges=(0.9, 0.8, 0.7))
    assert np.abs(model.m - PLANTED_M).max() < 0.03
    assert np.abs(model.u - PLANTED_U).max() < 0.01
    assert model.prior == pytest.approx(is_match.mean(), rel=0.05)
    assert model.u_source == "candidate pairs"


# ---- link() and the CLI ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def field_batches(field_schema):  # type: ignore[no-untyped-def]
    data = generate(n_persons=300, n_agencies=3, seed=1)
    return [encode(rows, secret=SECRET, agency=name, schema=field_schema)
            for name, rows in data.agencies.items()]  # fmt: skip


def test_link_scores_by_fields(field_batches, field_schema) -> None:  # type: ignore[no-untyped-def]
    result = link(field_batches, scoring="fields", schema=field_schema, seed=1)
    scoring = result.statistics["linkage"]["scoring"]
    assert scoring["used"] == "fields"
    assert scoring["model"]["segments"] == list(field_layout(field_schema).names)
    assert result.threshold == 0.5
    assert np.array_equal(result.links.scores, result.links.probabilities)
    assert (result.links.scores >= 0.5).all()


def test_record_scoring_is_unchanged_by_default(field_batches, field_schema) -> None:  # type: ignore[no-untyped-def]
    plain = link(field_batches, seed=1)
    with_schema = link(field_batches, seed=1, schema=field_schema)
    assert np.array_equal(plain.labels, with_schema.labels)
    assert plain.statistics["linkage"]["scoring"] == {"requested": "record", "used": "record"}


def test_schema_with_another_fingerprint_is_refused(field_batches, field_schema) -> None:  # type: ignore[no-untyped-def]
    other = replace(field_schema, document={**field_schema.document, "name": "another"})
    with pytest.raises(IncompatibleFilesError) as caught:
        link(field_batches, scoring="fields", schema=other)
    message = str(caught.value)
    assert "\n" not in message and "fingerprint" in message and "schema given" in message


def test_field_scoring_needs_the_schema(field_batches) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="--schema"):
        link(field_batches, scoring="fields")


def test_cli_links_with_field_scoring(tmp_path: Path, field_batches, capsys) -> None:  # type: ignore[no-untyped-def]
    files = []
    for batch in field_batches:
        write_blk(tmp_path / f"{batch.agency}.blk", batch)
        files.append(str(tmp_path / f"{batch.agency}.blk"))
    schema = str(EXAMPLES / "field-level-bloom.json")
    code, _, err = run_cli(["link", *files, "--out", str(tmp_path / "out"), "--quiet",
                         "--scoring", "fields", "--schema", schema], capsys)  # fmt: skip
    assert code == 0, err
    stats = json.loads((tmp_path / "out" / "stats.json").read_text(encoding="utf-8"))
    assert stats["linkage"]["scoring"]["used"] == "fields"
    # the built-in schema is not the one these files were made with: one line, exit code 6
    code, _, err = run_cli(["link", *files, "--out", str(tmp_path / "out2"), "--quiet",
                         "--scoring", "fields", "--schema", str(EXAMPLES / "field-level-rbf.json")],
                        capsys)  # fmt: skip
    assert code == IncompatibleFilesError.exit_code
    assert len(err.strip().splitlines()) == 1 and "fingerprint" in err


def test_cli_falls_back_to_record_scoring_and_says_why(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = generate(n_persons=60, n_agencies=2, seed=3)
    schema = load_schema(EXAMPLES / "field-level-rbf.json")
    files = []
    for name, rows in data.agencies.items():
        write_blk(tmp_path / f"{name}.blk", encode(rows, secret=SECRET, agency=name, schema=schema))
        files.append(str(tmp_path / f"{name}.blk"))
    code, _, err = run_cli(["link", *files, "--out", str(tmp_path / "out"), "--quiet",
                         "--scoring", "fields", "--schema", str(EXAMPLES / "field-level-rbf.json")],
                        capsys)  # fmt: skip
    assert code == 0, err
    assert "warning: scored whole records" in err and "rbf" in err
    stats = json.loads((tmp_path / "out" / "stats.json").read_text(encoding="utf-8"))
    assert stats["linkage"]["scoring"]["used"] == "record"


def test_benchmark_smoke_run() -> None:
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "field_scoring.py"
    done = subprocess.run(
        [sys.executable, str(script), "--persons", "150", "--seeds", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("| 1 | (") == 4
