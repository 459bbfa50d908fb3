"""Grafana target: schema-valid dashboards whose queries parse and read only series the Prometheus rules record."""
from __future__ import annotations

import dataclasses

import copy
import functools
import json
import re
from pathlib import Path

import jsonschema
import promql_parser
import pytest
import yaml
from click.testing import CliRunner

import relc.targets
from relc.compiler.commands.cli import main
from relc.compiler.model import ir as ir
from relc.compiler.model.naming import dashboard_uid
from relc.compiler.check.promql import render_selector
from relc.compiler.pipeline import compile_paths
from relc.targets import Options
from relc.targets import grafana
from relc.targets.grafana import queries as grafana_queries
from relc.targets.grafana import text as grafana_text
from relc.targets.prometheus import TARGET as PROMETHEUS

from conftest import ROOT, compare_tree, promtool_unit

SCHEMAS = ROOT / "schemas" / "grafana"
GOOD = sorted(p for p in (ROOT / "tests" / "good").iterdir() if p.suffix == ".relc" or p.is_dir())
CASES = {"shop": ROOT / "examples" / "shop", **{p.stem: p for p in GOOD}}
GRAFANA_VARIABLES = {"slo": ".*", "datasource": "prometheus", "__interval": "1m", "__rate_interval": "1m",
                     "__range": "1d"}
VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$([A-Za-z_]\w*)")  # `$1` is label_replace's, not Grafana's
UID = re.compile(r"[A-Za-z0-9_-]{1,40}\Z")


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    monkeypatch.setitem(relc.targets.BUILTIN, "grafana", "relc.targets.grafana:TARGET")


def project(path: Path | str):
    compilation = compile_paths([str(path)])
    assert compilation.project is not None, compilation.diagnostics
    return compilation.project


def generate(path: Path | str, options: Options | None = None) -> dict[str, str]:
    artifacts, diags = grafana.TARGET.generate(project(path), options or Options())
    assert diags == []
    return {a.path: a.content for a in artifacts}


def dashboards(path: Path | str, options: Options | None = None) -> dict[str, dict]:
    return {name: json.loads(text) for name, text in generate(path, options).items() if name.endswith(".json")}


def board(path: Path | str, service: str, options: Options | None = None) -> dict:
    """The dashboard of one service (or grafana.OVERVIEW_UID)."""
    uid = service if service == grafana.OVERVIEW_UID else dashboard_uid(service)
    return dashboards(path, options)[f"{grafana.JSON_DIR}/{uid}.json"]


def all_panels(dashboard: dict) -> list[dict]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def exprs_of(panel: dict) -> str:
    return "\n".join(t["expr"] for t in panel.get("targets", []))


def queries(dashboard: dict) -> list[str]:
    return [t["expr"] for p in all_panels(dashboard) for t in p.get("targets", [])]


def schema(name: str) -> jsonschema.Draft7Validator:
    path = SCHEMAS / name
    return jsonschema.Draft7Validator(json.loads(path.read_text()))


def custom_overrides(panel: dict) -> list[tuple[str, object]]:
    """`custom.*` settings of a panel's field overrides, as (key, value)."""
    return [(prop["id"][len("custom."):], prop["value"]) for override in panel["fieldConfig"].get("overrides", [])
            for prop in override["properties"] if prop["id"].startswith("custom.")]


def schema_errors(dashboard: dict) -> list[str]:
    """The dashboard model, and each panel's options and custom field config against its plugin's schema."""
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in schema("dashboard.schema.json").iter_errors(dashboard)]
    for panel in all_panels(dashboard):
        errors += [f"{panel['title']} options: {e.message}"
                   for e in schema(f"panels/{panel['type']}.options.schema.json").iter_errors(panel["options"])]
        custom = f"panels/{panel['type']}.fieldconfig.schema.json"
        if (SCHEMAS / custom).exists():
            defaults = panel["fieldConfig"]["defaults"].get("custom", {})
            errors += [f"{panel['title']} custom: {e.message}" for e in schema(custom).iter_errors(defaults)]
            for key, value in custom_overrides(panel):  # each override, as if it were the whole custom config
                errors += [f"{panel['title']} override custom.{key}: {e.message}"
                           for e in schema(custom).iter_errors({**defaults, key: value})]
    return errors


@pytest.mark.parametrize("case", sorted(CASES))
def test_dashboards_validate_against_grafana_schema(case: str):
    found = dashboards(CASES[case])
    assert found
    for name, dashboard in found.items():
        assert schema_errors(dashboard) == [], name
        assert dashboard["schemaVersion"] == grafana.SCHEMA_VERSION


