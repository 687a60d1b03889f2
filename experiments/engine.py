"""Where the work of a sweep or of a fleet calibration runs: this machine or a Dask cluster.

One seam, :func:`map_unordered`: ``(index, function(item, shared))`` for every item,
in completion order.

* Without a scheduler address the items run on this machine's process pool
  (:func:`map_cases`: spawn-safe worker processes, or this
  process for one worker), exactly as before Dask was added.
* With ``--scheduler ADDRESS`` (or ``$DASK_SCHEDULER_ADDRESS``, the variable Dask
  users already set) the items are submitted to an existing Dask distributed
  cluster (``dask scheduler`` + ``dask worker`` processes on any machines that can
  import this version of ``twin``). A worker that dies mid-item is replaced by the
  scheduler, which re-runs that item on another worker; the caller (which keeps the
  journal) receives each item's result exactly once, so nothing is lost or written
  twice.

The caller keeps doing what it did: journaling rows, resuming, progress, failures as
rows. Only the place the function runs changes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from twin.errors import TwinInputError, TwinRuntimeError, raise_if_interrupted

# The variable dask's own tools read (dask.config "scheduler-address").
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
# How long to wait for the scheduler before saying it cannot be reached [s].
CONNECT_TIMEOUT_S = 20.0


class EngineError(TwinRuntimeError):
    """The cluster failed (unreachable scheduler, workers that keep dying): exit 1."""


class SchedulerAddressError(TwinInputError):
    """A scheduler address that is not an address (a user mistake: exit 2)."""


def scheduler_address(option: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The Dask scheduler to use: the option, else ``$DASK_SCHEDULER_ADDRESS``, else
    None (run on this machine). An empty value means none."""
    environ = os.environ if environ is None else environ
    address = option if option is not None else environ.get(SCHEDULER_ENV)
    address = (address or "").strip()
    if not address:
        return None
    check_address(address)
    return address


def check_address(address: str) -> None:
    """'tcp://host:port' or 'host:port' (tcp, tls, ws, wss or inproc schemes); raises
    SchedulerAddressError naming the address otherwise."""
    scheme, sep, location = address.rpartition("://")
    if sep and scheme not in ("tcp", "tls", "ws", "wss", "inproc", "ucx"):
        raise SchedulerAddressError(f"--scheduler {address!r}: unknown scheme {scheme!r} (use tcp://HOST:PORT)")
    host, colon, port = (location if sep else address).rpartition(":")
    if scheme == "inproc":
        return
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SchedulerAddressError(f"--scheduler {address!r}: not a scheduler address (use tcp://HOST:PORT)")


def connect(address: str) -> Any:
    """A Dask client of the scheduler at `address` (EngineError when unreachable)."""
    from distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as err:
        cause = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise EngineError(f"cannot reach the Dask scheduler at {address} ({cause}); start one with "
                          "`dask scheduler`, or leave --scheduler and $DASK_SCHEDULER_ADDRESS unset to "
                          "run on this machine") from None


def call_quietly(function: Callable[[Any, Any], Any], item: Any, shared: Any) -> Any:
    """`function(item, shared)` without warnings on the worker's log (what the local
    pool's initializer does for its processes)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(item, shared)


def dask_map(function: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any,
             address: str) -> Iterator[tuple[int, Any]]:
    """(index, function(item, shared)) from the cluster at `address`, in completion
    order. The first exception cancels the rest and propagates (a task that killed
    its workers more than the scheduler allows becomes an EngineError)."""
    if not items:
        return
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    client = connect(address)
    futures: dict[Any, int] = {}
    try:
        # pure=False: every submission is its own task, never a result cached by key
        futures = {client.submit(call_quietly, function, item, shared, pure=False): i
                   for i, item in enumerate(items)}
        with client.as_current():  # as_completed looks the client up
            completed = as_completed(futures)
        for future in completed:
            try:
                result = future.result()
            except KilledWorker as err:
                raise EngineError(f"Dask workers kept dying while running one item ({err}); "
                                  "see the workers' logs") from None
            yield futures[future], result
    except BaseException:
        client.cancel(list(futures))
        raise
    finally:
        client.close()


# --- the local engine: a pool of spawned worker processes -------------------------------

def _worker_init() -> None:
    # Ctrl-C goes to the parent, which stops the workers itself: no traceback per worker.
    import signal
    import warnings

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warnings.simplefilter("ignore")
    from twin.calibration.safety import die_with_parent

    die_with_parent()  # kill -9 of the parent ends its workers too


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _executor(workers: int) -> ProcessPoolExecutor:
    # spawn: a fresh interpreter per worker, safe after the parent loaded solver libraries
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_worker_init)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel queued cases and end the worker processes this pool started."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=True)


def map_cases(function: Callable[[DesignCase, RunSettings], Any], cases: Sequence[DesignCase],
              settings: RunSettings, workers: int) -> Iterator[tuple[int, Any]]:
    """(index, function(case, settings)) in completion order, `workers` processes at a
    time (in this process when 1). The first exception stops the rest and propagates."""
    if not cases:
        return
    workers = max(1, min(workers, len(cases)))
    if workers == 1:
        for i, case in enumerate(cases):
            yield i, function(case, settings)
            raise_if_interrupted()  # a signal a solver swallowed still ends the run
        return
    pool = _executor(workers)
    try:
        pending: dict[Future, int] = {pool.submit(function, case, settings): i
                                      for i, case in enumerate(cases)}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield pending.pop(future), future.result()
    except BaseException:
        _stop_workers(pool)
        raise
    pool.shutdown(wait=True)


def map_unordered(function: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any,
                  workers: int, scheduler: str | None = None) -> Iterator[tuple[int, Any]]:
    """(index, function(item, shared)) for every item, in completion order: on the
    Dask cluster at `scheduler`, else on `workers` local processes."""
    if scheduler is not None:
        yield from dask_map(function, items, shared, scheduler)
        return
    yield from map_cases(function, items, shared, workers)


__all__ = ["default_workers", "map_cases", "SCHEDULER_ENV", "EngineError", "SchedulerAddressError", "scheduler_address", "check_address",
           "connect", "dask_map", "map_unordered"]
