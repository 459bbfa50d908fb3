"""`sli timeslices`: the share of good slices. promtool proves the difference from a request-based SLO: errors
spread thinly (every slice under its bound) spend nothing, a burst of bad slices pages."""
from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from conftest import require_tool
from relc.compiler.pipeline import compile_paths

SOURCE = """\
service api {
  slo minutes {
    objective = 99.9%
    sli timeslices {
      events {
        bad = http_requests_total{job="api", code="500"}
        total = http_requests_total{job="api"}
      }
      slice = 1m
      good_if = "< 1%"
    }
  }
}
"""


def rules_for(tmp_path: Path, text: str = SOURCE) -> Path:
    (tmp_path / "api.relc").write_text(text)
    proc = subprocess.run(["relc", "build", str(tmp_path / "api.relc"), "-o", str(tmp_path / "out"), "-t",
                           "prometheus"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "out" / "prometheus" / "api.rules.yml"


def run(tmp_path: Path, rules: Path, errors: str, checks: list[dict]) -> None:
    test = {"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "promql_expr_test": checks,
        "input_series": [{"series": 'http_requests_total{job="api",code="500"}', "values": errors},
                         {"series": 'http_requests_total{job="api",code="200"}', "values": "0+1000x240"}]}]}
    path = tmp_path / "slices.test.yml"
    path.write_text(yaml.safe_dump(test))
    proc = subprocess.run([require_tool("promtool"), "test", "rules", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


FIRING = 'ALERTS{alertname="ApiMinutesBudgetBurn",alertstate="firing",alert_tier="page-fast"}'


def test_thin_errors_in_every_slice_spend_no_budget(tmp_path: Path):
    """0.5% errors in every minute: a request-based 99.9% SLO would burn at 5x; every slice is good."""
    rules = rules_for(tmp_path)
    run(tmp_path, rules, "0+5x240", [
        {"expr": 'relc_slo:error_ratio:rate1h{slo="minutes"}', "eval_time": "3h",
         "exp_samples": [{"labels": 'relc_slo:error_ratio:rate1h{service="api",slo="minutes"}', "value": 0}]},
        {"expr": f"count({FIRING})", "eval_time": "3h", "exp_samples": []}])


def test_a_burst_of_bad_slices_pages(tmp_path: Path):
    """Ten minutes at 5% errors: ten bad slices in the hour, 16.7% of the slices, over 14.4x the 0.1% budget."""
    rules = rules_for(tmp_path)
    run(tmp_path, rules, "0+0x120 0+50x10 500+0x110", [
        {"expr": f"count({FIRING})", "eval_time": "128m", "exp_samples": [{"labels": "{}", "value": 1}]},
        {"expr": f"count({FIRING})", "eval_time": "119m", "exp_samples": []}])


def test_latency_slices_and_bad_conditions(tmp_path: Path):
    latency = SOURCE.replace('''      events {
        bad = http_requests_total{job="api", code="500"}
        total = http_requests_total{job="api"}
      }''', '      histogram = http_request_duration_seconds{job="api"}').replace('"< 1%"', '"p99 <= 300ms"')
    rules = yaml.safe_load(rules_for(tmp_path, latency).read_text())
    base = next(r["expr"] for g in rules["groups"] for r in g["rules"] if r.get("record") == "relc_slo:error_ratio:rate5m")
    assert base == ('avg_over_time((histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket'
                    '{job="api"}[1m]))) > bool 0.3)[5m:1m])')
    for bad, code in (('"p99 < 300ms"', "RELC312"), ('"< 1"', "RELC312"), ('"< 120%"', "RELC312")):
        path = tmp_path / "bad.relc"
        path.write_text(SOURCE.replace('"< 1%"', bad))
        assert [d.code for d in compile_paths([str(path)]).diagnostics] == [code], bad
    both = tmp_path / "both.relc"
    both.write_text(SOURCE.replace("      slice = 1m", '      ratio = r#"rate(x[$window])"#\n      slice = 1m'))
    assert [d.code for d in compile_paths([str(both)]).diagnostics] == ["RELC304"]


def test_runbook_and_fmt(tmp_path: Path):
    (tmp_path / "api.relc").write_text(SOURCE)
    proc = subprocess.run(["relc", "build", str(tmp_path / "api.relc"), "-o", str(tmp_path / "out"), "-t",
                           "runbook"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "share of good 1m slices" in (tmp_path / "out" / "runbook" / "api" / "minutes.md").read_text()
    assert subprocess.run(["relc", "fmt", "--check", str(tmp_path / "api.relc")]).returncode == 0


OPENSLO = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-minutes
spec:
  service: api
  budgetingMethod: Timeslices
  timeWindow:
    - duration: 28d
      isRolling: true
  indicator:
    metadata:
      name: api-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{job="api",code=~"5.."}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{job="api"}
  objectives:
    - target: 0.999
      timeSliceTarget: 0.95
      timeSliceWindow: 1m
"""


def test_openslo_timeslices_import_to_a_timeslices_sli(tmp_path: Path):
    from relc.compiler.model import ir

    path = tmp_path / "slo.yaml"
    path.write_text(OPENSLO)
    result = compile_paths([str(path)])
    assert result.ok, result.diagnostics
    (slo,) = result.project.slos()
    slices = slo.sli.slices
    assert isinstance(slo.sli, ir.RawSLI) and slices is not None
    assert (slices.slice_s, slices.threshold, slices.inclusive) == (60, 0.05, True)
    assert isinstance(slices.source, ir.EventsSLI) and slo.objective == 0.999
    path.write_text(OPENSLO.replace("      timeSliceWindow: 1m\n", ""))
    assert [d.code for d in compile_paths([str(path)]).diagnostics if d.is_error] == ["RELC606"]
    path.write_text(OPENSLO.replace("Timeslices", "RatioTimeslices"))
    assert [d.code for d in compile_paths([str(path)]).diagnostics if d.is_error] == ["RELC608"]