def test_schema_check_catches_broken_dashboards():
    dashboard = board(CASES["shop"], "checkout")
    for breakage in (lambda d: d.update(panelz=[]),
                     lambda d: d["panels"][1]["gridPos"].update(w="wide"),
                     lambda d: d["panels"][1]["options"].update(colorMode="rainbow"),
                     lambda d: d["panels"][3]["fieldConfig"]["defaults"]["custom"].update(drawStyle="wiggle"),
                     lambda d: d["templating"]["list"][0].update(type="dropdown")):
        broken = copy.deepcopy(dashboard)
        breakage(broken)
        assert schema_errors(broken), "the schemas accepted a broken dashboard"


def test_schema_files_record_their_source_and_match_the_emitted_version():
    source = json.loads((SCHEMAS / "source.json").read_text())
    assert source["package"] == "@grafana/schema" and source["schemaVersion"] == grafana.SCHEMA_VERSION
    emitted = {p["type"] for d in dashboards(CASES["shop"]).values() for p in all_panels(d)}
    assert emitted == {"stat", "timeseries", "state-timeline", "text", "table"}
    for kind in emitted:
        name = f"panels/{kind}.options.schema.json"
        assert (SCHEMAS / name).exists() or name in FALLBACK_SCHEMAS, kind
    assert (ROOT / "scripts" / "regen-grafana-schema.sh").read_text().count(source["version"]) == 1


@functools.lru_cache(maxsize=1)
def group_variables() -> dict[str, str]:
    """The dashboard variable of every group label of the cases (`group_by`), at its All value `.*`."""
    from relc.targets.grafana.queries import group_variable

    return {group_variable(label): ".*" for path in CASES.values() for slo in project(path).slos()
            for label in slo.group_by}


def substitute(expr: str) -> str:
    """Grafana's variables as Grafana would expand them, so the PromQL parser sees what Prometheus receives."""
    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        known = {**GRAFANA_VARIABLES, **group_variables()}
        assert name in known, f"unexpected Grafana variable ${name} in {expr}"
        return known[name]
    return VARIABLE.sub(value, expr)


def vector_selectors(expr: str) -> list:
    """Every vector selector of the query, ranges included; raises if it does not parse."""
    found: list = []
    promql_parser.walk(promql_parser.parse(substitute(expr)),
                       lambda n: found.append(n) if isinstance(n, promql_parser.VectorSelector) else None)
    return found


def selectors(expr: str) -> list[tuple[str, dict[str, str]]]:
    """(metric name, equality matchers) of every vector selector in the query."""
    return [(s.name, {m.name: m.value for m in s.matchers.matchers if m.op == promql_parser.MatchOp.Equal})
            for s in vector_selectors(expr)]


def alert_regexes(expr: str) -> list[str]:
    return [m.value for s in vector_selectors(expr) if s.name == "ALERTS" for m in s.matchers.matchers
            if m.name == "alertname"]


def prometheus_output(path: Path) -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]]]:
    """(record, service, slo) and (alert, service, slo) of every rule the Prometheus target emits."""
    artifacts, _ = PROMETHEUS.generate(project(path), Options())
    records, alerts = set(), set()
    for artifact in artifacts:
        for group in yaml.safe_load(artifact.content)["groups"]:
            for rule in group["rules"]:
                labels = rule["labels"]
                target = records if "record" in rule else alerts
                target.add((rule.get("record") or rule["alert"], labels["service"], labels.get("slo", "")))
    return records, alerts


def inconsistencies(exprs: list[str], records: set, alerts: set) -> list[str]:
    """Series a query names that no rule records for that service and SLO, and alert names no rule defines."""
    problems = []
    for expr in exprs:
        for name, matchers in selectors(expr):
            key = (name, matchers.get("service"), matchers.get("slo"))
            if name == "ALERTS":
                continue
            if key not in records:
                problems.append(f"{key} in {expr}")
        for regex in alert_regexes(expr):
            for alert in regex.split("|"):
                if not any(a[0] == alert for a in alerts):
                    problems.append(f"alert {alert} in {expr}")
    return problems


def recorded_labels(path: Path) -> dict[str, set[str]]:
    """Label names every series of a recorded name carries ("ALERTS": those every relc alert carries)."""
    artifacts, _ = PROMETHEUS.generate(project(path), Options())
    found: dict[str, set[str]] = {}
    for artifact in artifacts:
        for group in yaml.safe_load(artifact.content)["groups"]:
            for rule in group["rules"]:
                name = rule.get("record") or "ALERTS"
                labels = set(rule["labels"]) | ({"alertname", "alertstate"} if name == "ALERTS" else set())
                found[name] = found[name] & labels if name in found else labels
    return found


def _selectors_under(node) -> list:
    found: list = []
    promql_parser.walk(node, lambda n: found.append(n) if isinstance(n, promql_parser.VectorSelector) else None)
    return found


