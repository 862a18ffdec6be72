"""Where the candidate search runs: in this process (``local``) or on a Dask cluster (``dask``).

Backends map one pure function over JSON-serialisable tile specs (``backends.tiles``); the
planning and the reduction are shared (``backends.base``), so every backend gives the same
answers. ``backends.dask`` is imported only when a Dask backend is asked for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, ParamSpec, TypeVar

from blindlink.backends.base import (
    Backend,
    Capacity,
    TileCost,
    TiledSearch,
    tiled_candidate_pairs,
)
from blindlink.backends.local import LocalBackend
from blindlink.errors import InputError

if TYPE_CHECKING:
    from blindlink.backends.dask import DaskBackend

P = ParamSpec("P")
R = TypeVar("R")

BackendName = Literal["local", "dask"]
BACKENDS: tuple[str, ...] = ("local", "dask")

__all__ = [
    "BACKENDS",
    "Backend",
    "BackendName",
    "Capacity",
    "DaskBackend",
    "LocalBackend",
    "TileCost",
    "TiledSearch",
    "open_backend",
    "opening_backend",
    "tiled_candidate_pairs",
]


def open_backend(
    name: str,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    worker_memory: int | str | None = None,
    tile_rows: int | None = None,
) -> Backend:
    """A backend by name, as the CLI chooses it (use it as a context manager).

    ``local``: tiles in this process (``workers`` tiles at a time). ``dask``: on the cluster
    at ``scheduler``, or on a ``LocalCluster`` of ``workers`` processes with ``worker_memory``
    each when no address is given.
    """
    if name == "local":
        if scheduler is not None:
            raise InputError("a scheduler address needs the dask backend (--backend dask)")
        if worker_memory is not None:
            raise InputError("worker memory applies to the dask backend (--backend dask)")
        return LocalBackend(workers=workers or 1, tile_rows=tile_rows)
    if name == "dask":
        from blindlink.backends.dask import DaskBackend

        return DaskBackend(
            scheduler, workers=workers, worker_memory=worker_memory, tile_rows=tile_rows
        )
    raise InputError(f"backend must be one of {', '.join(BACKENDS)}, not {name!r}")


def opening_backend(function: Callable[P, R]) -> Callable[P, R]:
    """Let ``function``'s keyword argument ``backend`` be a name: the backend is opened for
    the call and closed after it, however the call ends (a local Dask cluster's worker
    processes must not outlive the run). A ``Backend`` object passes through untouched: its
    owner closes it."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        name = kwargs.get("backend")
        if not isinstance(name, str):
            return function(*args, **kwargs)
        with open_backend(name) as opened:
            kwargs["backend"] = opened
            return function(*args, **kwargs)

    return run


def __getattr__(name: str) -> object:
    """``DaskBackend`` on first access, so that importing this package never imports dask."""
    if name == "DaskBackend":
        from blindlink.backends.dask import DaskBackend

        return DaskBackend
    raise AttributeError(name)
