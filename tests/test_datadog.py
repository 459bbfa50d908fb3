"""Datadog target: query translation, SLO and monitor payloads checked against datadog-api-client, goldens."""
from __future__ import annotations

import json
import shutil
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote as quote_url

import pytest
from click.testing import CliRunner

import relc.targets
from relc.compiler.model import ir as ir
from relc.compiler.output.build import check_settings
from relc.compiler.commands.cli import main
from relc.compiler.diagnostics import sort_key
from relc.compiler.pipeline import compile_paths
from relc.compiler.check.promql import quote
from relc.compiler.render.text import render_text
from relc.targets import Options
from relc.targets import datadog as datadog_target
from relc.targets.datadog import TARGET, templated, tf_monitor
from relc.targets.datadog.check import BURN_RATE, monitor_problems, slo_problems
from relc.targets.datadog.objects import literal, safe_url
from relc.targets.datadog.query import Mapping, Untranslatable, selector_query, sli_queries, tag_text

from conftest import ROOT, compare_or_update, compare_tree

SHOP = {"datadog.namespace": "shop", "datadog.tag_map": "job=service", "datadog.timeframe": "nearest",
        "datadog.env": "prod", "datadog.handles": "page:@pagerduty-shop,ticket:@slack-shop-alerts"}
RUNBOOKS = "https://runbooks.shop.example/"
MONITORS = 13  # the shop's burn-rate monitors: one per tier Datadog takes (ticket-slow folds into ticket-fast)
GOLDEN = ROOT / "tests" / "golden" / "datadog"


# What Datadog cannot take, next to the shop (which builds clean for every target): a raw PromQL SLI
# (line 5) and a 28d window (line 10).
LIMITS = """service limits {
  slo freshness {
    objective = 95%
    window = 7d
    sli raw {
      error_ratio = r#"avg_over_time((max(queue_head_age_seconds) > bool 120)[$window:1m])"#
    }
  }
  slo monthly {
    window = 28d
    objective = 99%
    sli events { bad = x_total{code="500"} total = x_total }
  }
}
"""


@pytest.fixture
def shop_and_limits(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "examples" / "shop", tmp_path / "shop")
    (tmp_path / "shop" / "limits.relc").write_text(LIMITS, encoding="utf-8")
    return tmp_path / "shop"


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    monkeypatch.setitem(relc.targets.BUILTIN, "datadog", "relc.targets.datadog:TARGET")


def generate(path: str | Path, settings: dict | None = None):
    result = compile_paths([str(path)])
    assert result.ok, render_text(result.diagnostics, result.texts)
    artifacts, diags = TARGET.generate(result.project, Options(runbook_base_url=RUNBOOKS, settings=settings or {}))
    return {a.path: a.content for a in artifacts}, diags, result.texts


def snippet(tmp_path: Path, body: str, settings: dict | None = None):
    path = tmp_path / "snippet.relc"
    path.write_text(body, encoding="utf-8")
    return generate(path, {"datadog.namespace": "shop", **(settings or {})})


def service(sli: str, extra: str = "", window: str = "30d", objective: str = "99.9%") -> str:
    return (f"service web {{\n  slo availability {{\n    objective = {objective}\n    window = {window}\n{extra}"
            f"    sli {sli}\n  }}\n}}\n")


EVENTS = 'events {\n      bad = http_requests_total{code="500"}\n      total = http_requests_total\n    }\n'


def codes(diags, severity: str | None = None) -> list[tuple[str, int, str]]:
    return [(d.code, d.span.line, d.severity.value) for d in diags if severity in (None, d.severity.value)]


def api_files(files: dict[str, str]) -> dict[str, dict]:
    """Every SLO's entry in the per-service API files of a build, parsed, by key (`service.slo`)."""
    found = {}
    for path, content in files.items():
        if path.startswith("api/"):
            entries = json.loads(content)
            service = path[len("api/"):-len(".json")]
            assert entries and all(key.partition(".")[0] == service for key in entries), path
            found.update(entries)
    return found


def slo_body(files: dict[str, str], key: str = "web.availability") -> dict:
    return api_files(files)[key]["slo"]


