"""The CLI as users and CI see it: exit codes, formats, atomic output, no tracebacks."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from relc.compiler import __version__
from relc.compiler.commands.cli import main

from conftest import ROOT

SHOP = "examples/shop"
BAD = "tests/bad/objective_out_of_range.relc"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_check_clean_example_exits_0():
    result = invoke("check", SHOP)
    assert result.exit_code == 0, result.output
    assert "ok: 4 file(s), 5 SLO(s)" in result.output


def test_check_errors_exit_1_with_caret():
    result = invoke("check", BAD)
    assert result.exit_code == 1
    assert f"{BAD}:3:17: error[RELC301]: objective must be between 0% and 100%" in result.output
    assert "^^^^" in result.output


def test_json_format_is_machine_readable():
    result = invoke("check", "--format", "json", BAD)
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["errors"] == 3
    first = payload["diagnostics"][0]
    assert first["code"] == "RELC301"
    assert first["span"] == {"path": BAD, "line": 3, "col": 17, "end_line": 3, "end_col": 21}


def test_missing_path_is_an_error_not_a_traceback():
    result = invoke("check", "does/not/exist.relc")
    assert result.exit_code == 1
    assert "RELC201" in result.output


def test_usage_errors_exit_2():
    assert invoke("build", SHOP).exit_code == 2  # no -o
    assert invoke("frobnicate").exit_code == 2


def test_version_and_help():
    assert __version__ in invoke("--version").output
    for command in ("check", "build", "targets"):
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_unknown_target_suggests(tmp_path: Path):
    result = invoke("build", SHOP, "-o", str(tmp_path), "--target", "prometheos")
    assert result.exit_code == 1
    assert "unknown target `prometheos`" in result.output and "did you mean `prometheus`?" in result.output
    assert not any(tmp_path.iterdir()), "a failed build writes nothing"


def test_failed_build_leaves_previous_output_intact(tmp_path: Path):
    assert invoke("build", SHOP, "-o", str(tmp_path)).exit_code == 0
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert invoke("build", BAD, "-o", str(tmp_path)).exit_code == 1
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".") and p.name != ".relc-manifest.json"]
    assert not leftovers, "no temporary directories left behind"


def test_rebuild_replaces_target_dir_and_keeps_others(tmp_path: Path):
    (tmp_path / "prometheus").mkdir()
    (tmp_path / "prometheus" / "stale.rules.yml").write_text("old")
    (tmp_path / "README.md").write_text("mine")
    refused = invoke("build", SHOP, "-o", str(tmp_path))
    assert refused.exit_code == 1 and "error[RELC502]" in refused.output, "a file relc did not write is not deleted"
    assert invoke("build", SHOP, "-o", str(tmp_path), "--force").exit_code == 0
    assert not (tmp_path / "prometheus" / "stale.rules.yml").exists()
    assert (tmp_path / "README.md").read_text() == "mine"
    assert sorted(p.name for p in (tmp_path / "prometheus").iterdir()) == [
        "catalog.rules.yml", "checkout.rules.yml", "orders-worker.rules.yml"]


def test_runbook_base_url_option(tmp_path: Path):
    assert invoke("build", SHOP, "-o", str(tmp_path), "--runbook-base-url", "https://runbooks.example/shop").exit_code == 0
    text = (tmp_path / "prometheus" / "checkout.rules.yml").read_text()
    assert "runbook_url: https://runbooks.example/shop/checkout/availability.md#tier-page-fast" in text


def test_targets_lists_the_builtins():
    result = invoke("targets")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines() if not line.startswith(" ")]
    assert {"prometheus", "grafana"} <= set(names) and names == sorted(names)


def test_console_script_and_module_entry_points(tmp_path: Path):
    """The installed `relc` script and `python -m relc.compiler` both run, with real exit codes."""
    env = {**os.environ, "PYTHONPATH": ""}
    module = subprocess.run([sys.executable, "-m", "relc.compiler", "check", BAD], capture_output=True, text=True,
                            cwd=ROOT, env=env)
    assert module.returncode == 1 and "RELC301" in module.stderr and "Traceback" not in module.stderr
    script = Path(sys.executable).parent / "relc"
    if script.exists():
        ok = subprocess.run([str(script), "check", SHOP], capture_output=True, text=True, cwd=ROOT, env=env)
        assert ok.returncode == 0, ok.stderr


def test_internal_error_prints_one_line_and_exits_2(monkeypatch, capsys):
    from relc.compiler import pipeline
    from relc.compiler.commands import cli as cli

    def boom(*args, **kwargs):
        raise RuntimeError("simulated")

    monkeypatch.setattr(pipeline, "compile_paths", boom)
    monkeypatch.setattr(sys, "argv", ["relc", "check", SHOP])
    try:
        cli.run()
    except SystemExit as exit_:
        assert exit_.code == 2
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: simulated" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_unwritable_output_is_a_diagnostic(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = invoke("build", SHOP, "-o", str(blocker / "out"))
    assert result.exit_code == 1
    assert "error[RELC501]: cannot write to" in result.output and "Traceback" not in result.output


def test_similar_warnings_are_counted_after_five_unless_all_are_asked_for(tmp_path):
    """A default build warns once per SLO about what a target cannot express; text shows five of a kind."""
    from relc.compiler.render.text import SIMILAR_SHOWN

    slos = "".join(f"  slo s{i} {{\n    objective = 99%\n    window = 30d\n    min_events = 5\n"
                   f"    sli events {{\n      bad = e_total{{code=\"5\"}}\n      total = e_total\n    }}\n  }}\n"
                   for i in range(SIMILAR_SHOWN + 3))
    (tmp_path / "s.relc").write_text(f"service svc {{\n{slos}}}\n")
    args = ["build", "--no-config", str(tmp_path / "s.relc"), "-o", str(tmp_path / "out"), "-t", "prometheus",
            "-t", "datadog"]
    short = CliRunner().invoke(main, args)
    assert short.exit_code == 0, short.output
    listed = json.loads(CliRunner().invoke(main, args + ["--format", "json"]).stdout)["diagnostics"]
    kinds = {d["message"].split(": ", 2)[-1] for d in listed}  # what follows "Datadog: SLO `svc/sN`: "
    assert len(listed) == len(kinds) * (SIMILAR_SHOWN + 3)  # every kind once per SLO
    assert short.output.count("min_events = 5 has no Datadog equivalent") == SIMILAR_SHOWN
    assert f"relc: {3 * len(kinds)} more warning(s) like those above not shown" in short.output
    assert f"relc: {len(listed)} warnings" in short.output  # the summary counts them all
    full = CliRunner().invoke(main, args + ["--all-warnings"])
    assert full.output.count("min_events = 5 has no Datadog equivalent") == SIMILAR_SHOWN + 3
    assert "not shown" not in full.output
