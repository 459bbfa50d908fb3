"""relc reads every ServiceLevelObjective Pyrra ships, and its alerts fire when Pyrra's would.

Pyrra cannot run here (a Go operator), so the comparison is with Pyrra-shaped reference rules written below from
Pyrra's documented rule shape: an error ratio per window straight from the source series (`sum by (grouping)`),
and per tier `short > factor * (1 - target) and long > factor * (1 - target)` held for `for`. The reference is
first checked against the rule group Pyrra's own test expects (tests/pyrra_compat/expected-http-ratio.yaml).
Then, per example, one `promtool test rules` run loads relc's rules and the reference together, feeds both the
same synthetic traffic (a burn, then recovery) and asserts at every evaluation, per tier (Pyrra's `long` label):
whenever one side fires, the other fires within one evaluation for windows read straight from the source, and
within 5m plus one evaluation for relc's windows of a day or more, which it sums from its recorded 5m rates; and
each tier that the burn must trip does fire on both sides, so no comparison passes vacuously.
"""
from __future__ import annotations

import math
import re
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, require_tool
from relc.compiler.pipeline import compile_paths

DATA = ROOT / "tests" / "pyrra_compat"
EXAMPLES = sorted((DATA / "examples").glob("*.yaml"))
# Pyrra's tiers as its documentation gives them for a 28d window: (factor, severity, long, short, for) / 28d
TIERS = ((14, "critical", 672, 8064, 20160), (7, "critical", 112, 1344, 2688), (2, "warning", 28, 336, 672),
         (1, "warning", 7, 112, 224))
STEP_S = 60
EVAL_S = 300