def monitor_body(files: dict[str, str], tier: str, key: str = "web.availability") -> dict:
    """The one monitor of `tier` in the SLO's file (monitor names say their tier)."""
    found = [m for m in api_files(files)[key]["monitors"] if f": error budget burn, tier {tier} (" in m["name"]]
    assert len(found) == 1, (key, tier, found)
    return found[0]


def tiers_of(document: dict) -> list[str]:
    """The tier of each monitor in a per-SLO file, in the file's order."""
    return [re.search(r", tier (\S+) \(", m["name"])[1] for m in document["monitors"]]


def api_problems(key: str, document: dict) -> list[str]:
    """Every request body of one per-SLO file through the client's models and Datadog's documented limits."""
    if sorted(document) != ["monitors", "slo"] or not isinstance(document["monitors"], list):
        return [f"{key}: not {{\"slo\": ..., \"monitors\": [...]}}"]
    problems = [f"{key}.slo: {p}" for p in slo_problems(document["slo"])]
    target = document["slo"]["target_threshold"]
    for index, monitor in enumerate(document["monitors"]):
        problems += [f"{key}.monitors[{index}]: {p}" for p in monitor_problems(monitor, target)]
    return problems


def require_client():
    """In CI a missing datadog-api-client is a failure, locally a skip."""
    try:
        import datadog_api_client  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("datadog-api-client is required in CI (test extra)")
        pytest.skip("datadog-api-client not installed")


# --- the shop example -------------------------------------------------------------------------------

def test_shop_matches_golden(tmp_path: Path, update_golden: bool):
    """Every file and every diagnostic of the shop build is reviewed once and then held byte for byte."""
    files, diags, texts = generate("examples/shop", SHOP)
    for path, content in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(content, encoding="utf-8")
    compare_tree(GOLDEN / "shop", tmp_path, update_golden)
    compare_or_update(GOLDEN / "shop.diagnostics.txt", render_text(sorted(diags, key=sort_key), texts),
                      update_golden)


def test_shop_payloads_pass_the_client_models():
    require_client()
    files, _, _ = generate("examples/shop", SHOP)
    documents = api_files(files)
    assert sorted(documents) == ["catalog.availability", "checkout.availability", "checkout.latency",
                                 "orders-worker.freshness", "orders-worker.processing"]
    assert sum(len(d["monitors"]) for d in documents.values()) == MONITORS
    for key, document in documents.items():
        assert api_problems(key, document) == []


def test_the_shop_needs_nothing_datadog_cannot_take():
    _, diags, _ = generate("examples/shop", SHOP)
    assert not [d for d in diags if d.is_error]


def test_diagnostics_name_their_lines(shop_and_limits: Path):
    """The one SLO Datadog cannot take fails at its `sli raw` line; the rest are warnings at their lines."""
    _, diags, _ = generate(shop_and_limits, SHOP)
    errors = [d for d in diags if d.is_error]
    assert [(Path(d.span.path).name, d.span.line) for d in errors] == [("limits.relc", 5)]
    assert "raw PromQL" in errors[0].message and "datadog {" in errors[0].hint
    where = {(Path(d.span.path).name, d.span.line) for d in diags}
    assert ("checkout.relc", 14) in where  # min_events
    assert ("policies.relc", 41) in where  # tier ticket-slow of async-pipeline
    assert ("limits.relc", 10) in where  # window = 28d


def test_terraform_mirrors_the_api_payloads():
    files, _, _ = generate("examples/shop", SHOP)
    module = json.loads(files["terraform/relc.tf.json"])["resource"]
    slos, monitors = module["datadog_service_level_objective"], module["datadog_monitor"]
    documents = api_files(files)
    assert slos["checkout__availability"] == documents["checkout.availability"]["slo"]
    assert len(monitors) == sum(len(d["monitors"]) for d in documents.values())
    monitor = monitors["checkout__availability__page-fast"]
    api = monitor_body(files, "page-fast", "checkout.availability")
    assert monitor["query"] == api["query"].replace("<RELC_SLO_ID:checkout.availability>",
                                                    "${datadog_service_level_objective.checkout__availability.id}")
    assert monitor["monitor_thresholds"] == api["options"]["thresholds"] and monitor["priority"] == "1"
    for name, body in monitors.items():
        referenced = BURN_RATE.match(body["query"])["slo"]
        assert referenced[len("${datadog_service_level_objective."):-len(".id}")] in slos, name
    assert json.loads(files["terraform/versions.tf.json"])["terraform"]["required_providers"]["datadog"]


