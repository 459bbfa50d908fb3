"""Policy packs: params typed and escaped, overrides applied, packs found safely and never run."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from relc.compiler.commands.cli import main
from relc.compiler.pipeline import compile_paths

from conftest import ROOT, compare_tree, require_tool

PG = "tests/packs/pg"


def compile_ok(path: str):
    result = compile_paths([path])
    assert result.ok, [d.message for d in result.diagnostics]
    return result.project


def slo(project, service: str, name: str):
    return next(s for s in project.slos() if (s.service, s.name) == (service, name))


def test_customer_overrides_and_params_reach_the_ir():
    project = compile_ok("examples/customer")
    availability = slo(project, "acme-postgres", "query-availability")
    assert availability.objective == 0.9995 and availability.window_s == 28 * 86400
    assert availability.alert_policy.name == "globex-paging"
    assert availability.labels == {"cluster": "orders-primary", "env": "prod", "product": "acme-postgres",
                                   "team": "globex-dba"}
    assert [m.value for m in availability.sli.total.matchers] == ["db", "orders-primary"]
    freshness = slo(project, "acme-postgres", "replication-freshness")
    assert [t.name for t in freshness.alert_policy.tiers] == ["page-slow"]  # `ticket` disabled
    runbook = availability.runbook
    assert runbook.escalation == "#globex-dba (PagerDuty: dba-primary)"
    assert runbook.steps[-1].text == "Post in #globex-incidents before failing over"
    assert "kubectl -n db logs" in runbook.steps[0].command


def test_vendor_checks_the_pack_itself_with_defaults_and_examples():
    project = compile_ok("examples/packs/acme-postgres")
    availability = slo(project, "acme-postgres", "query-availability")
    assert availability.objective == 0.999 and availability.labels["cluster"] == "main"


@pytest.mark.parametrize("target", ["prometheus", "grafana", "runbook"])
def test_pack_and_customer_build_for_every_target(target: str, tmp_path: Path):
    for src in ("examples/customer", "examples/packs/acme-postgres"):
        result = CliRunner().invoke(main, ["build", src, "-o", str(tmp_path / src), "--target", target])
        assert result.exit_code == 0, result.output


def test_customer_golden(tmp_path: Path, update_golden: bool):
    result = CliRunner().invoke(main, ["build", "examples/customer", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    compare_tree(ROOT / "tests" / "golden" / "customer", tmp_path, update_golden)


def _use(tmp_path: Path, body: str) -> str:
    (tmp_path / "main.relc").write_text(f'use "{ROOT / PG}" {{\n{body}\n}}\n')
    return str(tmp_path / "main.relc")


def test_param_values_cannot_inject_into_promql(tmp_path: Path):
    """A hostile string param lands as a quoted matcher value, never as query text."""
    path = _use(tmp_path, 'params = { namespace = "x\\"} or vector(1) #" }')
    project = compile_ok(path)
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", path, "-o", str(out), "--target", "prometheus"]).exit_code == 0
    rule_file = out / "prometheus" / "pg.rules.yml"
    total = next(r["expr"] for g in yaml.safe_load(rule_file.read_text())["groups"] for r in g["rules"]
                 if r.get("record") == "relc_slo:total_events:rate5m")
    assert total == 'sum(rate(pg_queries_total{namespace="x\\"} or vector(1) #"}[5m]))'
    proc = subprocess.run([require_tool("promtool"), "check", "rules", str(rule_file)], capture_output=True)
    assert proc.returncode == 0, proc.stdout
    assert slo(project, "pg", "availability").sli.total.matchers[0].value == 'x"} or vector(1) #'


def test_interpolating_a_param_into_promql_is_refused(tmp_path: Path):
    path = _use(tmp_path, 'service pg { slo availability { sli raw { error_ratio = '
                          '"sum(rate(x{ns=\\"${params.namespace}\\"}[$window]))" } } }')
    codes = [d.code for d in compile_paths([path]).diagnostics]
    assert codes == ["RELC313"]


def test_missing_required_param_and_type_errors(tmp_path: Path):
    root = tmp_path / "vendor"
    root.mkdir()
    (root / "pack.relc").write_text('pack v { version = "1.0.0"  param team { type = "string" } }\n')
    (root / "s.relc").write_text('service s { owner = params.team  slo a { objective = 99%  '
                                 'sli events { bad = e  total = t } } }\n')
    (tmp_path / "main.relc").write_text('use "./vendor" { }\n')
    diags = compile_paths([str(tmp_path / "main.relc")]).diagnostics
    assert [(d.code, d.message) for d in diags] == [("RELC304", "pack `v` needs param `team` (string)")]


def test_pack_files_cannot_import_outside_the_pack(tmp_path: Path):
    (tmp_path / "secret.relc").write_text('runbook leaked { summary = "x" }\n')
    root = tmp_path / "vendor"
    root.mkdir()
    (root / "pack.relc").write_text('import "../secret.relc"\npack v { version = "1.0.0" }\n')
    (tmp_path / "main.relc").write_text('use "./vendor" { }\n')
    assert "RELC202" in [d.code for d in compile_paths([str(tmp_path / "main.relc")]).diagnostics]


def test_a_pack_cannot_use_another_pack(tmp_path: Path):
    root = tmp_path / "vendor"
    root.mkdir()
    (root / "pack.relc").write_text(f'pack v {{ version = "1.0.0" }}\nuse "{ROOT / PG}" {{ }}\n')
    (tmp_path / "main.relc").write_text('use "./vendor" { }\n')
    assert "RELC205" in [d.code for d in compile_paths([str(tmp_path / "main.relc")]).diagnostics]


def test_installed_pack_is_found_by_entry_point_without_running_its_code(tmp_path: Path, monkeypatch):
    """A vendor's pip-installed pack: located through `relc.packs`, its package never imported."""
    site = tmp_path / "site"
    package = site / "acme_pg_pack"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('pack code must never run')\n")
    for file in (ROOT / PG).iterdir():
        (package / file.name).write_text(file.read_text())
    dist = site / "acme_pg_pack-1.4.2.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-pg-pack\nVersion: 1.4.2\n")
    (dist / "entry_points.txt").write_text("[relc.packs]\npg = acme_pg_pack\n")
    monkeypatch.syspath_prepend(str(site))
    (tmp_path / "main.relc").write_text('use "pg" { version = "~=1.4"  params = { namespace = "db" } }\n')
    project = compile_ok(str(tmp_path / "main.relc"))
    assert slo(project, "pg", "availability").sli.total.matchers[0].value == "db"
    assert "acme_pg_pack" not in sys.modules
    (tmp_path / "main.relc").write_text('use "pgg" { }\n')
    diags = compile_paths([str(tmp_path / "main.relc")]).diagnostics
    assert diags[0].code == "RELC205" and diags[0].hint == "did you mean `pg`?"


def test_pack_doc_renders_params_and_slos():
    result = CliRunner().invoke(main, ["pack", "doc", "examples/packs/acme-postgres"])
    assert result.exit_code == 0, result.output
    assert "| `cluster` | string | **required** (e.g. `\"main\"`) |" in result.output
    assert "| acme-postgres | query-availability | 99.9% | 30d | events | workbook |" in result.output
    bad = CliRunner().invoke(main, ["pack", "doc", "tests/packs/nothing-here"])
    assert bad.exit_code == 1 and "RELC205" in bad.output
