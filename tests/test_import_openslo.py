"""OpenSLO read as relc: objects by reference or inline, windows, budgeting methods, queries and burn-rate alerts."""
from __future__ import annotations

import pytest

from relc.compiler import diagnostics as dg
from relc.compiler.model import ir as ir
from relc.compiler.resolve.importers import load_yaml_modules
from relc.compiler.commands.convert import convert_files
from relc.compiler.resolve.importers.openslo_sli import has_range
from relc.compiler.resolve.sources import SourceSet
from relc.compiler.pipeline import compile_sources

SERVICE = """\
apiVersion: openslo/v1
kind: Service
metadata:
  name: web
  labels: {team: [team-a], "not.a.label": x}
spec:
  description: The web shop
---
apiVersion: openslo/v1
kind: DataSource
metadata: {name: prometheus}
spec:
  type: Prometheus
  connectionDetails: {url: "http://prometheus:9090"}
"""
SLI = """\
apiVersion: openslo/v1
kind: SLI
metadata: {name: web-errors}
spec:
  ratioMetric:
    counter: true
    bad:
      metricSource:
        metricSourceRef: prometheus
        spec:
          query: http_requests_total{job="web",code=~"5.."}
    total:
      metricSource:
        metricSourceRef: prometheus
        spec:
          query: sum(http_requests_total{job="web"})
"""
SLO = """\
apiVersion: openslo/v1
kind: SLO
metadata: {name: availability}
spec:
  description: Requests succeed
  service: web
  indicatorRef: web-errors
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Good
      target: 0.999
  alertPolicies:
    - fast-burn
    - alertPolicyRef: slow-burn
"""
ALERTS = """\
apiVersion: openslo/v1
kind: AlertPolicy
metadata: {name: fast-burn}
spec:
  alertWhenBreaching: true
  conditions:
    - conditionRef: fast
  notificationTargets:
    - targetRef: pager
---
apiVersion: openslo/v1
kind: AlertCondition
metadata: {name: fast}
spec:
  severity: page
  condition: {kind: burnrate, op: gt, threshold: 14.4, lookbackWindow: 1h, alertAfter: 5m}
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata: {name: slow-burn}
spec:
  description: Budget spent at the sustainable rate for 3 days
  conditions:
    - kind: AlertCondition
      metadata: {name: slow}
      spec:
        severity: ticket
        condition: {kind: burnrate, op: gt, threshold: 1, lookbackWindow: 3d, alertAfter: 6h}
  notificationTargets:
    - targetRef: pager
---
apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata: {name: pager}
spec: {target: pagerduty}
"""
LATENCY = """\
apiVersion: openslo/v1
kind: SLO
metadata: {name: latency}
spec:
  service: web
  indicator:
    metadata: {name: fast-enough}
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_request_duration_seconds_bucket{le="0.3"}[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_request_duration_seconds_count[{{.window}}]))
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
    - target: 0.995
"""
ALL = "---\n".join([SERVICE, SLI, SLO, ALERTS, LATENCY])


def compile_files(files: list[tuple[str, str]]) -> tuple[ir.Project | None, list[dg.Diagnostic]]:
    modules, diags = load_yaml_modules(files)
    if dg.has_errors(diags):
        return None, diags
    project, more = compile_sources(SourceSet(list(modules.values()), dict(files)))
    return project, diags + more


def compile_one(text: str, path: str = "openslo.yaml"):
    return compile_files([(path, text)])


def codes(diags, errors_only: bool = True) -> list[tuple[str, int]]:
    return sorted((d.code, d.span.line) for d in diags if (d.is_error or not errors_only) and d.span)


def test_a_full_v1_project():
    project, diags = compile_one(ALL)
    assert project is not None, diags
    (service,) = project.services
    assert (service.name, service.description, service.labels) == ("web", "The web shop", {"team": "team-a"})
    availability, latency0, latency1 = service.slos
    assert (availability.name, availability.objective, availability.window_s) == ("availability", 0.999, 28 * 86400)
    assert availability.description == "Requests succeed"
    sli = availability.sli
    assert sli.bad == ir.Selector(metric="http_requests_total", matchers=(
        ir.LabelMatcher(name="job", op="=", value="web"), ir.LabelMatcher(name="code", op="=~", value="5..")))
    assert sli.total.promql == 'sum(rate(http_requests_total{job="web"}[$window]))'
    policy = availability.alert_policy
    assert policy.name == "availability-alerts"
    assert [(t.name, t.severity, t.burn_rate, t.long_window_s, t.short_window_s) for t in policy.tiers] == [
        ("fast", "page", 14.4, 3600, 300), ("slow", "ticket", 1.0, 3 * 86400, 6 * 3600)]
    assert [(s.name, s.objective, s.window_s, s.alert_policy) for s in (latency0, latency1)] == [
        ("latency-0", 0.99, 30 * 86400, None), ("latency-1", 0.995, 30 * 86400, None)]
    assert latency0.sli.good.promql == 'sum(rate(http_request_duration_seconds_bucket{le="0.3"}[$window]))'
    (dropped,) = [d for d in diags if d.code == "RELC610"]
    assert "not.a.label" in dropped.message and dropped.span.line == 5


