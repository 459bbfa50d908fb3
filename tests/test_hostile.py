"""Hostile input: every target keeps source text literal and the build stays inside its directory."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from relc.compiler.commands.cli import main
from relc.compiler.pipeline import compile_paths

from conftest import require_tool

PLAIN = 'quote " backslash \\ {{ $labels.instance }} $value <script>alert(1)</script> [x](javascript:y) | ` # '
NASTY = PLAIN.replace("\\", "\\\\").replace('"', '\\"')  # the same text as a relc string literal body
SOURCE = f'''
alert_policy loud {{
  annotations = {{ help = "{NASTY}\\nsecond line" }}
  labels = {{ team = "{NASTY}" }}
  tier page {{ severity = "page"  burn_rate = 10  long = 1h  short = 5m }}
}}
budget_policy nasty {{
  threshold {{ remaining = 0%  actions = ["{NASTY}"]  notify = "{NASTY}" }}
}}
runbook nasty {{
  summary = "{NASTY}"
  escalation = "{NASTY}"
  step "{NASTY}" {{ command = "echo '```' && {NASTY}" }}
}}
service evil {{
  description = "{NASTY}"
  owner = "{NASTY}"
  labels = {{ note = "{NASTY}" }}
  slo api {{
    description = "{NASTY}\\nline two"
    objective = 99.9%
    alert_policy = loud
    budget_policy = nasty
    runbook = nasty
    sli events {{
      bad = http_requests_total{{path="{NASTY}", code=~"5.."}}
      total = http_requests_total{{path="{NASTY}"}}
    }}
  }}
}}
'''


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    (root / "src").mkdir()
    (root / "src" / "evil.relc").write_text(SOURCE)
    result = CliRunner().invoke(main, ["build", str(root / "src"), "-o", str(root / "out")])
    assert result.exit_code == 0, result.output
    return root / "out"


def test_only_the_output_directory_is_written(built: Path):
    assert sorted(p.name for p in built.parent.iterdir()) == ["out", "src"]
    for path in built.rglob("*"):
        assert path.resolve().is_relative_to(built.resolve())


def test_prometheus_keeps_values_literal_and_promtool_accepts(built: Path):
    rule_file = built / "prometheus" / "evil.rules.yml"
    proc = subprocess.run([require_tool("promtool"), "check", "rules", str(rule_file)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rules = [r for g in yaml.safe_load(rule_file.read_text())["groups"] for r in g["rules"]]
    record = next(r for r in rules if r.get("record"))
    assert record["labels"]["note"] == PLAIN  # recording-rule labels are not templated
    alert = next(r for r in rules if r.get("alert") == "EvilApiBudgetBurn")
    escaped = PLAIN.replace("{{", '{{ "{{" }}')  # alert labels and annotations are Go templates
    assert alert["labels"]["note"] == escaped and alert["labels"]["team"] == escaped
    assert alert["annotations"]["help"] == escaped + "\nsecond line"


def test_promql_matcher_values_are_quoted(built: Path):
    from relc.compiler.check.promql import quote

    text = (built / "prometheus" / "evil.rules.yml").read_text()
    expr = next(r["expr"] for g in yaml.safe_load(text)["groups"] for r in g["rules"]
                if r.get("record") == "relc_slo:total_events:rate5m")
    assert f"http_requests_total{{path={quote(PLAIN)}}}" in expr


def test_grafana_text_panels_carry_no_live_html(built: Path):
    """Grafana renders text panels as Markdown/HTML; descriptions are plain-text tooltips."""
    texts = []
    for path in (built / "grafana").rglob("*.json"):
        panels = json.loads(path.read_text()).get("panels", [])
        panels += [p for row in panels for p in row.get("panels", [])]
        texts += [p["options"]["content"] for p in panels if p.get("type") == "text"]
    assert texts, "the dashboards have text panels (runbook links) to check"
    for content in texts:
        html = _markdown_html(content) if "<" not in content[:1] else content
        assert "<script" not in html and 'href="javascript:' not in html


def _markdown_html(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").render(text)


def test_runbook_markdown_has_no_live_html_or_links_from_source(built: Path):
    html = _markdown_html((built / "runbook" / "evil" / "api.md").read_text())
    assert "<script" not in html and 'href="javascript:' not in html
    assert "&lt;script&gt;" in html  # the text is still there, shown literally


def test_datadog_payloads_are_valid_json_with_neutralised_templates(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "evil.relc").write_text(SOURCE)
    result = CliRunner().invoke(main, ["build", str(src), "-o", str(tmp_path / "out"), "--target", "datadog"])
    for path in (tmp_path / "out" / "datadog").rglob("*.json"):
        payload = json.loads(path.read_text())
        assert "{{ $labels" not in json.dumps(payload.get("message", ""))
    assert "Traceback" not in result.output


def test_very_large_file_is_a_diagnostic(tmp_path: Path):
    big = tmp_path / "big.relc"
    with open(big, "wb") as handle:
        handle.truncate(17 * 1024 * 1024)
    result = compile_paths([str(big)])
    assert [d.code for d in result.diagnostics] == ["RELC201"] and "larger than 16 MiB" in result.diagnostics[0].message
