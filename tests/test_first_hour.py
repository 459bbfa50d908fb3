"""A newcomer's first hour: the bundled example builds clean for every target, a first build's output is short,
and the messages a beginner meets first say what is wrong and where."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import relc.targets
from relc.compiler.commands.cli import main

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


def check_text(tmp_path: Path, text: str):
    (tmp_path / "main.relc").write_text(text, encoding="utf-8")
    return run("check", "--no-config", str(tmp_path / "main.relc"))


@pytest.mark.parametrize("written,meant", [("0.9995", "99.95%"), ("0.99", "99%"), ("0.5", "50%"), ("99.9", "99.9%")])
def test_a_fraction_for_an_objective_gets_the_percentage_it_means(tmp_path: Path, written: str, meant: str):
    result = check_text(tmp_path, f"service x {{ slo y {{\n  objective = {written}\n  sli events {{ bad = e total = t }}\n}} }}\n")
    assert f"hint: write it as a percentage: {meant}\n" in result.output, result.output


@pytest.mark.parametrize("word", ["45min", "30days", "2hours", "5sec", "99.9pct", "1mo"])
@pytest.mark.parametrize("lark", [False, True], ids=["fast parser", "lark"])
def test_a_unit_relc_does_not_know_is_reported_at_the_duration(tmp_path: Path, word: str, lark: bool):
    tail = "\nservice broken {" if lark else ""  # a syntax error elsewhere sends the file to lark's parser
    result = check_text(tmp_path, f"service x {{ slo y {{\n  window = {word}\n  sli events {{ bad = e total = t }}\n}} }}"
                                  f"{tail}\n")
    assert f"main.relc:2:12: error[RELC101]: `{word}` is not a number" in result.output, result.output
    assert "^" * len(word) in result.output and "unknown block" not in result.output


def test_a_missing_brace_names_the_block_left_open(tmp_path: Path):
    result = check_text(tmp_path, "service x {\n  slo y {\n    objective = 99%\n    sli events { bad = e total = t }\n\n"
                                  "  slo z {\n    objective = 99%\n    sli events { bad = e total = t }\n  }\n}\n")
    assert "main.relc:2:9: note: this `{` is never closed" in result.output, result.output


def test_a_missing_last_brace_names_the_outer_block(tmp_path: Path):
    result = check_text(tmp_path, "service x {\n  slo y {\n    objective = 99%\n    sli events { bad = e total = t }\n"
                                  "  }\n")
    assert "main.relc:1:11: note: this `{` is never closed" in result.output, result.output


@pytest.mark.parametrize("command", [["check"], ["build"], ["fmt", "--check"], ["explain"], ["test"]])
def test_every_command_reads_relc_yaml_without_paths(command: list[str], tmp_path: Path, monkeypatch):
    import shutil

    from conftest import require_tool

    if command == ["test"]:
        require_tool("promtool")
    shutil.copytree(SHOP, tmp_path / "specs")
    (tmp_path / "relc.yaml").write_text("sources: [specs]\nout: out\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run(*command)
    assert result.exit_code == 0 and "no PATH given" not in result.output, result.output
    assert "Missing argument" not in result.output


def raw_slo(query: str) -> str:
    return f'service x {{ slo y {{\n  objective = 99%\n  sli raw {{\n    error_ratio = {query}\n  }}\n}} }}\n'


@pytest.mark.parametrize("query,code,at,width,hint", [
    ('r#"sum(rate(e_total[$windw])) / sum(rate(t_total[$window]))"#', "RELC309", "$windw", 6, "did you mean `$window`?"),
    ('r#"rate(e_total[$Window])"#', "RELC309", "$Window", 7, "did you mean `$window`?"),
    ('r#"sum(rate(e_total[$window])) / (sum(rate(t_total[$window]))"#', "RELC308", "(sum(rate(t", 1, None),
    ('"sum(rate(e_total[$window])) / sum(rate(t_total[$window])))"', "RELC308", ')"', 1, None),
])
def test_promql_errors_point_at_the_offending_character(tmp_path: Path, query: str, code: str, at: str,
                                                          width: int, hint: str | None):
    result = check_text(tmp_path, raw_slo(query))
    col = len("    error_ratio = ") + query.index(at) + 1
    assert f"main.relc:4:{col}: error[{code}]" in result.output, result.output
    caret = next(line for line in result.output.splitlines() if line.strip().startswith("|") and "^" in line)
    assert caret.count("^") == width, result.output
    if hint:
        assert f"hint: {hint}" in result.output


def test_pack_doc_to_a_file_says_what_it_wrote(tmp_path: Path):
    result = run("pack", "doc", "examples/packs/acme-postgres", "-o", str(tmp_path / "PACK.md"))
    assert result.exit_code == 0 and f"relc: wrote {tmp_path / 'PACK.md'}" in result.output, result.output
    assert (tmp_path / "PACK.md").read_text().startswith("#")
    failed = run("pack", "doc", "examples/packs/acme-postgres", "-o", str(tmp_path / "missing" / "PACK.md"))
    assert failed.exit_code == 1 and "error[RELC501]" in failed.output
