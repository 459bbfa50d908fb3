"""`relc init`: the scaffold checks and builds as written, and never clobbers a user's files."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

import relc.compiler.commands.cli
from relc import targets as registry
from relc.compiler.output import build as builder
from relc.compiler.commands.cli import main
from relc.compiler.commands.init import files_for

from conftest import ROOT


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    monkeypatch.setitem(relc.compiler.commands.cli.LAZY_COMMANDS, "init", "relc.compiler.commands.init:init_command")
    monkeypatch.setitem(relc.compiler.commands.cli.LAZY_COMMANDS, "explain", "relc.compiler.commands.explain:explain_command")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def scaffolded(tmp_path: Path, name: str = "payments-api") -> Path:
    project = tmp_path / name
    result = invoke("init", str(project))
    assert result.exit_code == 0, result.output
    return project


def test_scaffold_checks_and_builds(tmp_path: Path):
    project = scaffolded(tmp_path)
    assert sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()) == [
        ".pre-commit-config.yaml", "relc.yaml", "slo/payments-api.relc"]
    check = invoke("check", str(project))
    assert check.exit_code == 0 and "ok: 1 file(s), 1 SLO(s)" in check.output and "warning" not in check.output
    build = invoke("build", str(project / "slo"), "-o", str(project / "out"))
    assert build.exit_code == 0, build.output
    rules = yaml.safe_load((project / "out" / "prometheus" / "payments-api.rules.yml").read_text())
    alerts = [r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert set(alerts) == {f"PaymentsApiAvailabilityBudgetBurn{kind}" for kind in ("", "NoData", "ErrorBudget")}
    assert (project / "out" / "runbook" / "payments-api" / "availability.md").exists()


def test_scaffold_explains(tmp_path: Path):
    """The comment on the objective promises 43m 12s of outage a month; explain must agree."""
    project = scaffolded(tmp_path)
    assert "43m 12s of full outage per 30 days" in (project / "slo" / "payments-api.relc").read_text()
    result = invoke("explain", str(project))
    assert result.exit_code == 0 and "43m 12s spends the whole 30d budget" in result.stdout


def test_config_names_real_sources_targets_and_options(tmp_path: Path):
    project = scaffolded(tmp_path)
    config = yaml.safe_load((project / "relc.yaml").read_text())
    assert list(config) == ["sources", "out", "targets", "options"]
    text = (project / "relc.yaml").read_text()
    assert "# runbook_base_url: https://" in text and "# dashboard_base_url: https://" in text
    assert all((project / source).is_dir() for source in config["sources"])
    assert set(config["targets"]) <= set(registry.names())
    for name in config["targets"]:
        assert builder.check_settings(name, registry.load(name), config["options"]) == []
    assert all(key.split(".")[0] in config["targets"] for key in config["options"])


def test_config_passes_the_config_loader_and_schema(tmp_path: Path):
    """relc.yaml's schema lives in compiler/commands/config.py; the scaffold must satisfy it as written."""
    config = pytest.importorskip("relc.compiler.commands.config")
    project = scaffolded(tmp_path)
    loaded, diagnostics = config.load_config(project / "relc.yaml")
    assert diagnostics == []
    assert loaded.targets == ("prometheus", "grafana", "runbook") and loaded.options == {"prometheus.layout": "plain"}
    schema_file = ROOT / "schemas" / "relc-config.schema.json"
    if schema_file.exists():
        schema = json.loads(schema_file.read_text())
        data = yaml.safe_load((project / "relc.yaml").read_text())
        validator = jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())
        assert list(validator.iter_errors(data)) == []


def test_docs_show_the_config_as_written():
    docs = [ROOT / "docs" / "cli.md"]
    written = files_for("any")["relc.yaml"]
    assert any(written in doc.read_text(encoding="utf-8") for doc in docs if doc.exists())


def test_pre_commit_config_uses_the_relc_hooks(tmp_path: Path):
    project = scaffolded(tmp_path)
    (repo,) = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())["repos"]
    assert repo["repo"] == "https://github.com/relc-dev/relc" and repo["rev"] == f"v{relc.compiler.__version__}"
    assert [hook["id"] for hook in repo["hooks"]] == ["relc-check", "relc-fmt"]


def test_refuses_to_overwrite_and_writes_nothing(tmp_path: Path):
    (tmp_path / "relc.yaml").write_text("mine\n")
    result = invoke("init", str(tmp_path))
    assert result.exit_code == 1
    assert "relc.yaml already exists" in result.stderr and "--force" in result.stderr
    assert (tmp_path / "relc.yaml").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["relc.yaml"], "a refused init writes nothing at all"


def test_force_overwrites_but_never_deletes(tmp_path: Path):
    project = scaffolded(tmp_path, "svc")
    (project / "relc.yaml").write_text("edited\n")
    (project / "slo" / "other.relc").write_text("# keep me\n")
    assert invoke("init", str(project)).exit_code == 1
    assert (project / "relc.yaml").read_text() == "edited\n"
    assert invoke("init", str(project), "--force").exit_code == 0
    assert (project / "relc.yaml").read_text() == files_for("svc")["relc.yaml"]
    assert (project / "slo" / "other.relc").read_text() == "# keep me\n"


def test_service_name_from_directory_or_option(tmp_path: Path):
    odd = tmp_path / "My Project"
    assert invoke("init", str(odd)).exit_code == 0
    assert (odd / "slo" / "example.relc").exists()  # not a relc name: fall back to `example`
    named = tmp_path / "x"
    assert invoke("init", str(named), "--service", "checkout").exit_code == 0
    assert "service checkout {" in (named / "slo" / "checkout.relc").read_text()
    bad = invoke("init", str(tmp_path / "y"), "--service", "9lives")
    assert bad.exit_code == 2 and "not a relc name" in bad.output
    assert not (tmp_path / "y").exists()


def test_init_into_current_directory(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("init")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "relc.yaml").exists() and (tmp_path / "slo" / f"{tmp_path.name}.relc").exists()
