"""Run tiles on a Dask cluster: a ``LocalCluster`` on this machine, or a running scheduler.

The only module of blindlink that imports dask, and only when a Dask backend is first used,
so ``import blindlink`` and the local backend never need it; without it the error says in one
line how to install it.

How a run goes, and why:

* **The filters reach each worker once.** The filter array is scattered with
  ``broadcast=True`` before any tile is submitted; every tile task takes that one future and
  slices its rows out of the worker's copy. Why not have workers read the ``.blk`` files: the
  coordinator has already checked them (checksums, schema, key check), the workers then need
  no shared file system, and they never see the record IDs -- only the filters. Why broadcast:
  a worker that dies takes its copy with it, and a scattered array that is lost cannot be
  recomputed; with a copy on every worker the others carry on.
* **Tasks are pure functions of a JSON spec** (``backends.tiles``), submitted with
  ``retries`` for failures and re-run by the scheduler when their worker dies, so a run
  that loses workers still ends with every tile computed exactly once in the reduction.
* **Nothing partial gets through.** Every tile's result is collected and the reduction
  checks that each planned tile is there once; a tile that keeps failing (``KilledWorker``
  after ``distributed.scheduler.allowed-failures`` losses) or a lost scheduler ends the run
  with a one-line :class:`~blindlink.errors.BackendError`, and nothing is written.
* **Memory per task** is the smallest worker memory limit, less the broadcast filters, shared
  among the worker's threads, times ``MEMORY_SHARE``; tiles are sized to fit it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from blindlink import __version__
from blindlink.backends.base import Backend, Capacity
from blindlink.backends.local import run_with_threads
from blindlink.backends.tiles import TileFunction, TileResult, TileSpec
from blindlink.errors import BackendError

INSTALL_HINT = (
    "the dask backend needs dask and distributed, which are not installed: "
    "pip install 'blindlink[dask]'"
)
#: Share of a task's slice of worker memory that tiles are sized to use: dask's own
#: bookkeeping, the result on its way out and allocator slack need the rest.
MEMORY_SHARE = 0.5
#: Times a tile is resubmitted after it raised (worker deaths are handled by the scheduler).
RETRIES = 2
#: Seconds to wait for a scheduler to answer and for its first worker to join.
CONNECT_TIMEOUT = 30.0


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise BackendError(INSTALL_HINT) from None
    return distributed


def _worker_version() -> str:
    """The blindlink version on a worker (run there): tiles must be computed by one code."""
    import blindlink

    return blindlink.__version__


def run_tile_on_worker(
    function: TileFunction,
    document: dict[str, Any],
    filters_a: npt.NDArray[np.uint8],
    filters_b: npt.NDArray[np.uint8] | None,
    threads: int,
) -> TileResult:
    """A tile task: the tile function with the worker's share of numba threads, tagged with
    the worker it ran on (for per-tile costs)."""
    result = run_with_threads(function, document, filters_a, filters_b, threads)
    try:
        from distributed import get_worker

        return replace(result, worker=str(get_worker().address))
    except (ImportError, ValueError):
        return result


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class DaskBackend(Backend):
    """Tiles as tasks on a Dask cluster.

    ``scheduler``: address of a running scheduler (``tcp://host:8786``, ``tls://...``);
    without it a ``LocalCluster`` is started with ``workers`` worker processes (default: one
    per core this process may use) of ``threads_per_worker`` threads each and
    ``worker_memory`` each (bytes or a string like ``"4GB"``; default: dask's share of this
    machine's memory). ``processes=False`` runs the local workers as threads of this process
    (quick to start; used in tests). TLS and other security settings come from dask's
    configuration (``distributed.comm.tls.*``), as for any Dask client.

    The connection is made on first use and released by :meth:`close` (or leaving the
    ``with`` block); a cluster this backend started is shut down with it.
    """

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        workers: int | None = None,
        threads_per_worker: int = 1,
        worker_memory: int | str | None = None,
        processes: bool = True,
        tile_rows: int | None = None,
        retries: int = RETRIES,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        super().__init__()
        _import_distributed()  # fail here, before any work, when missing
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        if threads_per_worker < 1:
            raise ValueError("threads_per_worker must be at least 1")
        if scheduler is not None and (workers is not None or worker_memory is not None):
            raise BackendError(
                "workers and worker memory are set where the workers are started "
                "(dask worker --nworkers/--memory-limit), not with a scheduler address"
            )
        if isinstance(worker_memory, str):
            try:
                from dask.utils import parse_bytes

                worker_memory = int(parse_bytes(worker_memory))
            except ValueError:
                raise BackendError(
                    f"worker memory {worker_memory!r} is not a size like 4GB or 512MiB"
                ) from None
        self.scheduler = scheduler
        self.workers = workers
        self.threads_per_worker = threads_per_worker
        self.worker_memory = worker_memory
        self.processes = processes
        self.tile_rows = tile_rows
        self.retries = retries
        self.connect_timeout = connect_timeout
        self._cluster: Any = None
        self._client: Any = None

    # ------------------------------------------------------------------ connection

    @property
    def client(self) -> Any:
        """The ``distributed.Client``, connected (and the local cluster started) on first use."""
        if self._client is None:
            self._connect()
        return self._client

    def _connect(self) -> None:
        distributed = _import_distributed()
        try:
            if self.scheduler is None:
                self._cluster = distributed.LocalCluster(
                    n_workers=self.workers or _default_workers(),
                    threads_per_worker=self.threads_per_worker,
                    processes=self.processes,
                    memory_limit=self.worker_memory if self.worker_memory is not None else "auto",
                    # Any free port: the scheduler's HTTP endpoint would otherwise take 8787 or
                    # warn that it is taken (by another cluster on this machine).
                    dashboard_address=":0",
                    silence_logs=logging.ERROR,  # the CLI owns the terminal
                )
                self._client = distributed.Client(
                    self._cluster, set_as_default=False, timeout=self.connect_timeout
                )
            else:
                self._client = distributed.Client(
                    self.scheduler, set_as_default=False, timeout=self.connect_timeout
                )
            self._client.wait_for_workers(1, timeout=self.connect_timeout)
        except (OSError, TimeoutError) as exc:
            self.close()
            where = self.scheduler or "a local cluster"
            raise BackendError(
                f"could not use the Dask cluster at {where} ({type(exc).__name__}: {exc}); "
                "is the scheduler running and does it have workers?"
            ) from None
        versions = self._client.run(_worker_version, on_error="return")
        other = sorted({str(v) for v in versions.values()} - {__version__})
        if other:
            self.close()
            raise BackendError(
                f"the Dask workers run blindlink {', '.join(other)}, this client {__version__}; "
                "install the same version everywhere"
            )

    def close(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        logger = logging.getLogger("distributed")
        level = logger.level
        logger.setLevel(logging.ERROR)  # a cluster shutting down logs every step at INFO
        try:
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()
        finally:
            logger.setLevel(level)

    # ------------------------------------------------------------------ work

    def capacity(self, filter_array_bytes: int) -> Capacity:
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        slots = sum(int(w["nthreads"]) for w in workers)
        per_task = [
            (int(w["memory_limit"]) - filter_array_bytes) / int(w["nthreads"])
            for w in workers
            if w.get("memory_limit")
        ]
        if not per_task:
            return Capacity(slots=max(slots, 1), task_memory=None)
        task_memory = int(MEMORY_SHARE * min(per_task))
        if task_memory <= 0:
            raise BackendError(
                f"the filters ({filter_array_bytes / 2**30:.1f} GiB) do not fit in the memory "
                "of the smallest Dask worker; give the workers more memory (--worker-memory)"
            )
        return Capacity(slots=max(slots, 1), task_memory=task_memory)

    def map_tiles(
        self,
        function: TileFunction,
        specs: Sequence[TileSpec],
        filters_a: npt.NDArray[np.uint8],
        filters_b: npt.NDArray[np.uint8] | None,
    ) -> list[TileResult]:
        distributed = _import_distributed()
        client = self.client
        futures: list[Any] = []
        try:
            shared_a = client.scatter(filters_a, broadcast=True, hash=False)
            shared_b = (
                None if filters_b is None else client.scatter(filters_b, broadcast=True, hash=False)
            )
            index_of: dict[str, int] = {}
            for spec in specs:
                future = client.submit(
                    run_tile_on_worker,
                    function,
                    spec.to_json(),
                    shared_a,
                    shared_b,
                    1,  # a worker runs one tile per thread: the kernel gets one thread each
                    retries=self.retries,
                    pure=False,
                )
                index_of[future.key] = spec.index
                futures.append(future)
            results: list[TileResult] = []
            for future in distributed.as_completed(futures, loop=client.loop):
                index = index_of[future.key]
                if future.status != "finished":
                    raise _tile_failure(future, index, len(specs), distributed)
                results.append(future.result())
            return results
        except BackendError:
            raise
        except (OSError, distributed.TimeoutError) as exc:
            raise BackendError(
                f"lost the Dask scheduler while computing tiles ({type(exc).__name__}); "
                "nothing was written"
            ) from None
        finally:
            if futures:
                client.cancel(futures)


def _tile_failure(future: Any, index: int, total: int, distributed: Any) -> Exception:
    """The error that ends a run whose tile ``index`` did not finish: one clear line."""
    from blindlink.errors import BlindlinkError

    if future.status == "cancelled":
        return BackendError(
            f"tile {index} of {total} was cancelled on the cluster; nothing was written"
        )
    exc = future.exception()
    if isinstance(exc, BlindlinkError):
        return exc
    if isinstance(exc, distributed.KilledWorker):
        return BackendError(
            f"tile {index} of {total} was lost with its worker too often (KilledWorker): "
            "the cluster is losing workers (out of memory?); nothing was written"
        )
    return BackendError(
        f"tile {index} of {total} failed on a Dask worker ({type(exc).__name__}: {exc}); "
        "nothing was written"
    )
