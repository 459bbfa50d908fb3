"""`native_histogram` in a latency SLI: histogram_fraction rules that promtool accepts, the classic-only
attributes refused, and the targets that cannot express it saying so at the SLO."""
from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from conftest import require_tool
from relc.compiler.pipeline import compile_paths

SOURCE = """\
service api {
  slo latency {
    objective = 99%
    sli latency {
      native_histogram = http_request_duration_seconds{job="api"}
      threshold = 300ms
    }
  }
}
"""


def build(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "api.relc").write_text(SOURCE)
    return subprocess.run(["relc", "build", str(tmp_path / "api.relc"), "-o", str(tmp_path / "out"), *args],
                          capture_output=True, text=True)


def test_rules_read_histogram_fraction_and_pass_promtool(tmp_path: Path):
    proc = build(tmp_path, "-t", "prometheus")
    assert proc.returncode == 0, proc.stderr
    rules_file = tmp_path / "out" / "prometheus" / "api.rules.yml"
    rules = {r.get("record") or r["alert"] + r["labels"].get("alert_tier", ""): r["expr"]
             for g in yaml.safe_load(rules_file.read_text())["groups"] for r in g["rules"]}
    selector = 'http_request_duration_seconds{job="api"}'
    assert rules["relc_slo:total_events:rate5m"] == f"sum(histogram_count(rate({selector}[5m])))"
    assert rules["relc_slo:bad_events:rate5m"] == (f"sum(histogram_count(rate({selector}[5m]))) * (1 - "
                                                   f"histogram_fraction(0, 0.3, sum(rate({selector}[5m]))))")
    assert "_bucket" not in rules_file.read_text()
    checked = subprocess.run([require_tool("promtool"), "check", "rules", str(rules_file)], capture_output=True,
                             text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_targets_that_cannot_say_it_say_so_at_the_slo(tmp_path: Path):
    proc = build(tmp_path, "-t", "openslo")
    assert proc.returncode == 1 and "openslo" in proc.stderr.lower() and "api.relc:2:" in proc.stderr
    proc = build(tmp_path, "-t", "datadog")
    assert proc.returncode == 1 and "native histogram" in proc.stderr and "api.relc:5:" in proc.stderr
    proc = build(tmp_path, "-t", "prometheus", "-O", "prometheus.tests=true")
    assert proc.returncode == 0 and "warning[RELC404]" in proc.stderr and "native histograms" in proc.stderr


def test_classic_attributes_are_refused(tmp_path: Path):
    both = tmp_path / "both.relc"
    both.write_text(SOURCE.replace("      threshold", "      histogram = x\n      threshold"))
    assert [d.code for d in compile_paths([str(both)]).diagnostics] == ["RELC304"]
    with_le = tmp_path / "le.relc"
    with_le.write_text(SOURCE.replace("threshold = 300ms", 'le = "0.3"'))
    (diag,) = compile_paths([str(with_le)]).diagnostics
    assert diag.code == "RELC312" and diag.span.line == 6


def test_runbook_and_dashboard_read_the_native_series(tmp_path: Path):
    proc = build(tmp_path, "-t", "runbook", "-t", "grafana")
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "out" / "runbook" / "api" / "latency.md").read_text()
    assert "native histogram" in page and "count by (le)" not in page
    boards = "".join(p.read_text() for p in (tmp_path / "out" / "grafana").rglob("*.json"))
    assert "_bucket" not in boards and "histogram_quantile(0.99, sum(rate(http_request_duration_seconds" in boards
