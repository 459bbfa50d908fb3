"""The rules over history they did not write: a short history after deployment, and series an earlier label set
recorded. promtool evaluates the generated rules (it fails a test on any rule evaluation error)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import promql_parser
import pytest
import yaml

from conftest import firing, promtool_unit

SPEC = """\
service svc {
  labels = { domain = "%(domain)s" }
  slo avail {
    objective = 99.9%%
    budget_policy = steps
    sli events {
      bad = http_requests_total{job="svc", code="500"}
      total = http_requests_total{job="svc"}
    }
  }
}

budget_policy steps {
  threshold { remaining = 50%%  actions = ["Review"] }
  threshold { remaining = 0%%  actions = ["Freeze"]  severity = "page" }
}
"""
ALERT = "SvcAvailBudgetBurn"
PER_MINUTE = 600  # 10 requests a second


def rules_for(tmp_path: Path, domain: str = "shop") -> Path:
    source = tmp_path / f"src-{domain}"
    source.mkdir()
    (source / "svc.relc").write_text(SPEC % {"domain": domain})
    out = tmp_path / f"out-{domain}"
    proc = subprocess.run(["relc", "build", str(source), "-o", str(out), "--target", "prometheus"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return out / "prometheus" / "svc.rules.yml"


def counters(minutes: int, failing: range) -> list[dict]:
    """Requests at a steady rate for `minutes`; every request fails during the minutes in `failing`."""
    ok, bad, ok_values, bad_values = 0, 0, [], []
    for minute in range(minutes + 1):
        ok_values.append(str(ok))
        bad_values.append(str(bad))
        if minute in failing:
            bad += PER_MINUTE
        else:
            ok += PER_MINUTE
    return [{"series": 'http_requests_total{job="svc",code="200"}', "values": " ".join(ok_values)},
            {"series": 'http_requests_total{job="svc",code="500"}', "values": " ".join(bad_values)}]


def budget_alert(minute: int, level: str, expected: bool) -> dict:
    return firing(f"{ALERT}ErrorBudget", f"budget-{level}", minute, expected)


def test_a_blip_in_the_first_hours_is_not_read_as_the_whole_budget(tmp_path: Path):
    """6h of history, one minute of 100% errors: over a real 30d window that minute is 2.3% of the budget."""
    rules = rules_for(tmp_path)
    series = counters(360, range(120, 121))
    remaining = 'relc_slo:error_budget_remaining:ratio{service="svc",slo="avail",domain="shop"}'
    checks = [budget_alert(m, level, False) for m in (125, 200, 360) for level in ("50pct", "exhausted")]
    expected = _remaining_after(360, 1)
    assert 0.97 < expected < 0.98  # the 2.3% of a real 30 days, give or take the 5m rates' edges
    checks.append({"expr": f"round({remaining} * 10000)", "eval_time": "360m",
                   "exp_samples": [{"labels": "{" + remaining.split("{")[1],
                                    "value": round(expected * 10000)}]})
    coverage = 'relc_slo:window_coverage:ratio{service="svc",slo="avail",domain="shop"}'
    checks.append({"expr": f"round({coverage} * 43200)", "eval_time": "360m",
                   "exp_samples": [{"labels": "{" + coverage.split("{")[1], "value": 359}]})
    promtool_unit(rules, series, checks, tmp_path)


def _remaining_after(minutes: int, failed_minutes: int) -> float:
    """What the rules compute: 5m rates recorded each minute from the first with two samples (minute 1), summed,
    times the share of the 30d window since then."""
    bad = failed_minutes * PER_MINUTE / 300 * 5              # each failed minute shows in five 5m rates
    total = sum(min(m, 5) * PER_MINUTE / 300 for m in range(1, minutes + 1))
    return 1 - bad / total / 0.001 * (minutes - 1) / 43200


def test_errors_that_spend_the_budget_still_alert_before_the_window_is_covered(tmp_path: Path):
    """50 minutes of 100% errors are more than a 30d budget of 43m12s at this traffic: exhausted, at once."""
    rules = rules_for(tmp_path)
    series = counters(360, range(200, 250))
    checks = [budget_alert(190, "exhausted", False), budget_alert(260, "exhausted", True),
              budget_alert(360, "exhausted", True)]
    promtool_unit(rules, series, checks, tmp_path)


def test_series_an_earlier_label_set_recorded_break_no_rule(tmp_path: Path):
    """After a restart with new labels the old recorded series linger for the lookback and stay in every range:
    no rule may meet them in a vector match (promtool fails on any evaluation error), and the history counts."""
    rules = rules_for(tmp_path, domain="store")
    old = 'service="svc",slo="avail",domain="shop"'
    minutes = 120
    series = counters(minutes, range(0, minutes))  # everything fails, so every tier burns at 1000x
    for name, value in (("bad_events", 10), ("total_events", 10), ("error_ratio", 1)):
        series.append({"series": f"relc_slo:{name}:rate5m{{{old}}}", "values": f"{value}x{minutes}"})
    series.append({"series": f"relc_slo:data_since:timestamp{{{old}}}", "values": f"-86400x{minutes}"})
    checks = [firing(ALERT, tier, 60, True) for tier in ("page-fast", "page-slow", "ticket-fast", "ticket-slow")]
    new = 'relc_slo:error_ratio:rate1d{service="svc",slo="avail",domain="store"}'
    checks.append({"expr": new, "eval_time": "60m", "exp_samples": [{"labels": new, "value": 1}]})
    coverage = 'relc_slo:window_coverage:ratio{service="svc",slo="avail",domain="store"}'
    checks.append({"expr": coverage, "eval_time": "60m",  # the old series' start carries over
                   "exp_samples": [{"labels": coverage, "value": (86400 + 3600) / (30 * 86400)}]})
    promtool_unit(rules, series, checks, tmp_path)


def test_every_alert_reads_recorded_series_and_carries_the_same_label_names(tmp_path: Path):
    """The guard and the tiers read what the rules record (the source is read once per window, by the recording
    rules), and every alert of the SLO has the same label names, the no-data alert included."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "svc.relc").write_text((SPEC % {"domain": "shop"}).replace(
        "budget_policy = steps", "budget_policy = steps\n    min_events = 100\n    no_data_after = 10m"))
    out = tmp_path / "out"
    subprocess.run(["relc", "build", str(source), "-o", str(out), "--target", "prometheus"], check=True,
                   capture_output=True)
    rules = yaml.safe_load((out / "prometheus" / "svc.rules.yml").read_text())["groups"][0]["rules"]
    alerts = [r for r in rules if "alert" in r]
    assert len(alerts) == 4 + 1 + 2
    for alert in alerts:
        names = _selected_names(alert["expr"])
        if alert["alert"].endswith("NoData"):
            assert alert["expr"].startswith("sum(absent("), alert["expr"]
        else:
            assert names and all(n.startswith("relc_slo:") for n in names), alert["expr"]
    assert len({tuple(sorted(a["labels"])) for a in alerts}) == 1


