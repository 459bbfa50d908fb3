"""The OpenSLO target writes schema-valid OpenSLO v1, and OpenSLO -> relc -> OpenSLO keeps what the SLOs mean."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from relc.compiler import diagnostics as dg
from relc.compiler.model import ir as ir
from relc.compiler.resolve.importers import load_yaml_modules
from relc.compiler.pipeline import compile_paths
from relc.compiler.resolve.sources import SourceSet
from relc.compiler.pipeline import compile_sources
from relc.targets import Options
from relc.targets.openslo import TARGET, openslo_name, shorthand
from relc.targets.shared.promql_sli import bad_and_total

from conftest import ROOT

SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "peers" / "openslo" / "_history" / \
    "a2df6a5-parent-2024-03-22" / "schemas" / "v1"
PROJECTS = ["examples/shop", "tests/good"] + sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "sloth_compat").glob("*.relc"))

OPENSLO = """\
apiVersion: openslo/v1
kind: Service
metadata: {name: web}
spec: {description: The web shop}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: availability}
spec:
  service: web
  indicator:
    metadata: {name: errors}
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec: {query: 'http_requests_total{job="web",code=~"5.."}'}
        total:
          metricSource:
            type: Prometheus
            spec: {query: 'sum(rate(http_requests_total{job="web"}[{{.window}}]))'}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.9995}]
  alertPolicies: [fast, slow]
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata: {name: fast}
spec:
  alertWhenBreaching: true
  conditions:
    - kind: AlertCondition
      metadata: {name: fast-burn}
      spec:
        severity: critical
        condition: {kind: burnrate, op: gt, threshold: 13.44, lookbackWindow: 1h, alertAfter: 5m}
  notificationTargets: [{targetRef: oncall}]
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata: {name: slow}
spec:
  alertWhenBreaching: true
  conditions:
    - kind: AlertCondition
      metadata: {name: slow-burn}
      spec:
        severity: warning
        condition: {kind: burnrate, op: gt, threshold: 2.8, lookbackWindow: 1d, alertAfter: 2h}
  notificationTargets: [{targetRef: oncall}]