# Labels a series carries only when the source sets them; the overview fills them in (`label_replace`).
FILLED = {"relc_slo_info": {"owner"}}


def test_an_unset_owner_is_not_recorded_and_the_overview_says_not_set(tmp_path: Path):
    (tmp_path / "a.relc").write_text("service a { slo x { objective = 99%  sli events { bad = e_total "
                                     "total = t_total } } }\n")
    assert "owner" not in recorded_labels(tmp_path)["relc_slo_info"]
    overview = dashboards(tmp_path)[f"{grafana.JSON_DIR}/{grafana.OVERVIEW_UID}.json"]
    assert any('"owner", "not set", "owner", ""' in expr for expr in queries(overview))


def aggregate_problems(expr: str, labels: dict[str, set[str]]) -> list[str]:
    """An overview query reads every SLO: each series it names is recorded (for some SLO), it pins no SLO, only
    relc's alerts (those with an alert_tier) count, and each `by`/`on` label is on every series it groups."""
    problems = []
    tree = promql_parser.parse(substitute(expr))
    for name, matchers in selectors(expr):
        if name not in labels:
            problems.append(f"{name} is not recorded")
        if "service" in matchers or "slo" in matchers:
            problems.append(f"{name} pinned to one SLO")
    for sel in _selectors_under(tree):
        if sel.name == "ALERTS" and not any(m.name == "alert_tier" and m.op == promql_parser.MatchOp.NotEqual
                                            and m.value == "" for m in sel.matchers.matchers):
            problems.append("ALERTS without alert_tier!=\"\" counts other rules' alerts")
    def check(node) -> None:
        if isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            wanted, grouped = set(node.modifier.labels), _selectors_under(node.expr)
        elif isinstance(node, promql_parser.BinaryExpr) and node.modifier and node.modifier.matching:
            wanted = set(node.modifier.matching.labels)
            grouped = _selectors_under(node.lhs) + _selectors_under(node.rhs)
        else:
            return
        problems.extend(f"{sel.name} lacks {sorted(wanted - labels.get(sel.name, set()) - FILLED.get(sel.name, set()))}"
                        for sel in grouped
                        if not wanted <= labels.get(sel.name, set()) | FILLED.get(sel.name, set()))
    promql_parser.walk(tree, check)
    return problems


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_query_parses_and_reads_only_recorded_series(case: str):
    records, alerts = prometheus_output(CASES[case])
    found = dashboards(CASES[case])
    overview = found.pop(f"{grafana.JSON_DIR}/{grafana.OVERVIEW_UID}.json")
    exprs = [expr for d in found.values() for expr in queries(d)]
    assert exprs
    # The latency panel alone reads the source histogram (relc records no buckets): one SLO's own buckets.
    histograms = {render_selector(s.sli.histogram, suffix="" if s.sli.native else "_bucket")
                  for s in project(CASES[case]).slos() if isinstance(s.sli, ir.LatencySLI)}
    quantiles = [e for e in exprs if e.startswith("histogram_quantile(")]
    assert all(any(f"rate({h}[$__rate_interval])" in e for h in histograms) for e in quantiles), quantiles
    assert bool(quantiles) == bool(histograms)
    exprs = [e for e in exprs if e not in quantiles]
    assert inconsistencies(exprs, records, alerts) == []
    for expr in exprs:  # every selector is pinned to one SLO's series (or to ALERTS of that SLO)
        for name, matchers in selectors(expr):
            assert "service" in matchers and "slo" in matchers, expr
    labels = recorded_labels(CASES[case])
    assert queries(overview) and all(aggregate_problems(expr, labels) == [] for expr in queries(overview))


def test_aggregate_check_catches_what_the_rules_do_not_record():
    labels = recorded_labels(CASES["shop"])
    assert {"service", "slo", "owner", "objective", "window", "sli_kind"} <= labels["relc_slo_info"]
    assert {"service", "slo", "alert_tier", "severity"} <= labels["ALERTS"]  # every relc alert has a tier
    for bad in ("max by (service, slo) (relc_slo:error_ratio:rate2d)",           # no SLO reads a 2d window
                'max by (service, slo) (relc_slo:burn_rate:rate5m{slo="latency"})',  # pinned
                "max by (service, owner) (relc_slo:burn_rate:rate5m)",            # only the info series has owner
                'count by (service, slo) (ALERTS{alertstate="firing"})',           # any rule's alerts
                "relc_slo_info and on (service, team) relc_slo:objective:ratio"):  # no team label
        assert aggregate_problems(bad, labels), bad