def _minute(seconds: Decimal) -> int:
    return int((seconds / 60).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 60


def _d(seconds: int) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _sorted_selector(text: str) -> str:
    """A selector with its matchers sorted by name, as Pyrra prints them."""
    m = re.fullmatch(r"([A-Za-z_:][A-Za-z0-9_:]*)\{(.*)\}", text.strip())
    if m is None:
        return text.strip()
    matchers = re.findall(r'[A-Za-z_][A-Za-z0-9_]*(?:=~|!~|!=|=)"(?:[^"\\]|\\.)*"', m[2])
    return f"{m[1]}{{{','.join(sorted(matchers))}}}"


def reference(spec: dict) -> tuple[list[dict], list[dict]]:
    """Pyrra-shaped recording and alerting rules for one ServiceLevelObjective (see the module docstring)."""
    s = spec["spec"]
    target = Decimal(str(s["target"])) / 100
    window = int(Decimal(_seconds(s["window"])))
    kind, ind = next(iter(s["indicator"].items()))
    by = f" by ({', '.join(sorted(ind['grouping']))})" if ind.get("grouping") else ""

    def ratio(w: str) -> str:
        if kind == "bool_gauge":  # the share of samples that are not 1
            count = f"sum{by}(count_over_time({_sorted_selector(ind['metric'])}[{w}]))"
            return f"({count} - sum{by}(sum_over_time({_sorted_selector(ind['metric'])}[{w}]))) / {count}"
        total = f"sum{by}(rate({_sorted_selector(ind['total']['metric'])}[{w}]))"
        if kind == "ratio":
            return f"sum{by}(rate({_sorted_selector(ind['errors']['metric'])}[{w}])) / {total}"
        return f"({total} - sum{by}(rate({_sorted_selector(ind['success']['metric'])}[{w}]))) / {total}"

    tiers = [(f, sev, _minute(Decimal(window) / lo), _minute(Decimal(window) / sh), _minute(Decimal(window) / fo))
             for f, sev, lo, sh, fo in TIERS]
    windows = sorted({w for _, _, lo, sh, _ in tiers for w in (lo, sh)})
    records = [{"record": f"pyrra_ref:burnrate{_d(w)}", "expr": ratio(_d(w))} for w in windows]
    threshold = lambda f: f"({f} * (1-{target}))"  # noqa: E731
    alerts = [{"alert": "PyrraReference", "for": _d(fo), "labels": {"severity": sev, "long": _d(lo), "short": _d(sh)},
               "expr": f"pyrra_ref:burnrate{_d(sh)} > {threshold(f)} and pyrra_ref:burnrate{_d(lo)} > {threshold(f)}"}
              for f, sev, lo, sh, fo in tiers]
    return records, alerts


def _seconds(text: str) -> int:
    from relc.compiler.units import parse_duration_ms

    return int(parse_duration_ms(text) // 1000)


def test_reference_rules_are_the_ones_pyrras_own_test_expects():
    expected = yaml.safe_load((DATA / "expected-http-ratio.yaml").read_text())
    o = expected["objective"]
    spec = {"spec": {"target": o["target"], "window": o["window"],
                     "indicator": {"ratio": {"errors": {"metric": o["errors"]}, "total": {"metric": o["total"]}}}}}
    records, alerts = reference(spec)
    assert {r["record"].removeprefix("pyrra_ref:burnrate"): r["expr"] for r in records} == expected["burnrates"]
    assert [(a["for"], a["labels"]["short"], a["labels"]["long"], a["labels"]["severity"]) for a in alerts] == [
        (e["for"], e["short"], e["long"], e["severity"]) for e in expected["alerts"]]
    assert all(f"({e['factor']} * (1-0.99))" in a["expr"] for a, e in zip(alerts, expected["alerts"]))


def test_every_pyrra_example_compiles_and_its_rules_pass_promtool(tmp_path: Path):
    """All 42 distinct example files (43 objectives) build; the only findings are tiers no error rate can reach
    and the `service` grouping label kept as `exported_service`."""
    assert len(EXAMPLES) == 42
    result = compile_paths([str(DATA / "examples")])
    assert result.ok, [d for d in result.diagnostics if d.is_error]
    assert len(result.project.slos()) == 43
    assert {d.code for d in result.diagnostics} <= {"RELC311", "RELC312"}
    promtool = require_tool("promtool")
    proc = subprocess.run(["relc", "build", str(DATA / "examples"), "-o", str(tmp_path), "-t", "prometheus"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    files = sorted((tmp_path / "prometheus").glob("*.rules.yml"))
    check = subprocess.run([promtool, "check", "rules", *map(str, files)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


# Every example relc's synthetic traffic can drive: ratio and latency indicators (not the native histogram,
# which promtool 2.42 cannot feed; the bool gauge has a test of its own below).
PARITY = [(p.name, i) for p in EXAMPLES for i, doc in enumerate(d for d in yaml.safe_load_all(p.read_text()) if d)
          if not {"latencyNative", "bool_gauge"} & set(doc["spec"]["indicator"])]


@pytest.mark.parametrize("name, index", PARITY, ids=[f"{n}#{i}" for n, i in PARITY])
def test_alerts_fire_when_pyrras_would(tmp_path: Path, name: str, index: int):
    from relc.targets.prometheus.proofs import grouped
    from relc.targets.prometheus.synthetic import Run, source_series

    spec, service, slo = _objective(name, index)
    budget = 1 - slo.objective
    n = max(1000, 10 ** math.ceil(math.log10(200 / budget)))   # events per step: bad ones in whole numbers
    bad = max(1, round(min(15.0, 0.9 / budget) * budget * n))  # the fastest reachable tier trips
    run = Run(n, ((0, ERROR_S, bad),), EVAL_S, END_S, slo.sli.kind != "events" or slo.sli.bad is None,
              budget, STEP_S)
    series = [{"series": s.text(), "values": run.values(s.role)}
              for s in grouped(source_series(slo.sli), slo.group_by)]
    _compare(tmp_path, spec, service, slo, series, bad / n / budget)


def test_bool_gauge_alerts_fire_when_pyrras_would(tmp_path: Path):
    """Pyrra's probe example: 100 probes of one target, 15 of them failing for 8h (a 15x burn at 99%)."""
    spec, service, slo = _objective("prometheus-probe-success.yaml", 0)
    steps = END_S // STEP_S
    failing = ERROR_S // STEP_S
    series = [{"series": f'probe_success{{target="shop",instance="probe-{i}"}}',
               "values": f"0x{failing} 1x{steps - failing}" if i < 15 else f"1x{steps}"} for i in range(100)]
    _compare(tmp_path, spec, service, slo, series, 15.0)


ERROR_S, END_S = 8 * 3600, 20 * 3600   # errors for 8h, then recovery


def _objective(name: str, index: int):
    path = DATA / "examples" / name
    spec = [d for d in yaml.safe_load_all(path.read_text()) if d][index]
    project = compile_paths([str(path)]).project
    service, slo = next((s, o) for s in project.services for o in s.slos if o.name == spec["metadata"]["name"])
    return spec, service, slo


def _compare(tmp_path: Path, spec: dict, service, slo, series: list[dict], burn: float) -> None:
    """relc's rules and the reference on the same series: firing agrees per tier, and the tiers the burn trips
    fire on both sides."""
    promtool = require_tool("promtool")
    from relc.targets import Options
    from relc.targets.prometheus import render_service

    (tmp_path / "relc.yml").write_text(render_service(service, Options()))
    records, alerts = reference(spec)
    (tmp_path / "pyrra.yml").write_text(yaml.safe_dump({"groups": [
        {"name": "pyrra-reference", "rules": records + alerts}]}, sort_keys=False))
    checks = []
    relc_alert = f'ALERTS{{alertname="{slo.alert_name}",alertstate="firing",slo="{slo.name}",long="%s"}}'
    ref_alert = 'ALERTS{alertname="PyrraReference",alertstate="firing",long="%s"}'
    reachable = {t.labels["long"]: t for t in slo.alert_policy.tiers}
    for alert in alerts:
        long = alert["labels"]["long"]
        if long not in reachable:
            continue
        tier = reachable[long]
        tol = EVAL_S + (300 if tier.long_window_s >= 86400 or tier.short_window_s >= 86400 else 0)
        a, b = relc_alert % long, ref_alert % long
        for t in range(tol, END_S - tol + 1, EVAL_S):
            for one, other in ((a, b), (b, a)):  # one firing at t-tol means the other fired within tol of it
                checks.append({"expr": f"(count({one} offset {tol}s) or vector(0)) <= bool "
                                       f"(count(max_over_time({other}[{2 * tol}s])) or vector(0))",
                               "eval_time": f"{t}s", "exp_samples": [{"labels": "{}", "value": 1}]})
        if burn > alert_factor(alert):   # the burn is above this tier's factor: both sides must fire
            for sel in (a, b):
                checks.append({"expr": f"count(count_over_time({sel}[{END_S}s])) > bool 0", "eval_time": f"{END_S}s",
                               "exp_samples": [{"labels": "{}", "value": 1}]})
    test = {"rule_files": ["relc.yml", "pyrra.yml"], "evaluation_interval": f"{EVAL_S}s",
            "tests": [{"interval": f"{STEP_S}s", "promql_expr_test": checks, "input_series": series}]}
    (tmp_path / "parity.test.yml").write_text(yaml.safe_dump(test, sort_keys=False))
    proc = subprocess.run([promtool, "test", "rules", "parity.test.yml"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]


def alert_factor(alert: dict) -> float:
    return float(re.search(r"> \((\d+) \*", alert["expr"])[1])