---
apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata: {name: oncall}
spec: {target: pagerduty}
"""


@pytest.fixture(scope="module")
def validator():
    """The OpenSLO v1 JSON Schema (draft-07), read in place from the peer corpus."""
    if not SCHEMAS.is_dir():
        pytest.skip(f"OpenSLO schemas not found at {SCHEMAS} (see ../shared/peers/README.md)")
    import jsonschema
    import referencing
    from referencing.jsonschema import DRAFT7

    parts = [json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS.rglob("*.json")]
    registry = referencing.Registry().with_resources((s["$id"], DRAFT7.create_resource(s)) for s in parts)
    root = json.loads((SCHEMAS / "openslo.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(root, registry=registry)


def documents(artifacts) -> list[dict]:
    return [doc for a in artifacts for doc in yaml.safe_load_all(a.content) if doc is not None]


def from_yaml(files: list[tuple[str, str]]) -> ir.Project:
    modules, diags = load_yaml_modules(files)
    assert not dg.has_errors(diags), diags
    project, more = compile_sources(SourceSet(list(modules.values()), dict(files)))
    assert project is not None, more
    return project


def generate(project: ir.Project, **settings) -> tuple[list, list]:
    return TARGET.generate(project, Options(settings=settings))


@pytest.mark.parametrize("path", PROJECTS)
def test_output_validates_against_the_openslo_v1_schema(path: str, validator):
    result = compile_paths([str(ROOT / path)])
    assert result.ok, result.diagnostics
    artifacts, diags = generate(result.project)
    assert artifacts
    for doc in documents(artifacts):
        problems = [e.message for e in validator.iter_errors(doc)]
        assert not problems, f"{doc['kind']} {doc['metadata']['name']}: {problems}"
    assert all(d.code == "RELC401" for d in diags)


RAW_SOURCE = ROOT / "tests" / "good" / "sli_kinds.relc"  # raw SLIs among the others


def test_raw_slis_are_left_out_with_a_diagnostic():
    result = compile_paths([str(RAW_SOURCE)])
    artifacts, diags = generate(result.project)
    raw = [s for s in result.project.slos() if isinstance(s.sli, ir.RawSLI)]
    assert raw and sorted(d.message.split("`")[1] for d in diags) == sorted(f"{s.service}/{s.name}" for s in raw)
    names = {d["metadata"]["name"] for d in documents(artifacts) if d["kind"] == "SLO"}
    assert not any(s.name in names for s in raw)


def test_openslo_relc_openslo_keeps_objectives_windows_queries_and_thresholds(validator):
    first = yaml.safe_load_all(OPENSLO)
    project = from_yaml([("in.yaml", OPENSLO)])
    artifacts, diags = generate(project)
    assert not diags
    out = documents(artifacts)
    assert all(not list(validator.iter_errors(d)) for d in out)
    slo_in = next(d for d in first if d["kind"] == "SLO")
    (slo_out,) = [d for d in out if d["kind"] == "SLO"]
    assert slo_out["metadata"]["name"] == "availability" and slo_out["spec"]["service"] == "web"
    assert slo_out["spec"]["objectives"][0]["target"] == slo_in["spec"]["objectives"][0]["target"]
    assert slo_out["spec"]["timeWindow"] == slo_in["spec"]["timeWindow"]
    assert slo_out["spec"]["indicator"]["spec"] == slo_in["spec"]["indicator"]["spec"]
    conditions = [d["spec"]["conditions"][0] for d in out if d["kind"] == "AlertPolicy"]
    written = [(c["spec"]["severity"], c["spec"]["condition"]) for c in conditions]
    assert written == [
        ("critical", {"kind": "burnrate", "op": "gt", "threshold": 13.44, "lookbackWindow": "1h", "alertAfter": "5m"}),
        ("warning", {"kind": "burnrate", "op": "gt", "threshold": 2.8, "lookbackWindow": "1d", "alertAfter": "2h"})]
    assert slo_out["spec"]["alertPolicies"] == [d["metadata"]["name"] for d in out if d["kind"] == "AlertPolicy"]


def _meaning(project: ir.Project) -> list[tuple]:
    """What an SLO promises and measures: objective, window, error ratio PromQL, and alert tiers."""
    rows = []
    for slo in project.slos():
        if isinstance(slo.sli, ir.RawSLI) or (isinstance(slo.sli, ir.LatencySLI) and slo.sli.native):
            continue  # OpenSLO has no form for these: the target leaves them out, saying so
        tiers = [(t.severity, round(t.burn_rate, 9), t.long_window_s, t.short_window_s)
                 for t in (slo.alert_policy.tiers if slo.alert_policy else ())]
        rows.append((slo.service, slo.objective, slo.window_s, bad_and_total(slo.sli, 3600), tiers, slo.labels))
    # group_by has no OpenSLO form either: the document covers all groups together (a RELC401 warning)
    return rows


@pytest.mark.parametrize("path", PROJECTS)
def test_relc_openslo_relc_keeps_the_meaning(path: str):
    result = compile_paths([str(ROOT / path)])
    artifacts, _ = generate(result.project)
    again = from_yaml([(a.path, a.content) for a in artifacts])
    assert _meaning(again) == _meaning(result.project)


def test_raw_slis_can_be_written_as_raw_ratio_metrics():
    result = compile_paths([str(RAW_SOURCE)])
    artifacts, diags = generate(result.project, **{"openslo.raw_slis": "raw"})
    assert not diags
    again = from_yaml([(a.path, a.content) for a in artifacts])
    raw = {(s.service, s.name): s.sli for s in result.project.slos() if isinstance(s.sli, ir.RawSLI)}
    assert raw and {k: s.sli for s in again.slos() if (k := (s.service, s.name)) in raw} == raw


def test_datasource_option_names_the_metric_source():
    project = from_yaml([("in.yaml", OPENSLO)])
    artifacts, _ = generate(project, **{"openslo.datasource": "Thanos"})
    slo = next(d for d in documents(artifacts) if d["kind"] == "SLO")
    assert slo["spec"]["indicator"]["spec"]["ratioMetric"]["bad"]["metricSource"]["metricSourceRef"] == "thanos"


def test_names_labels_and_durations():
    assert openslo_name("Orders_Worker") == "orders-worker" and openslo_name("!!") == "default"
    assert [shorthand(s) for s in (86400 * 28, 5400, 300, 90, 0)] == ["28d", "90m", "5m", None, None]
    relc = """\
service a { labels = { repo = "org/a", team = "x" }
  slo availability { objective = 99% window = 7d alert_policy = none
    sli events { bad = e_total total = r_total } } }
service b { slo availability { objective = 99% window = 7d alert_policy = none
    sli events { bad = e_total total = r_total } } }
"""
    from relc.compiler.syntax.parser import parse

    module, _ = parse("n.relc", relc)
    project, _ = compile_sources(SourceSet([module], {"n.relc": relc}))
    out = documents(generate(project)[0])
    assert sorted(d["metadata"]["name"] for d in out if d["kind"] == "SLO") == ["a-availability", "b-availability"]
    service = next(d for d in out if d["kind"] == "Service" and d["metadata"]["name"] == "a")
    assert service["metadata"]["labels"] == {"team": "x"}
    assert service["metadata"]["annotations"] == {"relc.dev/label.repo": "org/a"}
    again = from_yaml([(f"{i}.yaml", a.content) for i, a in enumerate(generate(project)[0])])
    assert again.services[0].labels == {"repo": "org/a", "team": "x"}