def test_one_policy_keeps_its_name_and_is_shared():
    slo = SLO.replace("    - fast-burn\n    - alertPolicyRef: slow-burn\n", "    - fast-burn\n")
    second = slo.replace("name: availability", "name: second")
    project, diags = compile_one("---\n".join([SERVICE, SLI, slo, second, ALERTS]))
    assert project is not None, diags
    assert [s.alert_policy.name for s in project.slos()] == ["fast-burn", "fast-burn"]


def test_references_resolve_across_files():
    project, diags = compile_files([("a/service.yaml", SERVICE), ("a/sli.yaml", SLI), ("a/slo.yaml", SLO),
                                    ("a/alerts.yaml", ALERTS)])
    assert project is not None, diags
    assert project.slos()[0].origin.path == "a/slo.yaml"
    _, diags = compile_files([("a/slo.yaml", SLO)])
    assert codes(diags) == [("RELC607", 7), ("RELC607", 16), ("RELC607", 17)]
    unknown = min((d for d in diags if d.code == "RELC607"), key=dg.sort_key)
    assert unknown.message == "unknown SLI `web-errors`" and unknown.span.path == "a/slo.yaml"


def test_a_list_of_objects_in_one_document():
    docs = "---\n".join([SERVICE, SLI, SLO, ALERTS]).split("---\n")
    listed = "".join("- " + doc.rstrip("\n").replace("\n", "\n  ") + "\n" for doc in docs)
    project, diags = compile_one(listed)
    assert project is not None, diags
    assert [t.name for t in project.slos()[0].alert_policy.tiers] == ["fast", "slow"]


@pytest.mark.parametrize("old,new,code,line", [
    ("budgetingMethod: Occurrences", "budgetingMethod: RatioTimeslices", "RELC608", 11),
    ("      isRolling: true", "      isRolling: false\n      calendar: {startTime: 2022-01-01 12:00:00, timeZone: UTC}",
     "RELC608", 9),
    ("    - duration: 28d\n      isRolling: true", "    - duration: 28x\n      isRolling: true", "RELC609", 9),
    ("      target: 0.999", "      target: 1.5", "RELC301", 14),
    ("      target: 0.999", "      target: high", "RELC605", 14),
    ("  service: web\n", "", "RELC606", 5),
    ("  indicatorRef: web-errors\n", "", "RELC606", 3),
])
def test_slo_problems_point_at_their_line(old, new, code, line):
    assert old in SLO
    _, diags = compile_one("---\n".join([SLO.replace(old, new), SERVICE, SLI, ALERTS]))
    assert (code, line) in codes(diags), diags


def test_non_prometheus_sources_are_reported_and_datadog_gets_a_hint():
    sli = SLI.replace("metricSourceRef: prometheus", "type: Datadog")
    _, diags = compile_one(SLO.replace("  alertPolicies:\n    - fast-burn\n    - alertPolicyRef: slow-burn\n", "")
                           + "---\n" + sli)
    reported = [d for d in diags if d.code == "RELC608"]
    assert [d.span.line for d in reported] == [24, 29]
    assert "`datadog { }` block" in reported[0].hint


def test_unused_objects_are_checked_for_their_shape_only():
    condition = ALERTS.split("---\n")[1].replace("  severity: page\n", "")
    _, diags = compile_one(condition)
    assert codes(diags) == [("RELC606", 5)]
    redshift = SLI.replace("metricSourceRef: prometheus", "type: Redshift")
    project, diags = compile_one(redshift)
    assert project is not None and not dg.has_errors(diags)


def test_duplicates_and_long_descriptions():
    _, diags = compile_one(SERVICE + "---\n" + SERVICE)
    assert ("RELC305", 19) in codes(diags)
    _, diags = compile_one(SERVICE.replace("The web shop", "x" * 1051))
    assert codes(diags) == [("RELC609", 7)]