def test_consistency_check_catches_series_the_rules_do_not_record():
    records, alerts = prometheus_output(CASES["shop"])
    bad = ['relc_slo:error_ratio:rate2d{service="checkout",slo="availability"}',  # no tier reads 2d
           'relc_slo:error_ratio:rate7d{service="checkout",slo="latency"}',      # latency's window is 30d
           'relc_slo:bad_events:rate5m{service="orders-worker",slo="nope"}',     # no such SLO
           'count(ALERTS{alertname=~"CheckoutAvailabilityBudgetBurn|Nope",service="checkout",slo="availability"})']
    assert len(inconsistencies(bad, records, alerts)) == 4
    with pytest.raises(Exception):
        selectors('relc_slo:objective:ratio{service="a"')


def test_alert_panels_name_exactly_the_slos_alerts():
    _, alerts = prometheus_output(CASES["shop"])
    checkout = board(CASES["shop"], "checkout")
    panels = [p for p in all_panels(checkout) if p["type"] == "state-timeline"]
    expected = {slo: {a for a, service, s in alerts if service == "checkout" and s == slo}
                for slo in ("availability", "latency")}
    found = {}
    for panel in panels:
        (_, matchers), = selectors(panel["targets"][0]["expr"])
        found[matchers["slo"]] = set(alert_regexes(panel["targets"][0]["expr"])[0].split("|"))
    assert found == expected


def test_source_names_are_quoted_in_promql():
    slo = dataclasses.replace(project(CASES["shop"]).services[0].slos[0], name='a"b\\c}', service="x\ny")
    (name, matchers), = selectors(grafana_queries.budget_remaining(slo, filtered=False))
    assert name == "relc_slo:error_budget_remaining:ratio" and matchers == {"service": "x\ny", "slo": 'a"b\\c}'}


def test_uids_and_panel_ids_are_stable_and_valid(tmp_path: Path):
    first = dashboards(CASES["shop"])
    for dashboard in first.values():
        assert UID.match(dashboard["uid"])
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids)) and all(isinstance(i, int) and 0 < i < 2**31 for i in ids)
    services = ("checkout", "orders-worker", "catalog")
    assert {d["uid"] for d in first.values()} == {dashboard_uid(s) for s in services} | {grafana.OVERVIEW_UID}
    # A new SLO before the others moves every panel down but changes no existing id.
    src = tmp_path / "shop"
    src.mkdir()
    for file in CASES["shop"].iterdir():
        text = file.read_text()
        if file.name == "checkout.relc":
            text = text.replace("  slo availability {", "  slo added {\n    objective = 99%\n    sli events {\n"
                                "      bad = x_total{a=\"b\"}\n      total = x_total\n    }\n  }\n\n"
                                "  slo availability {", 1)
        (src / file.name).write_text(text)
    before = {(p["title"], p["id"]) for p in board(CASES["shop"], "checkout")["panels"]}
    assert before < {(p["title"], p["id"]) for p in board(src, "checkout")["panels"]}


def test_long_service_names_get_short_uids(tmp_path: Path):
    name = "a" + "-very-long-service-name" * 3
    (tmp_path / "long.relc").write_text(f"service {name} {{\n  slo ok {{ objective = 99%  sli events {{ "
                                        "bad = e_total  total = r_total } }\n}\n")
    (uid,) = {d["uid"] for d in dashboards(tmp_path / "long.relc").values()} - {grafana.OVERVIEW_UID}
    assert uid == dashboard_uid(name) and len(uid) <= 40 and UID.match(uid)


def test_prometheus_dashboard_url_lands_on_the_slo():
    """Alerts link to <base>/d/<uid>?var-slo=<slo>: that dashboard exists, knows the SLO, and filters by it."""
    artifacts, _ = PROMETHEUS.generate(project(CASES["shop"]), Options(dashboard_base_url="https://g.example"))
    urls = {rule["annotations"]["dashboard_url"] for a in artifacts for g in yaml.safe_load(a.content)["groups"]
            for rule in g["rules"] if "alert" in rule}
    by_uid = {d["uid"]: d for d in dashboards(CASES["shop"]).values()}
    assert len(urls) == 5
    for url in urls:
        match = re.fullmatch(r"https://g\.example/d/([A-Za-z0-9_-]+)\?var-slo=([A-Za-z0-9_-]+)", url)
        assert match, url
        dashboard = by_uid[match[1]]
        variable = next(v for v in dashboard["templating"]["list"] if v["name"] == "slo")
        assert match[2] in [o["value"] for o in variable["options"]]
        rows = [p for p in all_panels(dashboard) if f'slo="{match[2]}"' in exprs_of(p)]
        assert len(rows) >= 6 and all(t["expr"].count('slo=~"${slo}"') == t["expr"].count("service=")
                                      for p in rows for t in p["targets"])


def overview_table(options: Options | None = None) -> dict:
    overview = board(CASES["shop"], grafana.OVERVIEW_UID, options)
    (table,) = [p for p in all_panels(overview) if p["type"] == "table"]
    return table


