"""The Dask backend: the same bytes as the local backend, through the API and the CLI, and a
worker killed mid-run changes nothing (or the run fails in one line, never partially)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

from blindlink.backends import TiledSearch  # noqa: E402
from blindlink.backends.dask import DaskBackend  # noqa: E402
from blindlink.backends.tiles import TileResult, compute_tile  # noqa: E402
from blindlink.errors import BackendError  # noqa: E402
from blindlink.kernels.dice import candidate_pairs  # noqa: E402
from blindlink.pipeline.link import link_files  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from helpers import run_cli  # noqa: E402
from test_backends import crowded_filters, result_files, write_agencies  # noqa: E402

# Tile functions defined here travel to worker processes by value, not by module name.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def slow_tile(
    document: Mapping[str, Any],
    filters_a: npt.NDArray[np.uint8],
    filters_b: npt.NDArray[np.uint8] | None = None,
) -> TileResult:
    """The real tile function, slowed down so that a worker can be killed mid-run."""
    time.sleep(0.2)
    return compute_tile(document, filters_a, filters_b)


def broken_tile(
    document: Mapping[str, Any],
    filters_a: npt.NDArray[np.uint8],
    filters_b: npt.NDArray[np.uint8] | None = None,
) -> TileResult:
    """Fails on one tile only: the run must fail as a whole."""
    if document["index"] == 2:
        raise RuntimeError("disk on fire")
    return compute_tile(document, filters_a, filters_b)


@pytest.fixture(scope="module")
def threaded_cluster() -> Iterator[Any]:
    """Two workers as threads of this process: starts in about a second."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        dashboard_address=":0",
        silence_logs=40,
    )
    try:
        yield cluster
    finally:
        cluster.close()


def test_same_bytes_as_local(tmp_path: Path, threaded_cluster: Any) -> None:
    paths = write_agencies(tmp_path / "in", crowded_filters(8))
    for blocking in ("exact", "bounded"):
        link_files(paths, tmp_path / f"local-{blocking}", seed=11, blocking=blocking)
        with DaskBackend(threaded_cluster.scheduler_address, tile_rows=200) as backend:
            link_files(paths, tmp_path / f"dask-{blocking}", seed=11, blocking=blocking,
                       backend=backend)  # fmt: skip
            workers = {cost.worker for cost in backend.tile_costs}
        local = result_files(tmp_path / f"local-{blocking}")
        assert {"clusters.csv", "links.csv", "stats.json"} <= set(local)
        assert result_files(tmp_path / f"dask-{blocking}") == local
        assert all(w.startswith(("tcp://", "inproc://")) for w in workers)


def test_cli_on_a_running_scheduler(
    tmp_path: Path, threaded_cluster: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [str(p) for p in write_agencies(tmp_path / "in", crowded_filters(9))]

    def run(*args: str) -> tuple[int, str, str]:
        return run_cli(["link", *paths, "--seed", "3", "--quiet", *args], capsys)

    assert run("--out", str(tmp_path / "local"))[0] == 0
    scheduler = threaded_cluster.scheduler_address
    assert run("--out", str(tmp_path / "dask"), "--scheduler", scheduler)[0] == 0
    assert result_files(tmp_path / "dask") == result_files(tmp_path / "local")
    code, _, err = run(
        "--out", str(tmp_path / "x"), "--scheduler", "tcp://127.0.0.1:9", "--workers", "2"
    )
    assert code == BackendError.exit_code
    assert "not with a scheduler address" in err


def test_a_failing_tile_fails_the_run_in_one_line(threaded_cluster: Any) -> None:
    filters = crowded_filters(10, families=40)
    with DaskBackend(threaded_cluster.scheduler_address, tile_rows=60, retries=0) as backend:
        search = TiledSearch(backend, function=broken_tile)
        with pytest.raises(BackendError, match=r"tile 2 of \d+ failed on a Dask worker") as info:
            search(filters, None, 0.55)
    assert "\n" not in str(info.value)


def test_unreachable_scheduler_is_one_line() -> None:
    backend = DaskBackend("tcp://127.0.0.1:9", connect_timeout=1)
    with pytest.raises(BackendError, match="could not use the Dask cluster at tcp://127.0.0.1:9"):
        TiledSearch(backend)(crowded_filters(1, families=5), None, 0.5)


def test_a_killed_worker_does_not_change_the_result() -> None:
    """Two worker processes; one is killed (SIGKILL) while tiles are running. The scheduler
    re-runs its tiles elsewhere and the reduction still sees every tile exactly once."""
    filters = crowded_filters(12, families=60)
    want = candidate_pairs(filters, None, 0.55)
    backend = DaskBackend(workers=2, worker_memory="1GB", tile_rows=100, processes=True)
    outcome: dict[str, Any] = {}

    def search() -> None:
        try:
            outcome["pairs"] = TiledSearch(backend, function=slow_tile)(filters, None, 0.55)
        except BaseException as exc:  # noqa: BLE001 -- handed to the test thread
            outcome["error"] = exc

    with backend:
        client = backend.client
        pids = client.run(os.getpid)
        runner = threading.Thread(target=search)
        runner.start()
        deadline = time.monotonic() + 60
        while not any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # a few tiles done, others in flight
        victim = sorted(pids)[0]
        os.kill(pids[victim], signal.SIGKILL)
        assert not outcome  # killed mid-run, with tiles still to come
        runner.join(timeout=120)
        assert not runner.is_alive()
    assert "error" not in outcome, outcome.get("error")
    got = outcome["pairs"]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    assert len(got[0]) > 0
    assert len(backend.tile_costs) == len({c.index for c in backend.tile_costs}) > 10


def test_scaling_benchmark_smoke_run() -> None:
    """benchmarks/dask_scale.py --quick runs and prints both tables (no timing asserted)."""
    import subprocess

    script = Path(__file__).parent.parent / "benchmarks" / "dask_scale.py"
    done = subprocess.run(
        [sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "### Whole search, 3,000 records" in done.stdout
    assert "| dask, 2 workers |" in done.stdout and "| NO |" not in done.stdout
