"""`relc test`: generated proofs run with `promtool test rules`, in parallel, output in file order."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from relc.compiler import diagnostics as dg
from relc.compiler.commands.cli import CONFIG, EXIT_ERRORS, EXIT_OK, EXIT_USAGE, FORMAT_TEXT_JSON, PATHS, _config, _emit, _sources, \
    _write_output

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


@click.command("test")
@PATHS
@click.option("--keep", "keep_dir", type=click.Path(file_okay=False), default=None,
              help="Write the rules and generated tests to this directory and keep them (default: a temp dir).")
@CONFIG
@FORMAT_TEXT_JSON
def test_command(paths: tuple[str, ...], keep_dir: str | None, config_path: str | None, no_config: bool,
                 fmt: str) -> None:
    """Prove the alerts: generate promtool unit tests for every SLO and run them.

    For each SLO, relc writes synthetic series that burn its error budget at chosen rates and
    checks with `promtool test rules` that each alert tier fires no later than the SRE Workbook
    predicts, not before the data warrants it, and resolves after recovery. Needs promtool
    (Debian package `prometheus`). Without PATHS, uses `sources` from relc.yaml.
    Example: relc test examples/shop
    """
    import tempfile

    from relc.targets import Options

    from relc.compiler.output import build as builder
    from relc.compiler.pipeline import compile_paths

    config = _config(config_path, no_config, fmt)
    result = compile_paths(_sources(paths, config), config.exclusion, imports=config.imports)
    if not result.ok:
        _emit(result.diagnostics, result.texts, fmt)
        sys.exit(EXIT_ERRORS)
    if promtool_path() is None:
        click.echo("relc: `relc test` needs promtool, which is not installed; install the Debian package "
                   "`prometheus` (apt-get install prometheus) or put promtool on PATH", err=True)
        sys.exit(EXIT_USAGE)
    options = Options(settings={"prometheus.tests": "true"})
    outputs, diagnostics = builder.generate(result.project, ["prometheus"], options)
    _emit(result.diagnostics + diagnostics, result.texts, fmt, quiet=True)
    if outputs is None or dg.has_errors(diagnostics):
        sys.exit(EXIT_ERRORS)
    with tempfile.TemporaryDirectory(prefix="relc-test-") as scratch:
        out = Path(keep_dir) if keep_dir else Path(scratch)
        tail, _ = _write_output(out, outputs, {}, _NoProgress(), force=False, started=time.time())
        if tail:
            _emit(tail, {}, fmt)
            sys.exit(EXIT_ERRORS)
        tests = sorted((out / "prometheus" / "tests").glob("*.test.yml"))
        if not tests:
            click.echo("relc: no SLO has a generated proof (see the warnings above)", err=True)
            sys.exit(EXIT_ERRORS)
        passed, output = run_promtool_tests(tests)
    click.echo(output, nl=False)
    click.echo(f"relc: {len(tests)} proof file(s) {'passed' if passed else 'FAILED'}", err=True)
    sys.exit(EXIT_OK if passed else EXIT_ERRORS)


class _NoProgress:
    """Progress calls that draw nothing, for steps whose own output is the progress."""

    def stage(self, label: str) -> None:
        pass

    def count(self, label: str, done: int, total: int) -> None:
        pass