def test_output_is_deterministic_json():
    first, _, _ = generate("examples/shop", SHOP)
    second, _, _ = generate("examples/shop", SHOP)
    assert first == second
    for content in first.values():
        assert content.endswith("}\n") and content == json.dumps(json.loads(content), sort_keys=True, indent=2,
                                                                 ensure_ascii=False) + "\n"


# --- query translation ------------------------------------------------------------------------------

def query(op: str, value: str, mapping: Mapping = Mapping(namespace="shop")) -> str:
    sel = ir.Selector(metric="http_requests_total", matchers=(ir.LabelMatcher(name="code", op=op, value=value),))
    return selector_query(sel, "counter", mapping)


@pytest.mark.parametrize("op,value,expected", [
    ("=", "200", "code:200"),
    ("!=", "200", "!code:200"),
    ("=", "GET /Api", "code:get_/api"),           # Datadog lower-cases tags and turns spaces into _
    ("=~", "500|503", "code IN (500,503)"),
    ("=~", "(500|503)", "code IN (500,503)"),
    ("=~", "(?:500|503)", "code IN (500,503)"),
    ("!~", "500|503", "!code:500,!code:503"),
    ("=~", "5.*", "code:5*"),
    ("=~", ".*xx", "code:*xx"),
    ("!~", "4.*", "!code:4*"),
    ("=~", r"a\.b", "code:a.b"),
    ("=~", "500", "code:500"),
    ("=~", ".*", "*"),                              # matches every series, so no filter at all
])
def test_matchers_with_an_exact_tag_filter(op: str, value: str, expected: str):
    assert query(op, value) == f"sum:shop.http_requests.count{{{expected}}}.as_count()"


@pytest.mark.parametrize("op,value", [
    ("=~", "5.."), ("=~", r"5\d\d"), ("=~", "(?i)ok"), ("=~", r"a\.*"), ("=~", "a|b.*"), ("=~", "a|"),
    ("!~", ".*"), ("=", ""), ("!=", ""), ("=~", "[45]00"), ("=~", "5.+"),
])
def test_matchers_without_an_exact_tag_filter(op: str, value: str):
    with pytest.raises(Untranslatable) as err:
        query(op, value)
    assert f"code{op}{quote(value)}" in err.value.message


def test_in_switches_the_whole_filter_to_boolean_words():
    """Datadog rejects `!a:b` or `,` next to IN, so every term is spelled with AND/NOT."""
    sel = ir.Selector(metric="rpc_total", matchers=(
        ir.LabelMatcher(name="job", op="=", value="api"), ir.LabelMatcher(name="code", op="!=", value="404"),
        ir.LabelMatcher(name="grpc_code", op="=~", value="Internal|Unknown")))
    assert selector_query(sel, "counter", Mapping()) == \
        "sum:rpc.count{job:api AND NOT code:404 AND grpc_code IN (internal,unknown)}.as_count()"


@pytest.mark.parametrize("mapping,expected", [
    (Mapping(namespace="shop"), "shop.http_requests.count"),
    (Mapping(), "http_requests.count"),
    (Mapping(namespace="shop", openmetrics=False), "shop.http_requests_total"),
    (Mapping(namespace="shop", metric_map={"http_requests_total": "web.hits"}), "shop.web.hits.count"),
    (Mapping(metric_map={"http_requests": "web.hits"}, openmetrics=True), "web.hits.count"),
    (Mapping(openmetrics=False, metric_map={"http_requests_total": "trace.http.request.hits"}),
     "trace.http.request.hits"),
])
def test_metric_names(mapping: Mapping, expected: str):
    assert query("=", "200", mapping) == f"sum:{expected}{{code:200}}.as_count()"


def test_tag_map_renames_and_drops_labels():
    sel = ir.Selector(metric="http_requests_total", matchers=(
        ir.LabelMatcher(name="job", op="=", value="checkout"), ir.LabelMatcher(name="instance", op="=", value="a:1")))
    mapping = Mapping(tag_map={"job": "service", "instance": ""})
    assert selector_query(sel, "counter", mapping) == "sum:http_requests.count{service:checkout}.as_count()"


