"""Running generated proofs: `promtool test rules` on the test files, in parallel, output in file order."""
from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BATCH = 4  # files per promtool process: few enough to spread over cores, enough to amortise start-up


def promtool_path() -> str | None:
    """promtool from PATH, or None so callers can say plainly that it is missing."""
    return shutil.which("promtool")


def run_promtool_tests(test_files: list[Path], jobs: int | None = None) -> tuple[bool, str]:
    """Run every file through `promtool test rules`; success only if all pass, with promtool's output."""
    promtool = promtool_path()
    if promtool is None:
        return False, "promtool is not installed (Debian package `prometheus`), so the proofs cannot run\n"
    if not test_files:
        return True, ""
    workers = max(1, jobs or os.cpu_count() or 1)
    size = min(BATCH, -(-len(test_files) // workers))  # at least one batch per worker when there are enough
    batches = [test_files[i:i + size] for i in range(0, len(test_files), size)]
    with ThreadPoolExecutor(max_workers=min(workers, len(batches))) as pool:
        results = list(pool.map(lambda batch: _run(promtool, batch), batches))
    return all(ok for ok, _ in results), "".join(text for _, text in results)


def _run(promtool: str, batch: list[Path]) -> tuple[bool, str]:
    """One promtool process (threads only wait on it, so the work really runs in parallel)."""
    try:
        proc = subprocess.run([promtool, "test", "rules", *map(str, batch)], capture_output=True, text=True,
                              timeout=600)
    except (OSError, subprocess.TimeoutExpired) as err:
        return False, f"promtool failed on {', '.join(map(str, batch))}: {err}\n"
    return proc.returncode == 0, proc.stdout + proc.stderr
