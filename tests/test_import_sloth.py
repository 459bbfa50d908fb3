"""Sloth specs read as relc: the meaning is kept, and every problem points at the YAML line that caused it."""
from __future__ import annotations

from pathlib import Path

import promql_parser
import pytest
from click.testing import CliRunner

from relc.compiler import diagnostics as dg
from relc.compiler.model import ir as ir
from relc.compiler.resolve.importers import load_yaml_module, load_yaml_modules, sniff
from relc.compiler.commands.convert import convert, import_command
from relc.compiler.syntax.parser import parse
from relc.compiler.check.promql import render_selector
from relc.compiler.resolve.sources import SourceSet
from relc.compiler.pipeline import compile_sources

from conftest import ROOT

SLOTH = Path(__file__).resolve().parents[2] / "shared" / "peers" / "sloth"
COMPAT = ROOT / "tests" / "sloth_compat"
needs_corpus = pytest.mark.skipif(not SLOTH.is_dir(), reason=f"Sloth peer corpus not found at {SLOTH}")


def compile_yaml(path: str, text: str) -> tuple[ir.Project | None, list[dg.Diagnostic]]:
    """What `relc check` does with a YAML input: import, then the one validator."""
    module, diags = load_yaml_module(path, text)
    if module is None or dg.has_errors(diags):
        return None, diags
    project, more = compile_sources(SourceSet([module], {path: text}))
    return project, diags + more


def errors(diags: list[dg.Diagnostic]) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.col) for d in diags if d.is_error and d.span]


GETTING_STARTED = """\
version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
  tier: "2"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO"
    labels:
      category: availability
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="myservice"}[{{ .window }}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: "availability"
      annotations:
        summary: "High error rate on 'myservice' requests responses"
      page_alert:
        labels:
          severity: pageteam
      ticket_alert:
        labels:
          severity: "slack"
"""


def test_getting_started_keeps_names_labels_objective_alert_name_and_severities():
    project, diags = compile_yaml("slos.yml", GETTING_STARTED)
    assert project is not None, diags
    (service,) = project.services
    (slo,) = service.slos
    assert (service.name, service.labels) == ("myservice", {"owner": "myteam", "tier": "2"})
    assert (slo.name, slo.objective, slo.window_s) == ("requests-availability", 0.999, 30 * 86400)
    assert slo.labels == {"owner": "myteam", "tier": "2", "category": "availability"}
    assert slo.alert_name == "MyServiceHighErrorRate"
    assert slo.sli.bad.promql == 'sum(rate(http_requests_total{job="myservice",code=~"(5..|429)"}[$window]))'
    assert slo.sli.total.promql.endswith("[$window]))")
    policy = slo.alert_policy
    assert [(t.name, t.severity, t.burn_rate) for t in policy.tiers] == [
        ("page-fast", "pageteam", 14.4), ("page-slow", "pageteam", 6.0),
        ("ticket-fast", "slack", 3.0), ("ticket-slow", "slack", 1.0)]
    assert policy.labels == {"category": "availability"}
    assert policy.annotations == {"summary": "High error rate on 'myservice' requests responses"}


def test_spans_point_into_the_yaml():
    module, _ = load_yaml_module("slos.yml", GETTING_STARTED)
    service = next(b for b in module.items if b.kind == "service")
    slo = next(i for i in service.items if getattr(i, "kind", "") == "slo")
    objective = next(i for i in slo.items if getattr(i, "key", "") == "objective")
    assert (service.label_span.line, service.label_span.col) == (2, 10)
    assert (slo.label_span.path, slo.label_span.line) == ("slos.yml", 7)
    assert (objective.value.span.line, objective.value.span.col, objective.value.text) == (8, 16, "99.9%")


def test_validator_diagnostics_land_on_the_yaml_line():
    text = GETTING_STARTED.replace("objective: 99.9", "objective: 101")
    project, diags = compile_yaml("slos.yml", text)
    assert project is None
    assert errors(diags) == [("RELC301", 8, 16)]


