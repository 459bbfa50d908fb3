"""Labels and annotations per alert tier: on that tier's alert only, in every target that carries alerts."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from conftest import build_source, require_tool
from relc.compiler.pipeline import compile_paths

SOURCE = """\
alert_policy routed {
  labels = { team = "api" }
  annotations = { playbook = "https://wiki.example/policy" }
  tier page-fast {
    severity = "page"
    budget = 2%
    long = 1h
    short = 5m
    labels = { routing_key = "api-pager", team = "api-oncall" }
    annotations = { playbook = "https://wiki.example/page" }
  }
  tier ticket-slow {
    severity = "ticket"
    burn_rate = 1
    long = 3d
    short = 6h
    labels = { slack_channel = "#api-tickets", domain = "tier" }
  }
}

service api {
  labels = { domain = "shop" }
  slo availability {
    objective = 99.9%
    window = 30d
    alert_policy = routed
    sli events {
      bad = http_requests_total{job="api", code="500"}
      total = http_requests_total{job="api"}
    }
  }
}
"""


def build(tmp_path: Path, text: str = SOURCE, *targets: str) -> Path:
    return build_source(tmp_path, text, *targets)


def alerts(out: Path) -> dict[str, dict]:
    groups = yaml.safe_load((out / "prometheus" / "api.rules.yml").read_text())["groups"]
    return {r["labels"]["alert_tier"]: r for g in groups for r in g["rules"] if "alert" in r}


def test_each_tier_carries_its_own_labels_and_annotations(tmp_path: Path):
    found = alerts(build(tmp_path, SOURCE, "prometheus"))
    page, ticket = found["page-fast"], found["ticket-slow"]
    assert page["labels"]["routing_key"] == "api-pager" and "slack_channel" not in page["labels"]
    assert ticket["labels"]["slack_channel"] == "#api-tickets" and "routing_key" not in ticket["labels"]
    assert page["labels"]["team"] == "api-oncall" and ticket["labels"]["team"] == "api"  # tier over policy
    assert ticket["labels"]["domain"] == "shop"  # the service's labels win over the tier's
    assert page["annotations"]["playbook"] == "https://wiki.example/page"
    assert ticket["annotations"]["playbook"] == "https://wiki.example/policy"


def test_rules_with_tier_labels_pass_promtool(tmp_path: Path):
    out = build(tmp_path, SOURCE, "prometheus")
    proc = subprocess.run([require_tool("promtool"), "check", "rules", str(out / "prometheus" / "api.rules.yml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_datadog_monitors_and_runbooks_carry_them(tmp_path: Path):
    out = build(tmp_path, SOURCE, "datadog", "runbook")
    monitors = [json.loads(p.read_text()) for p in (out / "datadog").rglob("*.json")]
    text = json.dumps(monitors)
    assert "routing_key:api-pager" in text and "slack_channel:_api-tickets" in text
    page = (out / "runbook" / "api" / "availability.md").read_text()
    assert "`routing_key=api-pager`" in page and "`slack_channel=#api-tickets`" in page


def test_reserved_tier_labels_are_errors_at_the_key(tmp_path: Path):
    bad = tmp_path / "bad.relc"
    bad.write_text(SOURCE.replace('labels = { slack_channel = "#api-tickets", domain = "tier" }',
                                  'labels = { severity = "low" }'))
    result = compile_paths([str(bad)])
    (diag,) = [d for d in result.diagnostics if d.is_error]
    assert diag.code == "RELC312" and diag.span.line == 17 and "severity" in diag.message
