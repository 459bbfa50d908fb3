"""Targets in forked workers: same bytes and diagnostics as one process, errors surface, small builds stay serial."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from relc.compiler.output import parallel as parallel

from conftest import ROOT

SHOP = "examples/shop"
CUSTOMER = "examples/customer"
needs_fork = pytest.mark.skipif(not parallel.fork_available(), reason="targets run in one process here")


def run_build(src: str, out: Path, jobs: str) -> subprocess.CompletedProcess:
    env = {**os.environ, parallel.JOBS_ENV: jobs}
    return subprocess.run([sys.executable, "-m", "relc.compiler", "build", "--no-config", src, "-o", str(out)],
                          capture_output=True, text=True, env=env)


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@needs_fork
@pytest.mark.parametrize("src", [SHOP, CUSTOMER])
def test_parallel_build_writes_the_same_bytes_and_diagnostics(tmp_path: Path, src: str):
    serial, forked = run_build(src, tmp_path / "one", "1"), run_build(src, tmp_path / "two", "3")
    assert serial.returncode == forked.returncode == 0, forked.stderr
    assert tree(tmp_path / "one") and tree(tmp_path / "one") == tree(tmp_path / "two")
    assert serial.stderr.replace(str(tmp_path / "one"), "OUT") == forked.stderr.replace(str(tmp_path / "two"), "OUT")


@needs_fork
def test_a_failing_target_in_a_worker_is_an_internal_error_and_writes_nothing(tmp_path: Path):
    script = (
        "import sys\n"
        "from relc import targets\n"
        "from relc.targets import runbook\n"
        "def boom(project, options): raise RuntimeError('boom in a worker')\n"
        "object.__setattr__(runbook.TARGET, 'generate', boom)\n"
        "from relc.compiler.commands.cli import run\n"
        f"sys.argv = ['relc', 'build', '--no-config', {SHOP!r}, '-o', {str(tmp_path / 'out')!r}]\n"
        "run()\n")
    env = {**os.environ, parallel.JOBS_ENV: "2"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 2
    assert "internal error: RuntimeError: boom in a worker" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_workers_only_for_large_projects_unless_asked(monkeypatch):
    monkeypatch.delenv(parallel.JOBS_ENV, raising=False)
    monkeypatch.setattr(parallel, "available_cpus", lambda: 8)
    monkeypatch.setattr(parallel, "fork_available", lambda: True)
    assert parallel.jobs(10, 5) == 1
    assert parallel.jobs(parallel.MIN_SLOS, 5) == 5
    assert parallel.jobs(10_000, 1) == 1
    monkeypatch.setenv(parallel.JOBS_ENV, "2")
    assert parallel.jobs(10, 5) == 2
    monkeypatch.setenv(parallel.JOBS_ENV, "1")
    assert parallel.jobs(10_000, 5) == 1
    monkeypatch.setattr(parallel, "fork_available", lambda: False)
    monkeypatch.setenv(parallel.JOBS_ENV, "4")
    assert parallel.jobs(10_000, 5) == 1


def test_run_all_keeps_the_order_of_names():
    names = ["c", "a", "b"]
    assert parallel.run_all(str.upper, names, 1) == ["C", "A", "B"]
    if parallel.fork_available():
        assert parallel.run_all(str.upper, names, 2) == ["C", "A", "B"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_build_with_errors_leaves_no_output_directory_behind(tmp_path: Path, jobs: str):
    """Targets stage their files as they finish; when another target then fails, nothing stays: no staged
    directory and, for a first build, not even the output directory."""
    env = {**os.environ, parallel.JOBS_ENV: jobs}
    source = tmp_path / "src"
    shutil.copytree(SHOP, source)
    shutil.copy(ROOT / "tests" / "good" / "sli_kinds.relc", source)  # raw SLIs, which OpenSLO cannot take
    done = subprocess.run([sys.executable, "-m", "relc.compiler", "build", "--no-config", str(source), "-o",
                           str(tmp_path / "out"), "-t", "prometheus", "-t", "openslo"],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 1 and "error[RELC401]" in done.stderr
    assert not (tmp_path / "out").exists()
    (tmp_path / "out").mkdir()  # a directory that was there stays, empty
    subprocess.run([sys.executable, "-m", "relc.compiler", "build", "--no-config", str(source), "-o",
                    str(tmp_path / "out"), "-t", "prometheus", "-t", "openslo"], capture_output=True, env=env)
    assert (tmp_path / "out").is_dir() and not any((tmp_path / "out").iterdir())
