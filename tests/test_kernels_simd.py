from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import llvmlite.binding as llvm
import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blindlink.kernels import dice, simd
from blindlink.kernels.simd import (
    CHECKPOINTS,
    STAGE_SLOT,
    TILE_ROWS,
    aligned_zeros,
    atomic_fetch_add,
    checkpoint_words,
    popcount64,
    popcount_instructions,
    tile_intersections,
)


@numba.njit
def _tile(rows, row, tiles, tile, need, out, rest_a, rest_b, checks):  # type: ignore[no-untyped-def]
    return tile_intersections(rows, row, tiles, tile, need, out, rest_a, rest_b, checks)


@numba.njit
def _popcounts(words):  # type: ignore[no-untyped-def]
    out = np.empty(words.shape[0], dtype=np.int64)
    for i in range(words.shape[0]):
        out[i] = popcount64(words[i])
    return out


@numba.njit(nogil=True)
def _bump(counter, times):  # type: ignore[no-untyped-def]
    for _ in range(times):
        atomic_fetch_add(counter, 1)


def _rest(words: np.ndarray) -> np.ndarray:
    rest = np.empty((words.shape[0], CHECKPOINTS), dtype=np.int64)
    for stage, start in enumerate(checkpoint_words(words.shape[1])):
        rest[:, stage] = np.bitwise_count(words[:, start:]).sum(axis=1)
    return rest


def host_features() -> set[str]:
    return {f[1:] for f in llvm.get_host_cpu_features().flatten().split(",") if f.startswith("+")}


def test_scalar_popcount_matches_numpy() -> None:
    words = np.random.default_rng(0).integers(0, 2**63, 1000, dtype=np.int64).view(np.uint64)
    words[:3] = [0, 2**64 - 1, 1]
    assert np.array_equal(_popcounts(words), np.bitwise_count(words).astype(np.int64))


@settings(max_examples=40, deadline=None)
@given(
    n_words=st.integers(0, 20),
    need=st.integers(0, 700),
    checks=st.integers(0, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_tile_intersections_are_exact_and_early_exit_is_safe(
    n_words: int, need: int, checks: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    density = rng.random()
    rows = (rng.random((2, n_words, 64)) < density).reshape(2, -1)
    words_a = np.packbits(rows, axis=1, bitorder="little").view(np.uint64).reshape(2, n_words)
    words_b = (
        np.packbits(
            rng.random((TILE_ROWS, n_words * 64)) < rng.random((TILE_ROWS, 1)),
            axis=1,
            bitorder="little",
        )
        .view(np.uint64)
        .reshape(TILE_ROWS, n_words)
    )
    tiles = aligned_zeros((1, n_words, TILE_ROWS))
    tiles[0] = words_b.T
    rest_b = _rest(words_b).T.reshape(1, CHECKPOINTS, TILE_ROWS).copy()
    out = np.full(TILE_ROWS + 1, -1, dtype=np.int64)
    mask = _tile(words_a, 1, tiles, 0, need, out, _rest(words_a), rest_b, checks)
    expected = np.bitwise_count(words_a[1] & words_b).sum(axis=1).astype(np.int64)
    hits = int(sum(1 << lane for lane in range(TILE_ROWS) if expected[lane] >= need))
    assert mask == hits
    if out[STAGE_SLOT] == CHECKPOINTS:
        assert np.array_equal(out[:TILE_ROWS], expected)
    else:  # stopped early: only allowed when no lane passes, and only at an enabled check
        assert hits == 0
        assert checks >> int(out[STAGE_SLOT]) & 1


def test_atomic_counter_loses_no_increment_across_threads() -> None:
    counter = np.zeros(1, dtype=np.int64)
    threads = [threading.Thread(target=_bump, args=(counter, 200_000)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter[0] == 800_000


def test_aligned_zeros() -> None:
    for shape in ((3, 5, 32), (0, 2, 32), (1,)):
        array = aligned_zeros(shape)
        assert array.shape == shape and array.flags.c_contiguous
        assert array.size == 0 or array.ctypes.data % 64 == 0
        assert not array.any()


def test_hardware_popcount_is_emitted_where_the_cpu_has_it() -> None:
    found = popcount_instructions()
    features = host_features()
    if "avx512vpopcntdq" in features:
        assert any(i.startswith("vpopcntq") for i in found["tile"]), found
    elif "popcnt" not in features and not found["scalar"]:
        pytest.skip("no popcount instruction on this CPU; LLVM expands it to bit arithmetic")
    if "popcnt" in features:
        assert any(i.startswith("popcnt") for i in found["scalar"]), found


def test_dice_module_fingerprints_the_intrinsics_it_caches() -> None:
    actual = hashlib.sha256(Path(simd.__file__).read_bytes()).hexdigest()
    assert dice.SIMD_FINGERPRINT == actual, (
        "simd.py changed: set SIMD_FINGERPRINT in dice.py to "
        + actual
        + " so that numba's cache of dice.py is rebuilt"
    )