def latency_slo(threshold: float = 0.3, le: str | None = None) -> ir.SLO:
    sli = ir.LatencySLI(histogram=ir.Selector(metric="http_request_duration_seconds", matchers=(
        ir.LabelMatcher(name="route", op="!=", value="/healthz"),)), threshold_seconds=threshold, le=le)
    return ir.SLO(name="latency", service="web", objective=0.99, window_s=2592000, sli=sli, alert_name="X",
                  alert_policy=None, origin=ir.Origin(path="x.relc", line=1, col=1))


@pytest.mark.parametrize("threshold,le,bound", [(0.3, None, "0.3"), (1.0, None, "1.0"), (0.25, "0.250", "0.25"),
                                                (2.5, "2.5", "2.5")])
def test_latency_reads_the_openmetrics_buckets(threshold: float, le: str | None, bound: str):
    """The OpenMetrics check tags each bucket upper_bound:str(float(le)), so `1` arrives as `1.0`."""
    good, total = sli_queries(latency_slo(threshold, le), Mapping(namespace="shop"))
    assert good == f"sum:shop.http_request_duration_seconds.bucket{{!route:/healthz,upper_bound:{bound}}}.as_count()"
    assert total == "sum:shop.http_request_duration_seconds.count{!route:/healthz}.as_count()"


def test_latency_without_openmetrics_names_is_unsupported():
    with pytest.raises(Untranslatable, match="OpenMetrics"):
        sli_queries(latency_slo(), Mapping(openmetrics=False))


def test_bad_events_become_total_minus_bad(tmp_path: Path):
    files, _, _ = snippet(tmp_path, service(EVENTS))
    assert slo_body(files)["query"] == {
        "denominator": "sum:shop.http_requests.count{*}.as_count()",
        "numerator": "sum:shop.http_requests.count{*}.as_count() - "
                     "default_zero(sum:shop.http_requests.count{code:500}.as_count())"}


# --- SLO-level constructs and their diagnostics -------------------------------------------------------

def test_raw_sli_is_an_error_at_its_line(tmp_path: Path):
    raw = 'raw {\n      error_ratio = "avg_over_time(x[$window])"\n    }\n'
    files, diags, _ = snippet(tmp_path, service(raw))
    assert files == {} and codes(diags) == [("RELC401", 5, "error")]
    assert "datadog {" in diags[0].hint


def test_a_datadog_block_replaces_the_translation(tmp_path: Path):
    raw = ('raw {\n      error_ratio = "avg_over_time(x[$window])"\n      datadog {\n'
           '        bad = "sum:jobs.failed{env:prod}.as_count() + sum:jobs.lost{env:prod}.as_count()"\n'
           '        total = "sum:jobs.total{env:prod}.as_count()"\n      }\n    }\n')
    files, diags, _ = snippet(tmp_path, service(raw, "    alert_policy = none\n"), {"datadog.default_zero": "false"})
    assert diags == [] and sorted(files) == ["api/web.json", "terraform/relc.tf.json",
                                             "terraform/versions.tf.json"]
    assert api_files(files)["web.availability"]["monitors"] == []
    assert '"monitors": []' in files["api/web.json"]
    assert slo_body(files)["query"] == {
        "denominator": "sum:jobs.total{env:prod}.as_count()",
        "numerator": "sum:jobs.total{env:prod}.as_count() - "
                     "(sum:jobs.failed{env:prod}.as_count() + sum:jobs.lost{env:prod}.as_count())"}


def test_promql_string_query_is_an_error_at_its_line(tmp_path: Path):
    body = 'events {\n      bad = "rate(errors_total[$window])"\n      total = requests_total\n    }\n'
    _, diags, _ = snippet(tmp_path, service(body))
    assert codes(diags) == [("RELC401", 6, "error")] and "`bad` is a PromQL string" in diags[0].message


def test_untranslatable_matcher_points_at_its_line(tmp_path: Path):
    body = 'events {\n      bad = http_requests_total{code=~"5.."}\n      total = http_requests_total\n    }\n'
    _, diags, texts = snippet(tmp_path, service(body))
    assert codes(diags) == [("RELC401", 6, "error")]
    assert diags[0].span.col == len("      bad = http_requests_total{") + 1
    assert 'code=~"5.."' in diags[0].message


