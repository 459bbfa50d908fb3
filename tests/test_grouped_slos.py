"""`group_by`: one SLO per label value. Every recorded series and alert carries the group; promtool proves that a
burning group alerts alone, that the event guard counts per group, and that a group that goes quiet is reported."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from conftest import build_source, require_tool
from relc.compiler.pipeline import compile_paths

SOURCE = """\
alert_policy guarded {
  min_events = 100
  no_data_after = 10m
  tier page-fast { severity = "page"  budget = 2%  long = 1h  short = 5m }
}

service api {
  slo availability {
    objective = 99.9%
    group_by = [tenant]
    alert_policy = guarded
    sli events {
      bad = http_requests_total{job="api", code="500"}
      total = http_requests_total{job="api"}
    }
  }
}
"""


def build(tmp_path: Path, text: str = SOURCE, *targets: str) -> Path:
    return build_source(tmp_path, text, *targets)


def promtool_test(tmp_path: Path, rules: Path, series: list[dict], alerts: list[dict]) -> None:
    test = {"rule_files": [str(rules)], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": alerts}]}
    path = tmp_path / "grouped.test.yml"
    path.write_text(yaml.safe_dump(test))
    proc = subprocess.run([require_tool("promtool"), "test", "rules", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def requests(tenant: str, code: str, per_minute: int, minutes: int = 120, stop: int | None = None) -> dict:
    values = f"0+{per_minute}x{minutes}" if stop is None else f"0+{per_minute}x{stop} _x{minutes - stop}"
    return {"series": f'http_requests_total{{job="api",code="{code}",tenant="{tenant}"}}', "values": values}


def labels(tenant: str, tier: str = "page-fast", severity: str = "page") -> dict:
    return {"severity": severity, "service": "api", "slo": "availability", "alert_tier": tier, "tenant": tenant}


def test_only_the_burning_group_alerts_and_quiet_groups_are_guarded(tmp_path: Path):
    out = build(tmp_path, SOURCE, "prometheus")
    rules = out / "prometheus" / "api.rules.yml"
    series = [requests("a", "500", 60), requests("a", "200", 540),      # 10% errors: 100x
              requests("b", "200", 600),                                 # healthy
              requests("c", "500", 1)]                                   # 100% errors, 60 events an hour < 100
    firing = [{"exp_labels": labels("a"), "exp_annotations": _annotations(rules, "page-fast")}]
    promtool_test(tmp_path, rules, series, [{"eval_time": "90m", "alertname": "ApiAvailabilityBudgetBurn",
                                              "exp_alerts": firing}])


def test_a_group_that_goes_quiet_is_reported_alone(tmp_path: Path):
    out = build(tmp_path, SOURCE, "prometheus")
    rules = out / "prometheus" / "api.rules.yml"
    series = [requests("a", "200", 600), requests("b", "200", 600, stop=30)]
    (rule,) = [r for g in yaml.safe_load(rules.read_text())["groups"] for r in g["rules"]
               if r.get("alert") == "ApiAvailabilityBudgetBurnNoData"]
    quiet = {"exp_labels": {k: v for k, v in labels("b", "no-data", "ticket").items()},
             "exp_annotations": rule["annotations"]}
    promtool_test(tmp_path, rules, series, [{"eval_time": "60m", "alertname": "ApiAvailabilityBudgetBurnNoData",
                                              "exp_alerts": [quiet]}])


def _annotations(rules: Path, tier: str) -> dict:
    """The annotations promtool expands for the alert (its value is 100x the sustainable rate)."""
    (rule,) = [r for g in yaml.safe_load(rules.read_text())["groups"] for r in g["rules"]
               if r.get("labels", {}).get("alert_tier") == tier]
    notes = dict(rule["annotations"])
    notes["description"] = notes["description"].replace('{{ $value | printf "%.1f" }}', "100.0")
    return notes


def test_every_recorded_series_keeps_the_group(tmp_path: Path):
    out = build(tmp_path, SOURCE, "prometheus")
    rules = [r for g in yaml.safe_load((out / "prometheus" / "api.rules.yml").read_text())["groups"]
             for r in g["rules"]]
    by_name = {r.get("record") or r["alert"]: r["expr"] for r in rules}
    assert by_name["relc_slo:bad_events:rate5m"].startswith("sum by (tenant) (rate(")
    assert "sum by (tenant) (sum_over_time(relc_slo:bad_events:rate5m" in by_name["relc_slo:error_ratio:rate30d"]
    assert "and on(tenant)" in by_name["ApiAvailabilityBudgetBurn"]
    assert "max by (tenant) (" in by_name["relc_slo:data_since:timestamp"]


def test_dashboards_runbooks_explain_and_the_other_targets(tmp_path: Path):
    (tmp_path / "api.relc").write_text(SOURCE)
    proc = subprocess.run(["relc", "build", str(tmp_path / "api.relc"), "-o", str(tmp_path / "all"),
                           "--all-warnings"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Datadog: SLO `api/availability`: group_by = [tenant]" in proc.stderr and "api.relc:10:" in proc.stderr
    assert "OpenSLO: SLO `api/availability`: group_by = [tenant]" in proc.stderr
    board = json.loads((tmp_path / "all" / "grafana" / "provisioning" / "dashboards" / "relc" / "relc-api.json")
                       .read_text())
    (variable,) = [v for v in board["templating"]["list"] if v["name"] == "tenant"]
    assert variable["includeAll"] and variable["multi"] and "label_values(" in variable["query"]["query"]
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", ())]
    assert all('tenant=~"${tenant}"' in e for e in exprs if "relc_slo:" in e)
    page = (tmp_path / "all" / "runbook" / "api" / "availability.md").read_text()
    assert "kept **per group** of `tenant`" in page
    explained = subprocess.run(["relc", "explain", str(tmp_path / "api.relc")], capture_output=True, text=True)
    assert "grouped by     tenant" in explained.stdout


def test_proofs_run_a_group(tmp_path: Path):
    (tmp_path / "api.relc").write_text(SOURCE)
    proc = subprocess.run(["relc", "test", str(tmp_path / "api.relc")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = subprocess.run(["relc", "build", str(tmp_path / "api.relc"), "-o", str(tmp_path / "p"), "-t",
                            "prometheus", "-O", "prometheus.tests=true"], capture_output=True, text=True)
    assert built.returncode == 0
    proofs = "".join(p.read_text() for p in (tmp_path / "p" / "prometheus" / "tests").glob("*.yml"))
    assert 'tenant="proof-group"' in proofs and 'tenant!=""' in proofs


def check(tmp_path: Path, text: str):
    path = tmp_path / "x.relc"
    path.write_text(text)
    return [(d.code, d.span.line) for d in compile_paths([str(path)]).diagnostics if d.is_error]


RAW = """\
service api {
  labels = { region = "eu" }
  slo availability {
    objective = 99.9%
    GROUP
    sli events {
      bad = r#"sum(rate(http_requests_total{code="500"}[$window])) by (route)"#
      total = r#"sum by (route) (rate(http_requests_total[$window]))"#
    }
  }
}
"""


def test_raw_queries_must_group_like_the_slo(tmp_path: Path):
    assert check(tmp_path, RAW.replace("GROUP", "group_by = [route]")) == []
    assert check(tmp_path, RAW.replace("GROUP", "")) == []  # a warning each: summed into one total, as before
    warned = compile_paths([str(tmp_path / "x.relc")]).diagnostics
    assert [(d.code, d.severity.value, d.span.line) for d in warned] == [("RELC312", "warning", 7), ("RELC312", "warning", 8)]
    assert check(tmp_path, RAW.replace("GROUP", "group_by = [host]")) == [("RELC312", 7), ("RELC312", 8)]


def test_bad_group_labels_are_refused_at_the_name(tmp_path: Path):
    plain = RAW.replace('sum(rate(http_requests_total{code="500"}[$window])) by (route)',
                        'rate(http_requests_total{code="500"}[$window])').replace(
        "sum by (route) (rate(http_requests_total[$window]))", "rate(http_requests_total[$window])")
    assert check(tmp_path, plain.replace("GROUP", "group_by = [le]")) == [("RELC312", 5)]
    # a label relc sets itself is kept as exported_<name>, with a note
    path = tmp_path / "s.relc"
    path.write_text(plain.replace("GROUP", "group_by = [severity]"))
    result = compile_paths([str(path)])
    assert result.ok and [(d.code, d.severity.name) for d in result.diagnostics] == [("RELC312", "NOTE")]
    assert result.project.slos()[0].recorded_group_by == ("exported_severity",)
    assert check(tmp_path, plain.replace("GROUP", "group_by = [region]")) == [("RELC312", 5)]
    assert check(tmp_path, plain.replace("GROUP", "group_by = [a, a]")) == [("RELC314", 5)]
    assert check(tmp_path, plain.replace("GROUP", "group_by = []")) == [("RELC303", 5)]
    assert check(tmp_path, plain.replace("GROUP", 'group_by = ["bad-name"]')) == [("RELC307", 5)]
