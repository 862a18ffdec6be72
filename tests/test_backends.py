"""Backends: the tiled search gives the kernel's arrays bit for bit, tiles cover every pair
once, an incomplete set of tiles is refused, and a missing dask is one clear line."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from blindlink.backends import LocalBackend, TiledSearch, open_backend
from blindlink.backends.base import tile_rows_for
from blindlink.backends.tiles import (
    TileResult,
    TileSpec,
    choose_tile_rows,
    compute_tile,
    plan_tiles,
    reduce_tiles,
    tile_memory,
)
from blindlink.errors import BackendError, InputError
from blindlink.io.blk import write_blk
from blindlink.kernels.dice import candidate_pairs
from blindlink.pipeline.link import link_files
from blindlink.types import EncodedBatch
from helpers import run_cli


def tied_filters(seed: int, n: int, width: int) -> npt.NDArray[np.uint8]:
    """Near-copies of a few bases: many equal scores, so tie-breaking is exercised."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(max(n // 4, 1), width), dtype=np.uint8)
    rows = base[rng.integers(0, base.shape[0], size=n)]
    flips = (rng.random(rows.shape) < 0.05) * rng.integers(0, 256, size=rows.shape)
    return rows ^ flips.astype(np.uint8)


def crowded_filters(seed: int, families: int = 120, size: int = 12) -> npt.NDArray[np.uint8]:
    """Families of look-alike 1024-bit filters of varied size, and unrelated ones."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(families):
        core = rng.random(1024) < 0.25
        for _ in range(int(rng.integers(1, size))):
            noise = rng.random(1024) < rng.uniform(0.02, 0.2)
            rows.append((core & ~noise) | (rng.random(1024) < 0.08))
    rows.extend(rng.random(1024) < 0.25 for _ in range(families))
    return np.packbits(np.array(rows)[rng.permutation(len(rows))], axis=1)


def write_agencies(folder: Path, filters: npt.NDArray[np.uint8]) -> list[Path]:
    """Three agencies' .blk files cut from ``filters``."""
    folder.mkdir(parents=True, exist_ok=True)
    cuts = np.linspace(0, filters.shape[0], 4).astype(int)
    paths = []
    for i, name in enumerate(("north", "police", "hotline")):
        part = filters[cuts[i] : cuts[i + 1]]
        ids = tuple(f"{name}-{j}" for j in range(part.shape[0]))
        batch = EncodedBatch(name, "ab" * 32, "cd" * 16, 1024, ids, part)
        write_blk(folder / f"{name}.blk", batch)
        paths.append(folder / f"{name}.blk")
    return paths


def result_files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def assert_same_arrays(got: tuple[np.ndarray, ...], want: tuple[np.ndarray, ...]) -> None:
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("width", [2, 16])
def test_tiled_search_is_the_kernel_bit_for_bit(width: int) -> None:
    filters = tied_filters(1, 90, width)
    other = filters[np.random.default_rng(2).permutation(90)[:50]]
    cases = itertools.product((0.0, 0.5, 0.8), (None, 1, 3), (False, True), (7, 40))
    for threshold, k, cross, tile_rows in cases:
        second = other if cross else None
        want = candidate_pairs(filters, second, threshold, k=k)
        for workers in (1, 2):
            backend = LocalBackend(workers=workers, tile_rows=tile_rows)
            got = TiledSearch(backend)(filters, second, threshold, k=k)
            assert_same_arrays(got, want)
            assert len(backend.tile_costs) > 1


def test_tiles_cover_each_pair_once() -> None:
    n = 23
    for tile_rows in (1, 4, 23, 50):
        seen: dict[tuple[int, int], int] = {}
        for spec in plan_tiles(n, 0.5, tile_rows):
            for a in range(*spec.rows):
                for b in range(*spec.cols):
                    if a < b or not spec.diagonal:
                        seen[a, b] = seen.get((a, b), 0) + 1
        assert seen == {(a, b): 1 for a in range(n) for b in range(a + 1, n)}
        # with k every ordered pair of distinct records is ranked once
        ordered = sum(spec.comparisons for spec in plan_tiles(n, 0.5, tile_rows, k=2))
        assert ordered == n * (n - 1)