def test_sloth_default_annotations_are_reproduced_and_both_disabled_means_none():
    """A spec that leaves title and summary to Sloth gets Sloth's texts, with the names its templates fill in."""
    text = GETTING_STARTED.split("    alerting:")[0] + "    alerting:\n      name: Plain\n"
    project, _ = compile_yaml("a.yml", text)
    policy = project.slos()[0].alert_policy
    assert [t.budget_consumed for t in policy.tiers] == [0.02, 0.05, 0.1, 0.1]   # the Workbook's tiers
    assert policy.tiers[0].annotations == {
        "title": "(page) myservice requests-availability SLO error budget burn rate is too fast.",
        "summary": "myservice requests-availability SLO error budget burn rate is over expected."}
    assert policy.tiers[-1].annotations["title"].startswith("(ticket) ")
    text = GETTING_STARTED.split("    alerting:")[0] + (
        "    alerting:\n      page_alert:\n        disable: true\n      ticket_alert:\n        disable: true\n")
    project, _ = compile_yaml("a.yml", text)
    assert project.slos()[0].alert_policy is None
    project, _ = compile_yaml("a.yml", GETTING_STARTED.split("    alerting:")[0])
    assert project.slos()[0].alert_policy is None


def test_one_disabled_alert_keeps_the_other_tiers():
    text = GETTING_STARTED.replace("      ticket_alert:\n        labels:\n          severity: \"slack\"\n",
                                   "      ticket_alert:\n        disable: true\n")
    project, diags = compile_yaml("a.yml", text)
    assert [t.name for t in project.slos()[0].alert_policy.tiers] == ["page-fast", "page-slow"], diags


def test_per_alert_labels_land_on_that_alerts_tiers_only():
    text = GETTING_STARTED.replace("          severity: pageteam\n",
                                   "          severity: pageteam\n          routing_key: team\n")
    project, diags = compile_yaml("a.yml", text)
    tiers = {t.name: t for t in project.slos()[0].alert_policy.tiers}
    assert tiers["page-fast"].labels["routing_key"] == tiers["page-slow"].labels["routing_key"] == "team"
    assert "routing_key" not in tiers["ticket-fast"].labels and "routing_key" not in tiers["ticket-slow"].labels
    assert not [d for d in diags if d.code == "RELC610"]


def test_labels_both_alerts_share_move_to_the_policy():
    text = GETTING_STARTED.replace("          severity: pageteam\n",
                                   "          severity: pageteam\n          team: a\n")
    text = text.replace('          severity: "slack"\n', '          severity: "slack"\n          team: a\n')
    project, diags = compile_yaml("a.yml", text)
    assert project.slos()[0].alert_policy.labels == {"category": "availability", "team": "a"}
    assert not [d for d in diags if d.code == "RELC610"]


def test_plugin_sli_names_the_plugin_at_its_line():
    events = GETTING_STARTED[GETTING_STARTED.index("      events:"):GETTING_STARTED.index("    alerting:")]
    text = GETTING_STARTED.replace(events, "      plugin:\n        id: \"sloth-common/availability\"\n"
                                           "        options: {job: x}\n")
    project, diags = compile_yaml("p.yml", text)
    assert project is None
    (diag,) = [d for d in diags if d.is_error]
    assert diag.code == "RELC608" and "Sloth plugin SLIs cannot be compiled" in diag.message
    assert "`sloth-common/availability`" in diag.message and (diag.span.line, diag.span.col) == (14, 13)


def test_unknown_fields_are_warnings_with_a_suggestion():
    text = GETTING_STARTED.replace("    description:", "    descripton:")
    project, diags = compile_yaml("u.yml", text)
    assert project is not None
    (warning,) = [d for d in diags if d.code == "RELC604"]
    assert warning.severity is dg.Severity.WARNING and warning.span.line == 9
    assert warning.hint == "did you mean `description`?"


@pytest.mark.parametrize("old,new,code,line", [
    ("objective: 99.9", "objective: high", "RELC605", 8),
    ("objective: 99.9", "objective: [99]", "RELC605", 8),
    ("    objective: 99.9\n", "", "RELC606", 7),
    ("labels:\n  owner", "labels: 3\nx_labels:\n  owner", "RELC605", 3),
    ("page_alert:\n        labels:", "page_alert:\n        disable: maybe\n        labels:", "RELC605", 23),
])
def test_wrong_types_and_missing_fields(old, new, code, line):
    assert old in GETTING_STARTED
    _, diags = compile_yaml("t.yml", GETTING_STARTED.replace(old, new, 1))
    assert (code, line) in [(c, ln) for c, ln, _ in errors(diags)], diags