def test_every_problem_of_an_slo_gets_its_own_diagnostic(tmp_path: Path):
    body = ('events {\n      bad = http_requests_total{code=~"5..", method=~"GET|P.*"}\n'
            '      total = "sum(rate(requests_total[$window]))"\n    }\n')
    files, diags, _ = snippet(tmp_path, service(body, window="28d", objective="99.9995%"))
    assert files == {}
    assert codes(diags) == [("RELC401", 6, "error"), ("RELC401", 6, "error"), ("RELC401", 7, "error"),
                            ("RELC401", 4, "error"), ("RELC401", 3, "error")]
    assert [d.span.col for d in diags[:2]] == [33, 46]  # each matcher where it is written


def test_windows_outside_datadog_timeframes(tmp_path: Path):
    _, diags, _ = snippet(tmp_path, service(EVENTS, window="28d"))
    assert codes(diags) == [("RELC401", 4, "error")]
    files, diags, _ = snippet(tmp_path, service(EVENTS, window="28d"), {"datadog.timeframe": "nearest"})
    assert ("RELC401", 4, "warning") in codes(diags)
    assert slo_body(files)["timeframe"] == "30d"


def test_objective_with_four_decimals_is_refused(tmp_path: Path):
    _, diags, _ = snippet(tmp_path, service(EVENTS, objective="99.9995%"))
    assert codes(diags) == [("RELC401", 3, "error")] and "three decimal places" in diags[0].message


POLICY = """alert_policy custom {{
  tier fast {{
    severity = "page"
    burn_rate = {fast}
    long = 30m
    short = 150s
  }}
  tier slow {{
    severity = "ticket"
    budget = 40%
    long = 3d
    short = 6h
  }}
}}
"""


def test_tiers_outside_datadog_limits_move_to_the_nearest_recommended_pair(tmp_path: Path):
    body = POLICY.format(fast=10) + service(EVENTS, "    alert_policy = custom\n")
    files, diags, _ = snippet(tmp_path, body)
    assert codes(diags) == [("RELC401", 2, "warning"), ("RELC401", 8, "warning")]
    fast, slow = api_files(files)["web.availability"]["monitors"]
    assert (fast, slow) == (monitor_body(files, "fast"), monitor_body(files, "slow"))
    assert fast["query"].endswith('.long_window("1h").short_window("5m") > 5')  # same share of budget: 10x in 30m
    assert slow["query"].endswith('.long_window("24h").short_window("120m") > 12')  # 40% in 1d of 30d
    assert fast["priority"] == 1 and slow["priority"] == 3


def test_a_moved_tier_above_the_maximum_burn_rate_is_refused(tmp_path: Path):
    body = POLICY.format(fast=2) + service(EVENTS, "    alert_policy = custom\n", objective="90%")
    files, diags, _ = snippet(tmp_path, body)
    assert ("RELC401", 8, "error") in codes(diags)
    assert "needs a burn rate of 12x in Datadog, above the 10x maximum" in next(d.message for d in diags if d.is_error)
    assert tiers_of(api_files(files)["web.availability"]) == ["fast"]


def test_warning_threshold_from_the_budget_policy(tmp_path: Path):
    policy = ('budget_policy steps {\n  threshold {\n    remaining = 25%\n    actions = ["x"]\n  }\n'
              '  threshold {\n    remaining = 0%\n    actions = ["y"]\n  }\n}\n')
    files, diags, _ = snippet(tmp_path, policy + service(EVENTS, "    budget_policy = steps\n"))
    slo = slo_body(files)
    assert slo["thresholds"] == [{"target": 99.9, "timeframe": "30d", "warning": 99.925}]
    assert slo["warning_threshold"] == 99.925
    steps = [d for d in diags if "per-step alerts" in d.message]
    assert codes(steps) == [("RELC401", 15, "warning")]


def test_guards_without_a_datadog_equivalent_are_warnings(tmp_path: Path):
    files, diags, _ = snippet(tmp_path, service(EVENTS, "    min_events = 10\n    no_data_after = 15m\n"))
    assert codes(diags)[:2] == [("RELC401", 5, "warning"), ("RELC401", 6, "warning")]
    assert files


# --- text from the source stays text ------------------------------------------------------------------

