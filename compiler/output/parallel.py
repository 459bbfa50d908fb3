"""Targets side by side in forked workers: they are pure functions of one IR, so a large build on a
multi-core machine runs them at once instead of one after another, with the same bytes out."""
from __future__ import annotations

import gc
import os
import sys
import warnings
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")

MIN_SLOS = 200  # below this a fork and the pickled results cost more than running in turn saves
JOBS_ENV = "RELC_JOBS"
_job: Callable | None = None  # what a worker runs; workers are forked, so they inherit it without pickling
_parent = 0  # the pid of the build that forks the workers


def jobs(slo_count: int, task_count: int) -> int:
    """How many workers: RELC_JOBS when set, else one per available core for large projects, else none."""
    if task_count < 2 or not fork_available():
        return 1
    wanted = os.environ.get(JOBS_ENV, "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        return min(int(wanted), task_count)
    if slo_count < MIN_SLOS:
        return 1
    return max(1, min(available_cpus(), task_count))


def fork_available() -> bool:
    """fork is safe on Linux and the BSDs; macOS and Windows get one process (spawning would re-import all)."""
    return hasattr(os, "fork") and sys.platform != "darwin"


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def run_all(work: Callable[[str], T], names: list[str], workers: int,
            abandon: Callable[[T], None] | None = None) -> list[T]:
    """work(name) for each name, results in the order of names; an exception in a worker is raised here,
    after `abandon` was given each result that did complete (to undo its side effects)."""
    global _job, _parent
    if workers <= 1:
        return run_in_turn(work, names, abandon)
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    _job, _parent = work, os.getpid()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+ warns on fork next to any thread
            with ProcessPoolExecutor(workers, mp_context=get_context("fork"), initializer=_die_with_parent) as pool:
                futures = [pool.submit(_run_job, name) for name in names]
                try:
                    return [future.result() for future in futures]
                except BaseException:
                    for future in futures:
                        future.cancel()
                    pool.shutdown(wait=True)
                    _abandon([f.result() for f in futures if f.done() and not f.cancelled() and not f.exception()],
                             abandon)
                    raise
    finally:
        _job = None


def run_in_turn(work: Callable[[str], T], names: list[str], abandon: Callable[[T], None] | None = None,
                before: Callable[[str, int, int], None] | None = None) -> list[T]:
    """work(name) for each name in this process; on an exception, `abandon` gets the results so far."""
    results: list[T] = []
    try:
        for position, name in enumerate(names, 1):
            if before is not None:
                before(name, position, len(names))
            results.append(work(name))
    except BaseException:
        _abandon(results, abandon)
        raise
    return results


def _abandon(results: list, abandon: Callable | None) -> None:
    for result in results if abandon is not None else ():
        abandon(result)


def _die_with_parent() -> None:
    """On Linux a worker is killed when the build that forked it dies, so no orphan keeps writing. Ctrl-C
    reaches the whole process group: workers leave it to the build, which stops them and says so once."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != _parent:  # the build died before prctl took effect (it may itself be pid 1: compare)
        os._exit(1)


def _run_job(name: str):
    assert _job is not None
    return _job(name)


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Everything alive now (sources, IR) is left out of garbage collection while targets run: full
    collections would otherwise walk the whole project again and again (about 40% of a 10 000-SLO build),
    and forked workers would copy every page the collector touches."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
