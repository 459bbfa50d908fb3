"""Source text that reaches generated files stays data: no live Go template in an alert, no extra YAML key in any
YAML file, whatever path the text took (the spec, a policy, a runbook url, a command-line or relc.yaml URL)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from relc.compiler.commands.cli import main
from relc.targets.prometheus.rules import LIVE_TEMPLATES

from conftest import require_tool

ESCAPED = '{{ "{{" }}'
HOSTILE = [
    "page\n- alert: Injected\n  expr: vector(1)", "a: b", "# c", "'quoted' \"double\"", "{{ query \"up\" }}",
    "{{ with query \"sum(up)\" }}{{ . }}{{ end }}", "x\u2028y: z", "x\u2029y", "- item", "*alias", "&anchor", "!tag",
    "{{$labels}}", "}}{{", "\ttab", "ends with space ", "é ☃ 🚀", "[flow, seq]", "{flow: map}", "null", "true",
]
URL_HOSTILE = ["https://r.example/{{.}}/", "https://r.example/{{$labels.service}}/", "https://r.example/%7B%7B/"]


def spec(severity: str, note: str, url: str) -> str:
    text = (f'alert_policy p {{\n  annotations = {{ note = {yaml_quote(note)} }}\n'
            f'  tier t {{ severity = {yaml_quote(severity)}  burn_rate = 14.4  long = 1h  short = 5m }}\n'
            f'  no_data_after = 10m  no_data_severity = {yaml_quote(severity)}\n}}\n'
            f'budget_policy b {{ threshold {{ remaining = 0%  actions = [{yaml_quote(note)}]  '
            f'notify = {yaml_quote(note)}  severity = {yaml_quote(severity)} }} }}\n'
            f'runbook r {{ url = {yaml_quote(url)}  step {yaml_quote(note)} {{ command = {yaml_quote(note)} }} }}\n'
            'service svc {\n  slo x {\n    objective = 99.9%\n    alert_policy = p\n    budget_policy = b\n'
            '    runbook = r\n    sli events { bad = e_total{code="500"}  total = e_total }\n  }\n}\n')
    return text


def yaml_quote(text: str) -> str:
    """A relc string literal holding exactly `text`."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def live_actions(text: str) -> str:
    """What Go templating would still act on once relc's own templates and its escapes are taken out."""
    for live in LIVE_TEMPLATES:
        text = text.replace(live, "")
    return text.replace(ESCAPED, "")


def build(tmp_path: Path, text: str, *args: str) -> Path:
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    (source / "a.relc").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(source), "-o", str(out), "--target", "prometheus",
                                       "-O", "prometheus.tests=true", "-O", "prometheus.alertmanager=true", *args])
    assert result.exit_code == 0, result.output
    return out


def check_outputs(out: Path, severity: str, note: str) -> None:
    for path in sorted(out.rglob("*.y*ml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))  # parses, and as the keys below say
        if path.name.endswith(".test.yml"):
            assert set(document) == {"rule_files", "evaluation_interval", "tests"}, path
            assert all(set(t) <= {"name", "interval", "input_series", "promql_expr_test", "alert_rule_test"}
                       for t in document["tests"])
        if path.name.endswith(".rules.yml"):
            (group,) = document["groups"]
            for rule in group["rules"]:
                assert set(rule) <= {"record", "alert", "expr", "for", "labels", "annotations"}, rule
                for value in [*rule.get("labels", {}).values(), *rule.get("annotations", {}).values()]:
                    if "alert" in rule:
                        assert "{{" not in live_actions(value), (path, value)
            severities = {r["labels"]["severity"] for r in group["rules"] if "alert" in r}
            assert severities == {severity.replace("{{", ESCAPED)}
            notes = {r["annotations"]["note"] for r in group["rules"] if "note" in r.get("annotations", {})}
            assert notes == {note.replace("{{", ESCAPED)}


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_in_every_field_stays_a_value(tmp_path: Path, text: str):
    out = build(tmp_path, spec(text, text, "https://r.example/a"))
    check_outputs(out / "prometheus", text, text)
    proc = subprocess.run([require_tool("promtool"), "check", "rules", *map(str, (out / "prometheus").glob("*.yml"))],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("url", URL_HOSTILE)
@pytest.mark.parametrize("where", ["runbook", "runbook-base-url", "dashboard-base-url", "relc.yaml"])
def test_urls_from_any_path_are_escaped(tmp_path: Path, url: str, where: str):
    args: list[str] = []
    runbook_url = "https://r.example/a"
    if where == "runbook":
        runbook_url = url
    elif where == "relc.yaml":
        (tmp_path / "relc.yaml").write_text(f"runbook_base_url: '{url}'\ndashboard_base_url: '{url}'\n")
        args = ["--config", str(tmp_path / "relc.yaml")]
    else:
        args = [f"--{where}", url]
    text = spec("page", "n", runbook_url)
    if where != "runbook":
        text = text.replace(f"url = {yaml_quote(runbook_url)}  ", "")
    out = build(tmp_path, text, *args)
    rules = yaml.safe_load((out / "prometheus" / "svc.rules.yml").read_text())["groups"][0]["rules"]
    urls = [r["annotations"][key] for r in rules if "alert" in r for key in ("runbook_url", "dashboard_url")
            if key in r["annotations"]]
    assert urls and all("{{" not in live_actions(u) for u in urls)
    assert any(url.replace("{{", ESCAPED) in u for u in urls)
    proc = subprocess.run([require_tool("promtool"), "check", "rules", str(out / "prometheus" / "svc.rules.yml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="".join(
    chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\t\n")), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(TEXT, TEXT)
def test_any_text_round_trips_through_every_yaml_file(tmp_path_factory, severity: str, note: str):
    tmp_path = tmp_path_factory.mktemp("h")
    out = build(tmp_path, spec(severity, note, "https://r.example/a"))
    check_outputs(out / "prometheus", severity, note)
