"""Targets side by side in forked workers: they are pure functions of one IR, so a large build on a
multi-core machine runs them at once instead of one after another, with the same bytes out."""
from __future__ import annotations

import os
import sys
import warnings
from typing import Callable, TypeVar

T = TypeVar("T")

MIN_SLOS = 200  # below this a fork and the pickled results cost more than running in turn saves
JOBS_ENV = "RELC_JOBS"
_job: Callable | None = None  # what a worker runs; workers are forked, so they inherit it without pickling


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


def run_all(work: Callable[[str], T], names: list[str], workers: int) -> list[T]:
    """work(name) for each name, results in the order of names; an exception in a worker is raised here."""
    global _job
    if workers <= 1:
        return [work(name) for name in names]
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    _job = work
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+ warns on fork next to any thread
            with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
                futures = [pool.submit(_run_job, name) for name in names]
                return [future.result() for future in futures]
    finally:
        _job = None


def _run_job(name: str):
    assert _job is not None
    return _job(name)
