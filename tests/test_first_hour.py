"""A newcomer's first hour: the bundled example builds clean for every target, a first build's output is short,
and the messages a beginner meets first say what is wrong and where."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import relc.targets
from relc.compiler.cli import main

SHOP = "examples/shop"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("target", sorted(relc.targets.BUILTIN))
def test_the_bundled_example_builds_for_every_target_without_errors(target: str, tmp_path: Path):
    result = run("build", "--no-config", SHOP, "-o", str(tmp_path), "--target", target)
    assert result.exit_code == 0 and "error" not in result.output, result.output


def test_a_first_build_says_what_it_wrote_and_counts_what_targets_approximate(tmp_path: Path):
    result = run("build", "--no-config", SHOP, "-o", str(tmp_path))
    lines = result.output.splitlines()
    assert result.exit_code == 0 and not [line for line in lines if "warning[" in line], result.output
    assert len(lines) <= 1 + len(relc.targets.BUILTIN), result.output  # a note per target at most, then "wrote"
    assert lines[-1].startswith("relc: wrote ")


def test_a_project_that_uses_its_output_directory_inside_it_never_reads_that_output(tmp_path: Path):
    import shutil

    project = tmp_path / "proj"
    shutil.copytree(SHOP, project)
    for _ in range(2):
        result = run("build", "--no-config", str(project), "-o", str(project / "out"))
        assert result.exit_code == 0, result.output
    assert run("check", "--no-config", str(project)).output.startswith("relc: ok: 4 file(s)")