def test_spec_is_json_and_checked() -> None:
    spec = plan_tiles(100, 0.6, 30, k=5)[3]
    document = json.loads(json.dumps(spec.to_json()))
    assert TileSpec.from_json(document) == spec
    with pytest.raises(BackendError, match="version"):
        TileSpec.from_json({**document, "version": 99})
    with pytest.raises(BackendError, match="overlap"):
        TileSpec.from_json({**document, "k": None, "rows": [0, 50], "cols": [40, 60]})
    with pytest.raises(BackendError, match="different inputs"):
        compute_tile(spec.to_json(), np.zeros((10, 8), np.uint8))


def test_incomplete_or_foreign_tiles_are_refused() -> None:
    filters = tied_filters(3, 40, 8)
    specs = plan_tiles(40, 0.5, 10)
    results = [compute_tile(spec.to_json(), filters) for spec in specs]
    pairs = reduce_tiles(specs, results[::-1], 40)  # the order tiles finish in is irrelevant
    assert_same_arrays(
        (pairs.scores, pairs.rows_a, pairs.rows_b), candidate_pairs(filters, None, 0.5)
    )
    with pytest.raises(BackendError, match="1 of 10 tiles did not come back"):
        reduce_tiles(specs, results[:-1], 40)
    with pytest.raises(BackendError, match="twice"):
        reduce_tiles(specs, [*results, results[0]], 40)
    moved = TileResult(results[1].index, (0, 10), (0, 10), results[1].pairs, 0.0)
    with pytest.raises(BackendError, match="other rows"):
        reduce_tiles(specs, [results[0], moved, *results[2:]], 40)
    with pytest.raises(BackendError, match="does not match the input"):
        reduce_tiles(specs, results, 41)


def test_tile_size_follows_memory_and_slots() -> None:
    rows = choose_tile_rows(1_000_000, 128, memory_bytes=256 << 20, rate=1e-3)
    assert tile_memory(rows, 128, 1e-3) <= 256 << 20 < tile_memory(rows + 100, 128, 1e-3)
    assert choose_tile_rows(1_000_000, 128, memory_bytes=None, rate=0.0) == 1_000_000
    rows = choose_tile_rows(1_000_000, 128, memory_bytes=None, rate=0.0, min_tiles=16)
    assert len(plan_tiles(1_000_000, 0.5, rows)) >= 16
    assert choose_tile_rows(100, 128, memory_bytes=1, rate=1.0) == 100  # never below a floor
    filters = tied_filters(4, 50, 8)
    assert tile_rows_for(LocalBackend(), filters, None, 0.5) == 50  # one tile: the kernel call
    assert tile_rows_for(LocalBackend(workers=2), filters, None, 0.5) == 50  # floor of 2,048


def test_link_files_on_tiles_writes_the_same_bytes(tmp_path: Path) -> None:
    paths = write_agencies(tmp_path / "in", crowded_filters(5))
    for blocking in ("exact", "bounded"):
        link_files(paths, tmp_path / f"plain-{blocking}", seed=7, blocking=blocking)
        backend = LocalBackend(workers=2, tile_rows=150)
        link_files(
            paths, tmp_path / f"tiled-{blocking}", seed=7, blocking=blocking, backend=backend
        )
        plain = result_files(tmp_path / f"plain-{blocking}")
        assert "clusters.csv" in plain and "links.csv" in plain
        assert result_files(tmp_path / f"tiled-{blocking}") == plain
        assert backend.tile_costs  # it did run on tiles


def test_unknown_backend_and_misplaced_options() -> None:
    with pytest.raises(InputError, match="backend must be one of local, dask"):
        open_backend("spark")
    with pytest.raises(InputError, match="needs the dask backend"):
        open_backend("local", scheduler="tcp://127.0.0.1:8786")


def test_without_dask_the_backend_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("dask", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails as if not installed
    with pytest.raises(BackendError, match=r"pip install 'blindlink\[dask\]'"):
        open_backend("dask")
    paths = write_agencies(tmp_path / "in", crowded_filters(6, families=10))
    code, _, err = run_cli(
        ["link", *map(str, paths), "--out", str(tmp_path / "r"), "--backend", "dask"], capsys
    )
    assert code == BackendError.exit_code
    assert err.strip().count("\n") == 0 and "pip install 'blindlink[dask]'" in err
    assert not (tmp_path / "r").exists()


def test_importing_backends_does_not_import_dask() -> None:
    code = (
        "import sys, blindlink.backends, blindlink.backends.dask, blindlink.pipeline.link\n"
        "assert 'dask' not in sys.modules and 'distributed' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