def test_source_text_cannot_inject_templates_handles_or_interpolation(tmp_path: Path):
    body = ('runbook r {\n  url = "https://wiki.example/{{x}}/@oncall"\n}\n'
            'alert_policy p {\n  annotations = { summary = "Burn {{#is_alert}}now{{/is_alert}} @here", '
            'owner = "ops@example.com" }\n'
            '  tier t {\n    severity = "page {{value}}"\n    burn_rate = 14.4\n    long = 1h\n    short = 5m\n  }\n}\n'
            + service(EVENTS, '    description = "Pay ${var.secret} %{ if x } {{{raw}}} @channel"\n'
                              '    runbook = r\n    alert_policy = p\n'))
    files, diags, _ = snippet(tmp_path, body, {"datadog.handles": "page:@pagerduty-web"})
    monitor = monitor_body(files, "t")
    text = monitor["message"] + monitor["name"]
    assert "{{" not in text and "}}" not in text
    assert "@" not in text  # no handle from source text; the option's is for severity `page` only
    assert "https://wiki.example/%7B%7Bx%7D%7D/%40oncall" in monitor["message"]
    slo = slo_body(files)
    assert "Pay ${var.secret} %{ if x }" in slo["description"]  # the API takes it literally
    module = files["terraform/relc.tf.json"]
    assert "Pay $${var.secret} %%{ if x }" in json.loads(module)["resource"]["datadog_service_level_objective"][
        "web__availability"]["description"]
    assert module.count("${datadog_service_level_objective.") == 1  # only relc's own interpolation is live


def test_handles_reach_the_monitors_of_their_severity(tmp_path: Path):
    files, _, _ = snippet(tmp_path, service(EVENTS), {"datadog.handles": "page:@pagerduty-web,page:@slack-web"})
    page = monitor_body(files, "page-fast")["message"]
    ticket = monitor_body(files, "ticket-fast")["message"]
    assert page.endswith("\n\nNotify: @pagerduty-web @slack-web") and "@" not in ticket


# --- options ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key,value", [
    ("datadog.handles", "page:pagerduty"), ("datadog.metric_map", "http_requests_total"),
    ("datadog.metric_map", "a=b c"), ("datadog.tag_map", "job=Service"), ("datadog.priorities", "page:0"),
    ("datadog.namespace", "1shop"), ("datadog.env", "Prod env"),
])
def test_malformed_options_are_relc403(tmp_path: Path, key: str, value: str):
    files, diags, _ = snippet(tmp_path, service(EVENTS), {key: value})
    assert files == {} and [d.code for d in diags] == ["RELC403"] and key in diags[0].message


def test_choices_are_checked_before_generation():
    diags = check_settings("datadog", TARGET, {"datadog.openmetrics": "maybe", "datadog.namespcae": "x"})
    assert [d.code for d in diags] == ["RELC403", "RELC403"]
    assert "datadog.namespace" in diags[1].hint


def test_priorities_option(tmp_path: Path):
    files, _, _ = snippet(tmp_path, service(EVENTS), {"datadog.priorities": "page:2"})
    assert monitor_body(files, "page-fast")["priority"] == 2
    assert "priority" not in monitor_body(files, "ticket-fast")


# --- the checker itself, and the command line ---------------------------------------------------------

def test_checker_reports_what_the_client_lets_through():
    require_client()
    files, _, _ = generate("examples/shop", SHOP)
    slo = slo_body(files, "catalog.availability")
    broken = {**slo, "bogus": 1, "thresholds": [{**slo["thresholds"][0], "timeframe": "31d", "extra": True}]}
    problems = slo_problems(broken)
    assert any("bogus: unknown field" in p for p in problems)
    assert any("thresholds[0].extra: unknown field" in p for p in problems)
    assert any("`31d` is not one of" in p for p in problems)
    assert slo_problems({**slo, "tags": [3]}) and slo_problems({**slo, "id": "abc"})
    monitor = monitor_body(files, "page-fast", "catalog.availability")
    assert any("not one of" in p for p in monitor_problems({**monitor, "type": "slo-alert"}))
    assert monitor_problems({**monitor, "query": monitor["query"].replace('"1h"', '"72h"')})
    assert monitor_problems({**monitor, "query": monitor["query"].replace("> 14.4", "> 3000")}, 99.95)