def column_links(table: dict) -> dict[str, list[dict]]:
    """The data links of each column, by field name."""
    return {o["matcher"]["options"]: prop["value"] for o in table["fieldConfig"]["overrides"]
            for prop in o["properties"] if prop["id"] == "links"}


def label_replaced(expr: str, labels: dict[str, str]) -> dict[str, str]:
    """What the query's label_replace calls do to a series with these labels, innermost call first."""
    calls: list = []
    promql_parser.walk(promql_parser.parse(expr), lambda n: calls.append(n) if isinstance(n, promql_parser.Call)
                       and n.func.name == "label_replace" else None)
    labels = dict(labels)
    for call in reversed(calls):
        dst, replacement, src, regex = (arg.val for arg in call.args[1:])
        match = re.fullmatch(regex, labels.get(src, ""))
        if match:
            labels[dst] = match.expand(replacement.replace("$", "\\"))
    return labels


def test_overview_rows_link_to_the_service_dashboard_and_runbook():
    links = column_links(overview_table(Options(runbook_base_url="https://rb.example/x")))
    dashboard = "/${__data.fields.dashboard:raw}"
    assert [link["url"] for link in links["service"]] == [dashboard + "${__url_time_range}&${datasource:queryparam}"]
    assert [link["url"] for link in links["slo"]] == [
        dashboard + "var-slo=${__data.fields.slo}&${__url_time_range}&${datasource:queryparam}",
        "https://rb.example/x/${__data.fields.service}/${__data.fields.slo}.md"]
    assert [link["url"] for link in column_links(overview_table())["slo"]] == [links["slo"][0]["url"]]  # no base


@pytest.mark.parametrize("service", ["checkout", "a" * 35, "a" * 36, "b-" + "very-long-service-name-" * 3])
def test_overview_dashboard_paths_match_the_uids(service: str):
    """The `dashboard` column the info query builds opens the service's dashboard, whatever its name's length."""
    info = overview_table()["targets"][0]["expr"]
    path = label_replaced(info, {"service": service, "slo": "x"})["dashboard"]
    if dashboard_uid(service) == f"relc-{service}":
        assert path == f"d/{dashboard_uid(service)}?"
    else:  # the uid ends in a hash of the name: search for the dashboard by tag and title instead
        assert path == f"dashboards?tag=relc&query={service}&"


def test_overview_does_not_grow_with_the_project(tmp_path: Path):
    def project_of(services: int) -> Path:
        path = tmp_path / f"p{services}.relc"
        path.write_text("".join(f"service s{i} {{\n  slo a {{ objective = 99.9%  sli events {{ bad = e_total  "
                                f"total = r_total }} }}\n}}\n" for i in range(services)))
        return path
    small, large = (generate(project_of(n))[f"{grafana.JSON_DIR}/{grafana.OVERVIEW_UID}.json"] for n in (2, 200))
    assert small == large and len(small) < 30_000
    overview = json.loads(small)
    assert [p["type"] for p in overview["panels"]] == ["stat"] * 4 + ["table"]
    assert not any("${slo}" in expr for expr in queries(overview))  # the overview has no SLO filter