def test_k8s_manifest_and_multi_document_files():
    k8s = """\
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata: {name: x, namespace: y}
spec:
  service: svc
  slos:
    - name: slo1
      objective: 99.5
      sli:
        raw:
          errorRatioQuery: sum(rate(errors[{{.window}}])) / sum(rate(total[{{.window}}]))
      alerting:
        pageAlert: {disable: true}
        ticketAlert: {disable: true}
"""
    second = GETTING_STARTED.replace('service: "myservice"', 'service: "other"')
    project, diags = compile_yaml("multi.yml", k8s + "---\n" + second)
    assert project is not None, diags
    assert [s.name for s in project.services] == ["svc", "other"]
    assert project.services[0].slos[0].sli.error_ratio.startswith("sum(rate(errors[$window]))")


def test_documents_of_one_service_merge_and_duplicate_slos_are_reported():
    first = GETTING_STARTED
    other_slo = GETTING_STARTED.replace("requests-availability", "latency").replace('owner: "myteam"', 'owner: "b"')
    project, diags = compile_yaml("m.yml", first + "---\n" + other_slo)
    assert project is not None, diags
    (service,) = project.services
    assert [(s.name, s.labels["owner"]) for s in service.slos] == [("requests-availability", "myteam"),
                                                                   ("latency", "b")]
    project, diags = compile_yaml("d.yml", first + "---\n" + first)
    assert project is None and "RELC305" in {d.code for d in diags}


def test_unsupported_version_and_unknown_documents():
    _, diags = compile_yaml("v.yml", GETTING_STARTED.replace("prometheus/v1", "prometheus/v999"))
    assert errors(diags) == [("RELC603", 1, 10)]
    _, diags = compile_yaml("x.yml", "groups: []\n")
    assert [d.code for d in diags] == ["RELC603"]
    assert sniff(GETTING_STARTED) and not sniff("groups: []\n")


def test_alert_windows_become_an_alert_policy_named_after_the_file():
    text = (SLOTH / "examples" / "windows" / "7d.yaml").read_text() if SLOTH.is_dir() else None
    if text is None:
        pytest.skip("Sloth peer corpus not found")
    module, diags = load_yaml_module("windows/7d.yaml", text)
    (policy,) = module.items
    assert (policy.kind, policy.label) == ("alert_policy", "sloth-windows-7d") and not diags
    spec = GETTING_STARTED.replace("    alerting:", "    alerting:\n      name: A\n    x_alerting:")
    modules, diags = load_yaml_modules([("windows/7d.yaml", text), ("s.yml", spec)])
    assert not dg.has_errors(diags)