@pytest.mark.parametrize("query,counter,expected", [
    ('http_requests_total{job="web"}', True, ("selector", "http_requests_total")),
    ('http_requests_total{job="web"}', False, ("raw", 'sum_over_time(http_requests_total{job="web"}[$window])')),
    ('sum(http_requests_total{job="web"})', True, ("raw", 'sum(rate(http_requests_total{job="web"}[$window]))')),
    ('sum by (code) (http_requests_total)', True, ("raw", "sum(rate(http_requests_total[$window]))")),
    ("sum(rate(x_total[{{.window}}]))", True, ("raw", "sum(rate(x_total[$window]))")),
    ("sum(rate(x_total[{{ .window }}]))", False, ("raw", "sum(rate(x_total[$window]))")),
    ("max(x_total) * 2", True, ("raw", "rate((max(x_total) * 2)[$window:])")),
    ("sum(rate(x_total[5m]))", True, ("RELC608", None)),
    ('x_total{job="["}', True, ("selector", "x_total")),
    ("sum(", True, ("RELC308", None)),
])
def test_how_queries_without_a_window_get_one(query, counter, expected):
    sli = SLI.replace("counter: true", f"counter: {str(counter).lower()}").replace(
        'query: http_requests_total{job="web",code=~"5.."}', f"query: '{query}'")
    slo = SLO.replace("  alertPolicies:\n    - fast-burn\n    - alertPolicyRef: slow-burn\n", "")
    modules, diags = load_yaml_modules([("q.yaml", "---\n".join([SERVICE, sli, slo]))])
    if expected[0].startswith("RELC"):
        assert expected[0] in {d.code for d in diags if d.is_error}
        return
    service = next(b for b in modules["q.yaml"].items if b.kind == "service")
    slo_block = next(i for i in service.items if getattr(i, "kind", "") == "slo")
    sli_block = next(i for i in slo_block.items if getattr(i, "kind", "") == "sli")
    bad = next(i for i in sli_block.items if i.key == "bad").value
    assert (bad.kind, bad.text if bad.kind == "selector" else bad.data) == expected
    assert (bad.span.line, bad.span.path) == (26, "q.yaml")


def test_subquery_windowing_is_a_warning():
    sli = SLI.replace('query: http_requests_total{job="web",code=~"5.."}', "query: max(x_total) * 2")
    _, diags = compile_one("---\n".join([SERVICE, sli, SLO, ALERTS]))
    assert [(d.code, d.severity) for d in diags if "subquery" in d.message] == [("RELC610", dg.Severity.WARNING)]


def test_has_range_ignores_brackets_in_strings():
    assert has_range("rate(x[5m])") and has_range("x[5m:1m]")
    assert not has_range('x{a="[5m]"}') and not has_range("x{a='['}")


def test_threshold_metrics_count_samples_on_the_wrong_side():
    slo = """\
apiVersion: openslo/v1
kind: SLO
metadata: {name: lag}
spec:
  service: pipeline
  indicator:
    metadata: {name: lag}
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec: {query: 'sum(kafka_consumergroup_lag{topic="in"})'}
  timeWindow: [{duration: 1w, isRolling: true}]
  budgetingMethod: Occurrences
  objectives:
    - {op: lt, value: 500, target: 0.99}
"""
    project, diags = compile_one(slo)
    assert project is not None, diags
    (lag,) = project.slos()
    assert lag.window_s == 7 * 86400
    assert lag.sli.error_ratio == 'avg_over_time(((sum(kafka_consumergroup_lag{topic="in"})) >= bool 500)[$window:])'
    _, diags = compile_one(slo.replace("{op: lt, value: 500, target: 0.99}", "{target: 0.99}"))
    assert ("RELC606", 16) in codes(diags)


@pytest.mark.parametrize("raw_type,expected", [("failure", "x_ratio[$window]"),
                                               ("success", "1 - (\nx_ratio[$window]\n)")])
def test_raw_ratio_metrics(raw_type, expected):
    sli = f"""\
apiVersion: openslo/v1
kind: SLI
metadata: {{name: web-errors}}
spec:
  ratioMetric:
    rawType: {raw_type}
    raw:
      metricSource:
        type: Prometheus
        spec: {{query: "x_ratio[{{{{.window}}}}]"}}
"""
    slo = SLO.replace("  alertPolicies:\n    - fast-burn\n    - alertPolicyRef: slow-burn\n", "")
    modules, diags = load_yaml_modules([("r.yaml", sli + "---\n" + slo)])
    assert not dg.has_errors(diags), diags
    service = next(b for b in modules["r.yaml"].items if b.kind == "service")
    sli_block = [i for i in service.items[0].items if getattr(i, "kind", "") == "sli"][0]
    assert (sli_block.label, sli_block.items[0].value.data) == ("raw", expected)


def test_conditions_relc_cannot_express():
    alerts = ALERTS.replace("op: gt, threshold: 14.4", "op: lte, threshold: 14.4")
    _, diags = compile_one("---\n".join([SERVICE, SLI, SLO, alerts]))
    assert [(d.code, d.span.line) for d in diags if d.is_error] == [("RELC608", 66)]
    alerts = ALERTS.replace("lookbackWindow: 1h, alertAfter: 5m", "lookbackWindow: 1h, alertAfter: 1h")
    project, diags = compile_one("---\n".join([SERVICE, SLI, SLO, alerts]))
    assert project.slos()[0].alert_policy.tiers[0].short_window_s == 300
    assert [d.code for d in diags if "alertAfter" in d.message] == ["RELC610"]