def test_overview_queries_in_prometheus(tmp_path: Path):
    """The table's queries, run by promtool over recorded series from two replicas: one row per SLO, the worst
    replica's numbers, only relc's alerts of relc's SLOs counted, and 0 for an SLO without firing alerts."""
    rules = tmp_path / "none.rules.yml"
    rules.write_text("groups: []\n")
    long_name = "b-" + "very-long-service-name-" * 3
    series = []
    for replica, remaining, burn, ratio in (("a", "0.5", "2", "0.0005"), ("b", "0.4", "3", "0.0006")):
        for service in ("checkout", long_name):
            slo = f'service="{service}",slo="availability",replica="{replica}"'
            series += [{"series": f'relc_slo_info{{{slo},owner="team",objective="99.9%",window="30d",'
                                  f'sli_kind="events"}}', "values": "1x5"},
                       {"series": f"relc_slo:error_budget_remaining:ratio{{{slo}}}", "values": f"{remaining}x5"},
                       {"series": f"relc_slo:error_budget:ratio{{{slo}}}", "values": "0.001x5"},
                       {"series": f"relc_slo:error_ratio:window{{{slo}}}", "values": f"{ratio}x5"},
                       {"series": f"relc_slo:burn_rate:rate5m{{{slo}}}", "values": f"{burn}x5"}]
    series += [{"series": 'ALERTS{alertname="CheckoutAvailabilityBudgetBurn",alertstate="firing",'
                          'alert_tier="page-fast",severity="page",service="checkout",slo="availability"}',
                "values": "1x5"},
               {"series": 'ALERTS{alertname="Other",alertstate="firing",service="checkout",slo="availability"}',
                "values": "1x5"},
               {"series": 'ALERTS{alertname="Foreign",alertstate="firing",alert_tier="x",service="f",slo="y"}',
                "values": "1x5"}]
    table = {t["refId"]: t["expr"] for t in overview_table()["targets"]}
    checkout, other = '{service="checkout",slo="availability"}', f'{{service="{long_name}",slo="availability"}}'
    def rows(value_checkout, value_other):
        return [{"labels": checkout, "value": value_checkout}, {"labels": other, "value": value_other}]
    info = ('{{dashboard="{path}",objective="99.9%",owner="team",service="{service}",sli_kind="events",'
            'slo="availability",window="30d"}}')
    checks = [
        {"expr": table["A"], "eval_time": "2m", "exp_samples": [
            {"labels": info.format(path="d/relc-checkout?", service="checkout"), "value": 1},
            {"labels": info.format(path=f"dashboards?tag=relc&query={long_name}&", service=long_name), "value": 1}]},
        {"expr": table["B"], "eval_time": "2m", "exp_samples": rows(0.9994, 0.9994)},
        {"expr": table["C"], "eval_time": "2m", "exp_samples": rows(0.4, 0.4)},
        {"expr": table["D"], "eval_time": "2m", "exp_samples": rows(3, 3)},
        {"expr": table["E"], "eval_time": "2m", "exp_samples": rows(1, 0)},
    ]
    overview = board(CASES["shop"], grafana.OVERVIEW_UID)
    counts = {p["title"]: p["targets"][0]["expr"] for p in all_panels(overview) if p["type"] == "stat"}
    for title, value in (("SLOs", 2), ("Error budget exhausted", 0), ("Burning faster than sustainable (5m)", 2),
                         ("SLOs with firing alerts", 1)):
        checks.append({"expr": counts[title], "eval_time": "2m", "exp_samples": [{"labels": "{}", "value": value}]})
    promtool_unit(rules, series, checks, tmp_path)


def panel(dashboard: dict, title: str, slo: str) -> dict:
    return next(p for p in all_panels(dashboard) if p["title"] == title and f'slo="{slo}"' in exprs_of(p))


def test_budget_colours_follow_the_budget_policy():
    checkout = board(CASES["shop"], "checkout")
    steps = panel(checkout, "Error budget remaining", "availability")["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps == [{"color": "red", "value": None}, {"color": "orange", "value": 0.0},
                     {"color": "yellow", "value": 0.25}, {"color": "green", "value": 0.5}]
    burndown = panel(checkout, "Error budget burn-down (30d)", "availability")
    assert burndown["fieldConfig"]["defaults"]["thresholds"]["steps"] == steps and burndown["timeFrom"] == "30d"