@pytest.mark.parametrize("text,code", [
    ("a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(8)), "RELC602"),
    ("[" * 200 + "]" * 200, "RELC602"),
    ("version: prometheus/v1\nservice: !!python/object/apply:os.system [true]\n", "RELC602"),
    ("version: prometheus/v1\nservice: [\n", "RELC601"),
    ("version: prometheus/v1\nversion: prometheus/v1\n", "RELC601"),
    ("a: *nowhere\n", "RELC601"),
])
def test_hostile_yaml_is_refused_with_a_diagnostic(text, code):
    module, diags = load_yaml_module("evil.yml", text)
    assert module is None
    assert [d.code for d in diags] == [code]


@pytest.mark.parametrize("loader", ["CSafeLoader", "SafeLoader"])
@pytest.mark.parametrize("depth", [65, 999, 1001, 1_000_000])
def test_deep_input_gets_the_same_refusal_whatever_pyyaml_and_libyaml_do(monkeypatch, loader, depth):
    """libyaml in PyYAML >= 6.0.4 refuses nesting past 1000 itself; relc's own refusal must win everywhere."""
    import yaml

    from relc.compiler.resolve.importers import yamlpos

    if not hasattr(yaml, loader):
        pytest.skip(f"this PyYAML has no {loader}")
    monkeypatch.setattr(yamlpos, "_Loader", getattr(yaml, loader))
    for text in ("[" * depth + "]" * depth, "a:\n" + "".join("  " * i + "- \n" for i in range(1, min(depth, 2000)))):
        module, diags = load_yaml_module("deep.yml", text)
        assert module is None and [d.code for d in diags] == ["RELC602"], diags
        assert "nests more than 64 levels deep" in diags[0].message and diags[0].span.line >= 1


def test_very_deep_and_very_large_input_is_refused_quickly():
    module, diags = load_yaml_module("deep.yml", "[" * 1_000_000 + "]" * 1_000_000)
    assert module is None and diags[0].code == "RELC602"
    module, diags = load_yaml_module("big.yml", "# " + "x" * (5 * 1024 * 1024))
    assert module is None and diags[0].code == "RELC602" and "larger than" in diags[0].message


def test_anchors_aliases_and_merge_keys_are_read():
    text = """\
version: prometheus/v1
service: svc
x_shared: &alerting
  name: A
  page_alert: {disable: true}
slos:
  - name: a
    objective: 99
    sli: {raw: {error_ratio_query: "rate(errors_total[{{.window}}])"}}
    alerting:
      <<: *alerting
      name: B
"""
    project, diags = compile_yaml("m.yml", text)
    assert project is not None, diags
    (slo,) = project.slos()
    assert slo.alert_name == "B" and [t.name for t in slo.alert_policy.tiers] == ["ticket-fast", "ticket-slow"]
    assert [(d.code, d.span.line) for d in diags] == [("RELC604", 3)]


# The hand-written relc equivalents in tests/sloth_compat mean what the importer reads from Sloth's own files.
COMPAT_CASES = ["getting-started", "home-wifi", "k8s-getting-started", "k8s-home-wifi", "k8s-multifile",
                "multifile", "no-alerts", "raw-home-wifi"]


def _promql(query) -> str | None:
    """A query in one canonical spelling, so whitespace and line breaks do not count as differences."""
    if query is None:
        return None
    text = query if isinstance(query, str) else getattr(query, "promql", None) or render_selector(query)
    return str(promql_parser.parse(text.replace("$window", "5m")))


def _meaning(project: ir.Project) -> list[tuple]:
    """Per SLO: what it measures and promises, with its queries canonically spelled."""
    out = []
    for s in project.slos():
        sli = s.sli
        if isinstance(sli, ir.LatencySLI):
            queries: object = repr(sli)
        else:
            queries = tuple(map(_promql, (sli.error_ratio,) if isinstance(sli, ir.RawSLI) else
                                (sli.good, sli.bad, sli.total)))
        out.append((s.service, s.name, s.objective, s.window_s, s.labels, sli.kind, queries))
    return out


@needs_corpus
@pytest.mark.parametrize("example", COMPAT_CASES)
def test_imported_sloth_examples_mean_what_the_hand_written_relc_says(example: str):
    path = next(SLOTH.joinpath("examples").glob(f"{example}.y*ml"))
    imported, diags = compile_yaml(path.name, path.read_text(encoding="utf-8"))
    assert imported is not None, diags
    relc_text = (COMPAT / f"{example}.relc").read_text(encoding="utf-8")
    module, _ = parse("compat.relc", relc_text)
    written, _ = compile_sources(SourceSet([module], {"compat.relc": relc_text}))
    assert _meaning(imported) == _meaning(written)


def test_convert_prints_relc_that_compiles_to_the_same_project():
    source, diags = convert("slos.yml", GETTING_STARTED)
    assert source is not None, diags
    module, parse_diags = parse("out.relc", source)
    assert module is not None, parse_diags
    again, more = compile_sources(SourceSet([module], {"out.relc": source}))
    assert again is not None and not dg.has_errors(more)
    direct, _ = compile_yaml("slos.yml", GETTING_STARTED)
    assert _meaning(again) == _meaning(direct)
    assert again.slos()[0].alert_policy.tiers == direct.slos()[0].alert_policy.tiers


def test_convert_refuses_input_with_errors():
    source, diags = convert("bad.yml", GETTING_STARTED.replace("99.9", "101"))
    assert source is None and [d.code for d in diags if d.is_error] == ["RELC301"]


def test_import_command_writes_a_file_and_checks_the_format(tmp_path: Path):
    spec = tmp_path / "slos.yml"
    spec.write_text(GETTING_STARTED, encoding="utf-8")
    out = tmp_path / "slos.relc"
    result = CliRunner().invoke(import_command, ["sloth", str(spec), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "service myservice {" in out.read_text(encoding="utf-8")
    result = CliRunner().invoke(import_command, ["openslo", str(spec)])
    assert result.exit_code == 1 and "RELC603" in result.output and "relc import sloth" in result.output
    result = CliRunner().invoke(import_command, ["sloth", str(tmp_path / "missing.yml")])
    assert result.exit_code == 1 and "RELC201" in result.output


def test_labels_owner_becomes_the_owner_and_stays_a_label():
    text = """\
version: prometheus/v1
service: svc
labels: {owner: team-a, tier: "1"}
slos:
  - name: a
    objective: 99
    sli: {events: {error_query: "sum(rate(e[{{.window}}]))", total_query: "sum(rate(t[{{.window}}]))"}}
    alerting: {name: A, page_alert: {disable: true}, ticket_alert: {disable: true}}
"""
    project, diags = compile_yaml("m.yml", text)
    assert project is not None, diags
    (service,) = project.services
    assert service.owner == "team-a" and service.slos[0].labels == {"owner": "team-a", "tier": "1"}


def test_default_period_and_sloth_labels_from_relc_yaml(tmp_path):
    """relc.yaml `sloth:` says what Sloth's --default-slo-period would, and keeps Sloth's labels on request."""
    import subprocess

    import yaml as pyyaml

    (tmp_path / "slo.yml").write_text(GETTING_STARTED.replace("          severity: pageteam\n",
                                                              "          severity: pageteam\n          routing_key: myteam\n"))
    (tmp_path / "relc.yaml").write_text("sources: [slo.yml]\nsloth:\n  default_slo_period: 28d\n  labels: true\n")
    proc = subprocess.run(["relc", "build", "-o", "out", "-t", "prometheus"], cwd=tmp_path, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert "at a 28d period Sloth's ticket tier fires above 0.93x" in proc.stderr
    rules = [r for g in pyyaml.safe_load((tmp_path / "out/prometheus/myservice.rules.yml").read_text())["groups"]
             for r in g["rules"]]
    info = next(r for r in rules if r.get("record") == "relc_slo_info")
    assert info["labels"]["window"] == "28d" and info["labels"]["sloth_id"] == "myservice-requests-availability"
    pages = [r for r in rules if r.get("alert") and r["labels"].get("alert_tier", "").startswith("page")]
    assert pages and all(r["labels"]["sloth_severity"] == "page" and r["labels"]["sloth_slo"] ==
                         "requests-availability" and r["labels"]["routing_key"] == "myteam" for r in pages)
    tickets = [r for r in rules if r.get("alert") and r["labels"].get("alert_tier", "").startswith("ticket")]
    assert tickets and all("routing_key" not in r["labels"] and r["labels"]["sloth_severity"] == "ticket"
                           for r in tickets)


def test_import_flags_match_the_config(tmp_path):
    from click.testing import CliRunner

    from relc.compiler.commands.cli import main

    (tmp_path / "slo.yml").write_text(GETTING_STARTED)
    result = CliRunner().invoke(main, ["import", "sloth", str(tmp_path / "slo.yml"), "--default-slo-period", "28d",
                                       "--sloth-labels"])
    assert result.exit_code == 0, result.output
    assert "window = 28d" in result.stdout and 'sloth_severity = "page"' in result.stdout
    bad = CliRunner().invoke(main, ["import", "sloth", str(tmp_path / "slo.yml"), "--default-slo-period", "soon"])
    assert bad.exit_code == 2 and "not a duration" in bad.output


def test_grouped_queries_make_a_grouped_slo_and_a_service_label_is_kept_as_exported_service():
    text = GETTING_STARTED.replace('[{{.window}}]))\n', '[{{.window}}])) by (host)\n')
    text = text.replace('[{{ .window }}]))\n', '[{{ .window }}])) by (host)\n')
    text = text.replace('        category: "availability"\n', '        category: "availability"\n'
                        '        service: "checkout"\n')
    text = text.replace("name: MyServiceHighErrorRate", "name: api-availability")
    project, diags = compile_yaml("g.yml", text)
    assert project is not None, diags
    slo = project.slos()[0]
    assert slo.group_by == ("host",) and slo.alert_name == "api-availability"
    assert slo.alert_policy.labels["exported_service"] == "checkout"
    assert [d.code for d in diags if d.code == "RELC610" and "exported_service" in d.message] == ["RELC610"]