def test_client_is_imported_only_by_the_checker():
    code = ("import sys, relc.targets.datadog as d\n"
            "from relc.compiler.pipeline import compile_paths\nfrom relc.targets import Options\n"
            "d.TARGET.generate(compile_paths(['examples/shop']).project, Options())\n"
            "print('datadog_api_client' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_cli_explicit_target_fails_on_the_raw_sli_and_writes_nothing(shop_and_limits: Path, tmp_path: Path):
    args = ["build", str(shop_and_limits), "-o", str(tmp_path / "out"), "--target", "datadog"]
    for key, value in SHOP.items():
        args += ["-O", f"{key}={value}"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "limits.relc:5:5: error[RELC401]" in result.output
    assert not (tmp_path / "out" / "datadog").exists()


@pytest.mark.parametrize("listed", [False, True], ids=["counted", "--all-warnings"])
def test_cli_default_build_downgrades_and_writes(shop_and_limits: Path, tmp_path: Path, monkeypatch, listed: bool):
    """A default build (every built-in target; here Datadog alone) turns RELC401 into warnings, counted in one
    note per target unless --all-warnings asks for each."""
    monkeypatch.setattr(relc.targets, "BUILTIN", {"datadog": "relc.targets.datadog:TARGET"})
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(shop_and_limits), "-o", str(out), "-O", "datadog.namespace=shop",
                                       *(["--all-warnings"] if listed else [])])
    assert result.exit_code == 0, result.output
    assert ("limits.relc:5:5: warning[RELC401]" in result.output) is listed
    assert ("relc: note: the Datadog output approximates or leaves out" in result.output) is not listed
    assert (out / "datadog" / "terraform" / "relc.tf.json").exists()
    api = out / "datadog" / "api"
    assert sorted(p.name for p in api.iterdir()) == ["catalog.json", "checkout.json",
                                                     "orders-worker.json"]  # no SLO of limits is written
    assert [key for p in sorted(api.iterdir()) for key in json.loads(p.read_text())] == [  # the SLOs written;
        "catalog.availability", "checkout.availability", "checkout.latency",  # limits/freshness (raw) and
        "orders-worker.freshness", "orders-worker.processing"]                 # limits/monthly (28d) are left out


# --- fast paths say what the slow ones said ---------------------------------------------------------------

def test_tag_text_matches_the_character_rule_everywhere():
    def rule(text: str) -> str:
        return "".join(c if c.isalnum() or c in "_-:./" else "_" for c in text.lower())
    for code in range(0x110000):
        text = f"A{chr(code)}z"
        assert tag_text(text) == rule(text), hex(code)


@pytest.mark.parametrize("text", ["plain", "{{x}}", "a}}", "{{{raw}}}", "x@y", "{ {", "", "}}{{@"])
def test_literal_matches_the_substitutions(text: str):
    slow = re.sub(r"\}(?=\})", "} ", re.sub(r"\{(?=\{)", "{ ", text)).replace("@", "(at)")
    assert literal(text) == slow


def test_safe_url_matches_quote_for_every_character():
    for code in [c for c in range(0x3000) if not 0xD800 <= c < 0xE000]:
        url = f"https://x.example/{chr(code)}?a=b#c"
        assert safe_url(url) == quote_url(url, safe=":/?#&=%+,;~!$'*-._"), hex(code)


def test_diagnostics_point_where_fresh_reads_point(tmp_path: Path):
    """locate() reads each file once per build; the lines it finds are those a fresh read finds."""
    _, diags, _ = generate("examples/shop", {**SHOP, "datadog.timeframe": "exact"})
    fresh = [(d.message, d.span) for d in diags]
    datadog_target._FOUND.append({})
    try:
        again = [(d.message, d.span) for d in generate("examples/shop", {**SHOP, "datadog.timeframe": "exact"})[1]]
    finally:
        datadog_target._FOUND.pop()
    assert fresh == again and any(span and span.line > 1 for _, span in fresh)


def test_terraform_gets_payloads_as_written_unless_they_hold_templates():
    assert templated('{"a": "${x}"}') and templated('{"a": "%{x}"}') and not templated('{"a": "$ {x} % {y}"}')
    body = {"name": "n", "type": "slo alert", "query": "q", "message": "m", "tags": ["a:b"],
            "options": {"thresholds": {"critical": 2.0}}, "priority": 1}
    assert tf_monitor(body, "r", "k", literal=False) == tf_monitor(body, "r", "k")