def test_budget_colours_use_the_policys_own_levels(tmp_path: Path):
    (tmp_path / "p.relc").write_text(
        'budget_policy two {\n  threshold { remaining = 40%  actions = ["a"] }\n'
        '  threshold { remaining = 10%  actions = ["b"] }\n}\n'
        "service s {\n  slo x { objective = 99%  budget_policy = two  sli events { bad = e_total  total = r_total } }\n"
        "  slo y { objective = 99%  sli events { bad = e_total  total = r_total } }\n}\n")
    dashboard = board(tmp_path / "p.relc", "s")
    def colours(slo: str) -> list:
        stat = panel(dashboard, "Error budget remaining", slo)
        return [(s["value"], s["color"]) for s in stat["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert colours("x") == [(None, "red"), (0.1, "orange"), (0.4, "green")]
    assert colours("y") == [(None, "red"), (0.0, "orange"), (0.25, "yellow"), (0.5, "green")]  # defaults


def test_one_burn_rate_panel_per_tier_with_its_threshold():
    checkout = board(CASES["shop"], "checkout")
    tiers = {p["title"]: p for p in all_panels(checkout) if p["title"].startswith("Burn rate: ")
             and 'slo="availability"' in exprs_of(p)}
    assert sorted(tiers) == ["Burn rate: page-fast (1h/5m > 14.4x)", "Burn rate: page-slow (6h/30m > 6x)",
                             "Burn rate: ticket-fast (1d/2h > 3x)", "Burn rate: ticket-slow (3d/6h > 1x)"]
    fast = tiers["Burn rate: page-fast (1h/5m > 14.4x)"]
    assert fast["fieldConfig"]["defaults"]["thresholds"]["steps"][-1] == {"color": "red", "value": 14.4}
    assert fast["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "dashed"}
    assert [selectors(t["expr"])[0][0] for t in fast["targets"]] == ["relc_slo:error_ratio:rate1h",
                                                                     "relc_slo:error_ratio:rate5m"]


def test_slo_without_alerts_gets_period_burn_and_no_alert_panel():
    search = board(CASES["sli_kinds"], "search")
    raw = [p for p in all_panels(search) if 'slo="raw-events"' in exprs_of(p)]
    assert "Burn rate (no alert tiers)" in [p["title"] for p in raw]
    assert not [p for p in raw if p["type"] == "state-timeline"]


def test_runbook_links(tmp_path: Path):
    checkout = board(CASES["shop"], "checkout", Options(runbook_base_url="https://rb.example/x"))
    text = next(p for p in all_panels(checkout) if p["type"] == "text")  # availability's, the first SLO
    assert 'href="https://rb.example/x/checkout/availability.md"' in text["options"]["content"]
    assert text["links"][0]["url"] == "https://rb.example/x/checkout/availability.md"
    (tmp_path / "r.relc").write_text('runbook own { url = "https://wiki.example/own?a=$b" }\nservice s {\n'
                                     '  slo x { objective = 99%  runbook = own  sli events { bad = e_total  '
                                     'total = r_total } }\n}\n')
    own = next(p for p in all_panels(board(tmp_path / "r.relc", "s")) if p["type"] == "text")
    assert own["links"][0]["url"] == "https://wiki.example/own?a=%24b"  # `$b` would be a Grafana variable
    no_base = next(p for p in all_panels(board(CASES["shop"], "catalog")) if p["type"] == "text")
    assert no_base["links"] == []
    assert "<p>Runbook: <code>catalog/availability.md</code>" in no_base["options"]["content"]


HOSTILE = r'''
runbook evil {
  summary = "<script>alert(1)</script> ${__user.login} $slo [[slo]] **bold**"
  url = "https://x.example/$slo"
  step "<img src=x onerror=alert(1)>" { command = "echo ${datasource} && rm -rf /" }
  links = { "<b>t</b> $slo" = "https://y.example/[[slo]]" }
}
service s {
  description = "</script>\"quote\" ${slo}"
  slo x {
    description = "<i>desc</i> $datasource ${__org.name}"
    objective = 99%
    runbook = evil
    sli events { bad = e_total  total = r_total }
  }
}
'''


def test_source_text_cannot_inject_markup_or_grafana_variables(tmp_path: Path):
    (tmp_path / "evil.relc").write_text(HOSTILE)
    evil = board(tmp_path / "evil.relc", "s")
    assert evil["description"] == '</script>"quote" ${slo}'  # JSON carries it exactly, json.dumps escapes it
    content = next(p for p in all_panels(evil) if p["type"] == "text")["options"]["content"]
    for fragment in ("<script", "<img", "<i>", "<b>t", "$", "[["):
        assert fragment not in content, fragment
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#36;{__user.login} &#36;slo &#91;&#91;slo&#93;&#93;" in content
    for p in all_panels(evil):
        assert "$" not in p.get("description", "") and "$" not in p["title"]
        assert all("$" not in link["url"] and "[" not in link["url"] for link in p.get("links", []))


def test_escaping_helpers():
    assert grafana_text.html_text('<a href="x">$v [[w]]</a>') == \
        "&lt;a href=&quot;x&quot;&gt;&#36;v &#91;&#91;w&#93;&#93;&lt;/a&gt;"
    assert grafana_text.markdown_text("*a* [l](u) <b> $x & _y_") == \
        r"\*a\* \[l\]\(u\) \<b\> &#36;x &amp; \_y\_"
    assert grafana_text.link_url("javascript:alert(1)") is None
    assert grafana_text.link_url('https://a.example/"><script>') is None
    assert grafana_text.link_url("https://a.example/${x}") == "https://a.example/%24{x}"


def test_provisioning_points_at_the_json_files():
    files = generate(CASES["shop"])
    provider = yaml.safe_load(files["provisioning/dashboards/relc.yaml"])["providers"][0]
    assert provider["type"] == "file" and provider["folder"] == "SLOs"
    assert provider["options"]["path"] == "/etc/grafana/provisioning/dashboards/relc"
    assert sorted(n for n in files if n.endswith(".json")) == [
        f"provisioning/dashboards/relc/{uid}.json" for uid in
        sorted(["relc--overview", "relc-catalog", "relc-checkout", "relc-orders-worker"])]
    custom = generate(CASES["shop"], Options(settings={"grafana.folder": "Reliability",
                                                       "grafana.provisioning_path": "/var/lib/grafana/relc"}))
    provider = yaml.safe_load(custom["provisioning/dashboards/relc.yaml"])["providers"][0]
    assert provider["folder"] == "Reliability" and provider["options"]["path"] == "/var/lib/grafana/relc"


def test_datasource_variable_and_option():
    for found in dashboards(CASES["shop"], Options(settings={"grafana.datasource_uid": "prom-main"})).values():
        variable = found["templating"]["list"][0]
        assert variable["type"] == "datasource" and variable["query"] == "prometheus"
        assert variable["current"]["value"] == "prom-main"
        for p in all_panels(found):
            for t in p.get("targets", []):
                assert t["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


@pytest.mark.parametrize("setting, message", [
    ("grafana.datasource_uid=my prometheus", "not a Grafana uid"),
    ("grafana.provisioning_path=dashboards", "must be an absolute path"),
    ("grafana.foldr=x", "did you mean `grafana.folder`?"),
])
def test_bad_options_are_diagnostics(setting: str, message: str, tmp_path: Path):
    result = CliRunner().invoke(main, ["build", "examples/shop", "-o", str(tmp_path), "--target", "grafana",
                                       "-O", setting])
    assert result.exit_code == 1 and "RELC403" in result.output and message in result.output


def test_output_is_deterministic_and_canonical_json():
    first, second = generate(CASES["shop"]), generate(CASES["shop"])
    assert first == second
    for name, text in first.items():
        assert text.endswith("\n")
        if name.endswith(".json"):
            assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def json_dumps(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def outcome(dump, value: object) -> object:
    """The text, or the exception type and message."""
    try:
        return dump(value)
    except Exception as error:  # the writer must fail exactly as json.dumps does
        return type(error), str(error)


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_dashboards_are_json_dumps(case: str, tmp_path: Path):
    (tmp_path / "evil.relc").write_text(HOSTILE)
    for path in (CASES[case], tmp_path / "evil.relc"):
        for options in (Options(), Options(runbook_base_url="https://rb.example/$x", settings={
                "grafana.datasource_uid": "p"})):
            services = [s for s in project(path).services if s.slos]
            boards = [grafana.service_dashboard(s, options) for s in services]
            for dashboard in boards + [grafana.overview_dashboard(services, options)]:
                assert grafana.render(dashboard) == json.dumps(dashboard, indent=2, sort_keys=True,
                                                               ensure_ascii=False) + "\n"


def test_targets_verbose_lists_grafana_options():
    output = CliRunner().invoke(main, ["targets", "-v"]).output
    assert "grafana.datasource_uid" in output and "grafana.provisioning_path" in output


@pytest.mark.parametrize("case", ["shop"])  # the default-option builds of every case are in tests/golden/<case>/
def test_golden(case: str, tmp_path: Path, update_golden: bool):
    args = ["build", str(CASES[case].relative_to(ROOT)), "-o", str(tmp_path), "--target", "grafana"]
    if case == "shop":
        args += ["--runbook-base-url", "https://runbooks.shop.example", "-O", "grafana.datasource_uid=prometheus"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    compare_tree(ROOT / "tests" / "golden" / "grafana" / case, tmp_path / "grafana", update_golden)


def test_every_slo_with_events_shows_its_traffic_and_a_latency_slo_its_percentiles(tmp_path: Path):
    (tmp_path / "a.relc").write_text("""\
service a {
  slo events { objective = 99%  sli events { bad = e_total  total = t_total } }
  slo fast { objective = 99%  sli latency { histogram = d_seconds{job="a"}  threshold = 250ms } }
  slo raw { objective = 99%  sli raw { error_ratio = r#"sum(rate(e[$window])) / sum(rate(t[$window]))"# } }
}
""")
    panels = all_panels(board(tmp_path, "a"))
    titles = {slo: [p["title"] for p in panels if f'slo="{slo}"' in exprs_of(p) or
                    (slo == "fast" and "d_seconds_bucket" in exprs_of(p))] for slo in ("events", "fast", "raw")}
    assert "Traffic (events per second, 5m)" in titles["events"] and "Latency percentiles" not in titles["events"]
    assert {"Traffic (events per second, 5m)", "Latency percentiles"} <= set(titles["fast"])
    assert not {"Traffic (events per second, 5m)", "Latency percentiles"} & set(titles["raw"])
    latency = next(p for p in panels if p["title"] == "Latency percentiles")
    assert [t["legendFormat"] for t in latency["targets"]] == ["p50", "p90", "p99"]
    assert latency["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"] == 0.25
    for expr in (t["expr"] for t in latency["targets"]):
        promql_parser.parse(expr.replace("$__rate_interval", "1m"))


def test_panel_titles_show_numbers_for_people(tmp_path: Path):
    (tmp_path / "a.relc").write_text("""\
alert_policy odd { tier t { severity = "page"  burn_rate = 2.123456789  long = 1h  short = 5m } }
service a { slo x { objective = 99%  alert_policy = odd  sli events { bad = e_total  total = t_total } } }
""")
    titles = [p["title"] for p in all_panels(board(tmp_path, "a"))]
    assert "Burn rate: t (1h/5m > 2.123x)" in titles