def test_month_windows_are_approximated_with_a_warning():
    project, diags = compile_one("---\n".join([SERVICE, SLI, SLO.replace("28d", "1M"), ALERTS]))
    assert project.slos()[0].window_s == 30 * 86400
    assert [(d.code, d.severity) for d in diags if "1M" in d.message] == [("RELC610", dg.Severity.WARNING)]


V1ALPHA = """\
apiVersion: openslo/v1alpha
kind: SLO
metadata:
  name: requests
spec:
  service: api
  budgetingMethod: Occurrences
  objectives:
    - ratioMetrics:
        good: {source: prometheus, queryType: promql, query: 'sum(rate(req_total{code!~"5.."}[{{.window}}]))'}
        total: {source: prometheus, queryType: promql, query: 'sum(rate(req_total[{{.window}}]))'}
      target: 0.995
  timeWindows:
    - count: 28
      unit: Day
"""


def test_v1alpha_as_sloth_reads_it():
    project, diags = compile_one(V1ALPHA)
    assert project is not None, diags
    (slo,) = project.slos()
    assert (slo.service, slo.name, slo.objective, slo.window_s, slo.alert_policy) == \
        ("api", "requests", 0.995, 28 * 86400, None)
    assert slo.sli.good.promql == 'sum(rate(req_total{code!~"5.."}[$window]))'
    _, diags = compile_one(V1ALPHA.replace("unit: Day", "unit: Month"))
    assert codes(diags) == [("RELC609", 15)]
    _, diags = compile_one(V1ALPHA.replace("source: prometheus, queryType: promql, query: 'sum(rate(req_total[",
                                           "source: datadog, queryType: promql, query: 'sum(rate(req_total["))
    assert codes(diags) == [("RELC608", 11)]


def test_unknown_kinds_and_versions():
    _, diags = compile_one(SERVICE.replace("kind: Service", "kind: Servce", 1))
    assert codes(diags) == [("RELC603", 2)] and diags[0].hint == "did you mean `Service`?"
    _, diags = compile_one(SERVICE.replace("openslo/v1", "openslo.com/v2alpha", 1))
    assert ("RELC603", 1) in codes(diags)


def test_convert_files_prints_one_relc_source():
    source, diags = convert_files([("a.yaml", SERVICE + "---\n" + SLI), ("b.yaml", SLO + "---\n" + ALERTS)])
    assert source is not None, diags
    assert "service web {" in source and "alert_policy availability-alerts {" in source
    assert "tier fast {" in source and "burn_rate = 14.4" in source and "window = 28d" in source


SDK_SHAPES = """\
apiVersion: openslo/v1
kind: Service
metadata:
  name: web
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: web-availability
spec:
  service: web
  indicator:
    metadata: {name: web-errors}
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: Thanos, spec: {promql: 'sum(rate(http_requests_total{code="500"}[{{.window}}]))'}}}
        total: {metricSource: {type: AmazonPrometheus, spec: {query: 'sum(rate(http_requests_total[{{.window}}]))'}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
  alertPolicies:
    - kind: AlertPolicy
      metadata: {name: fast}
      spec:
        notificationTargets: [{targetRef: pager}]
        conditions:
          - kind: AlertCondition
            metadata: {name: fast-burn}
            spec:
              severity: page
              condition: {kind: burnrate, op: gt, threshold: 14.4, lookbackWindow: 1h}
"""


def test_what_the_spec_and_its_sdk_accept_is_read():
    """A Service without spec, PromQL-compatible source types, Nobl9's `promql`, and no `alertAfter` (0m: the
    short window is a twelfth of the lookback, the Workbook's ratio)."""
    project, diags = compile_one(SDK_SHAPES)
    assert project is not None, diags
    (slo,) = project.slos()
    assert slo.sli.bad.promql == 'sum(rate(http_requests_total{code="500"}[$window]))'
    (tier,) = slo.alert_policy.tiers
    assert (tier.long_window_s, tier.short_window_s) == (3600, 300)
    zero, _ = compile_one(SDK_SHAPES.replace("lookbackWindow: 1h}", "lookbackWindow: 1h, alertAfter: 0m}"))
    assert zero.slos()[0].alert_policy.tiers[0].short_window_s == 300


def test_a_composite_slo_is_refused_at_its_weight():
    text = SDK_SHAPES.replace("objectives: [{target: 0.999}]",
                              "objectives: [{target: 0.999, compositeWeight: 1}]")
    project, diags = compile_one(text)
    assert project is None
    (diag,) = [d for d in diags if d.is_error]
    assert diag.code == "RELC608" and "composite SLO" in diag.message and diag.span.line == 21