def test_the_no_data_alert_has_no_labels_of_its_own(tmp_path: Path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "svc.relc").write_text((SPEC % {"domain": "shop"}).replace(
        "budget_policy = steps", "no_data_after = 10m"))
    out = tmp_path / "out"
    subprocess.run(["relc", "build", str(source), "-o", str(out), "--target", "prometheus"], check=True,
                   capture_output=True)
    series = [{"series": 'other_metric{job="x"}', "values": "1x30"}]
    labels = 'alertname="SvcAvailBudgetBurnNoData",alertstate="firing",severity="ticket",service="svc",' \
             'slo="avail",alert_tier="no-data",domain="shop"'
    checks = [{"expr": "ALERTS", "eval_time": "20m", "exp_samples": [{"labels": "ALERTS{" + labels + "}",
                                                                       "value": 1}]}]
    promtool_unit(out / "prometheus" / "svc.rules.yml", series, checks, tmp_path)


def _selected_names(expr: str) -> list[str]:
    found: list[str] = []
    promql_parser.walk(promql_parser.parse(expr), lambda n: found.append(n.name)
                       if isinstance(n, promql_parser.VectorSelector) else None)
    return found


@pytest.mark.parametrize("owner, recorded", [("team-a", "team-a"), (None, None)])
def test_the_info_series_has_an_owner_only_when_one_is_set(tmp_path: Path, owner, recorded):
    source = tmp_path / "src"
    source.mkdir()
    text = SPEC % {"domain": "shop"}
    if owner:
        text = text.replace("service svc {", f'service svc {{\n  owner = "{owner}"')
    (source / "svc.relc").write_text(text)
    out = tmp_path / "out"
    subprocess.run(["relc", "build", str(source), "-o", str(out), "--target", "prometheus"], check=True,
                   capture_output=True)
    rules = yaml.safe_load((out / "prometheus" / "svc.rules.yml").read_text())["groups"][0]["rules"]
    info = next(r for r in rules if r.get("record") == "relc_slo_info")
    assert info["labels"].get("owner") == recorded
