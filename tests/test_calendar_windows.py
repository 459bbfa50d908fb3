"""Calendar windows: `window = calendar week|month|quarter` with a `timezone`, from the parser to the rules.

The zone arithmetic the rules carry is checked against Python's zoneinfo on a real Prometheus, around every
period start and offset change of a year; the generated proof shows the budget resetting at the boundary and
fails when the rules stop keeping to the current period.
"""
from __future__ import annotations

import json
import subprocess
import urllib.parse
import urllib.request
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from conftest import build_source, require_tool
from relc.compiler.live.periods import calendar as named_period
from relc.compiler.pipeline import compile_paths
from relc.compiler.syntax import parser
from relc.targets.shared import promql_calendar as pc

SOURCE = """\
service billing {
  slo monthly {
    objective = 99.9%
    window = calendar month
    timezone = "Europe/Berlin"
    sli events {
      bad = http_requests_total{job="billing", code="500"}
      total = http_requests_total{job="billing"}
    }
  }
  slo weekly {
    objective = 99%
    window = calendar week
    timezone = "America/New_York"
    sli events {
      bad = http_requests_total{job="billing", code="500"}
      total = http_requests_total{job="billing"}
    }
  }
  slo quarterly {
    objective = 99.5%
    window = calendar quarter
    sli events {
      bad = http_requests_total{job="billing", code="500"}
      total = http_requests_total{job="billing"}
    }
  }
}
"""


def compile_files(files: list[tuple[str, str]]):
    """Compile files written to a fresh directory, as `relc check DIR` would."""
    import tempfile

    with tempfile.TemporaryDirectory() as root:
        for name, text in files:
            (Path(root) / name).write_text(text)
        return compile_paths([root])


def one_slo(window: str, extra: str = "") -> str:
    return (f"service s {{\n  slo a {{\n    objective = 99.9%\n    window = {window}\n{extra}"
            "    sli events {\n      bad = e_total\n      total = r_total\n    }\n  }\n}\n")


def test_calendar_stays_an_ordinary_name_outside_a_window_value():
    text = ("service calendar {\n  slo calendar {\n    objective = 99%\n    alert_policy = calendar\n"
            "    window = calendar month\n    sli events { bad = e_total  total = r_total }\n  }\n}\n"
            "alert_policy calendar {\n  tier t { severity = \"page\"  burn_rate = 14.4  long = 1h  short = 5m }\n}\n")
    fast, _ = parser.parse("a.relc", text)
    slow, _ = parser._parse_with_lark("a.relc", text)
    assert fast == slow
    attrs = {a.key: a.value for a in fast.items[0].items[0].items if hasattr(a, "key")}
    assert (attrs["alert_policy"].kind, attrs["window"].kind, attrs["window"].data) == ("ref", "calendar", "month")
    project = compile_files([("a.relc", text)]).project
    assert project.services[0].slos[0].calendar == "month"


def test_fmt_keeps_the_calendar_window(tmp_path: Path):
    path = tmp_path / "a.relc"
    path.write_text(one_slo("calendar    quarter", '    timezone = "Asia/Kolkata"\n'))
    proc = subprocess.run(["relc", "fmt", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "    window = calendar quarter\n" in path.read_text()


def test_offsets_match_zoneinfo_inside_the_covered_years():
    for zone in ("Europe/Berlin", "America/Santiago", "Australia/Lord_Howe", "Asia/Kathmandu", "Africa/Casablanca"):
        tz = ZoneInfo(zone)
        t = int(datetime(pc.FIRST_YEAR, 1, 1, tzinfo=timezone.utc).timestamp())
        end = int(datetime(pc.LAST_YEAR, 1, 1, tzinfo=timezone.utc).timestamp())
        while t < end:  # every 7h 13m: every hour of the day and day of the week over the years
            assert pc.offset_at(zone, t) == datetime.fromtimestamp(t, tz).utcoffset().total_seconds(), (zone, t)
            t += 7 * 3600 + 13 * 60
        for at, _ in pc.transitions(zone)[1]:
            for s in (at - 1, at):
                assert pc.offset_at(zone, s) == datetime.fromtimestamp(s, tz).utcoffset().total_seconds()


def _zoneinfo_period(calendar: str, zone: str, t: float) -> tuple[float, float, float]:
    """Seconds into the period and its length, on the zone's wall clock, and its start: from zoneinfo alone."""
    local = datetime.fromtimestamp(t, ZoneInfo(zone or "UTC"))
    day = local.date()
    if calendar == "week":
        first = day - timedelta(days=day.weekday())
        after = first + timedelta(days=7)
    elif calendar == "month":
        first, after = day.replace(day=1), (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    else:
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        after = (first + timedelta(days=93)).replace(day=1)
    wall = local.replace(tzinfo=None)
    into = (wall - datetime(first.year, first.month, first.day)).total_seconds()
    start = datetime(first.year, first.month, first.day, tzinfo=ZoneInfo(zone or "UTC")).timestamp()
    return into, (after - first).days * 86400.0, start


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    require_tool("prometheus")
    from promserver import PrometheusServer

    with PrometheusServer(tmp_path_factory.mktemp("calendar")) as server:
        yield server


def _range(server, expr: str, start: float, end: float, step: int) -> dict[float, float]:
    query = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{server.url}/api/v1/query_range?{query}", timeout=60) as resp:
        result = json.load(resp)["data"]["result"]
    return {float(t): float(v) for t, v in result[0]["values"]} if result else {}


@pytest.mark.parametrize("zone", ["", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                                  "Asia/Kathmandu"])
def test_period_arithmetic_in_promql_matches_zoneinfo(prometheus, zone: str):
    """Elapsed, length and period number, evaluated by Prometheus 15 minutes before, at and after every period
    start and offset change of 2027 (and the new year), equal what zoneinfo says."""
    clock = f"vector({pc.local_time(zone)})"
    year = (datetime(2027, 1, 1, tzinfo=timezone.utc).timestamp(), datetime(2028, 1, 2, tzinfo=timezone.utc).timestamp())
    checked = 0
    for calendar in ("week", "month", "quarter"):
        edges = {at for at, _ in pc.transitions(zone)[1] if year[0] <= at < year[1]}
        t = year[0]
        while t < year[1]:
            edges.add(_zoneinfo_period(calendar, zone, t)[2])
            t = _zoneinfo_period(calendar, zone, t)[2] + _zoneinfo_period(calendar, zone, t)[1] + 7200
        exprs = " or ".join(f'label_replace({e}, "q", "{name}", "", "")' for name, e in (
            ("elapsed", pc.elapsed_s(calendar, clock)), ("length", pc.length_s(calendar, clock)),
            ("key", pc.period_key(calendar, clock))))
        for edge in sorted(edges):
            got: dict = {}
            query = urllib.parse.urlencode({"query": exprs, "start": edge - 900, "end": edge + 900, "step": 900})
            with urllib.request.urlopen(f"{prometheus.url}/api/v1/query_range?{query}", timeout=60) as resp:
                for series in json.load(resp)["data"]["result"]:
                    got[series["metric"]["q"]] = {float(a): float(b) for a, b in series["values"]}
            keys = {}
            for t in sorted(got["elapsed"]):
                into, length, start = _zoneinfo_period(calendar, zone, t)
                assert (got["elapsed"][t], got["length"][t]) == (into, length), (calendar, zone, t)
                keys.setdefault(start, set()).add(got["key"][t])
                checked += 1
            assert all(len(k) == 1 for k in keys.values()) and len({next(iter(k)) for k in keys.values()}) == len(keys)
    assert checked > 200


def test_rules_pass_promtool_and_the_reset_proof_passes(tmp_path: Path):
    promtool = require_tool("promtool")
    out = build_source(tmp_path, SOURCE, "prometheus")
    subprocess.run(["relc", "build", str(tmp_path / "src"), "-o", str(out), "-t", "prometheus",
                    "-O", "prometheus.tests=true"], check=True, capture_output=True)
    rules = out / "prometheus" / "billing.rules.yml"
    assert subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True).returncode == 0
    groups = yaml.safe_load(rules.read_text())["groups"]
    assert groups[0]["name"] == "relc-billing-calendar"
    zones = {r["labels"]["timezone"] for r in groups[0]["rules"] if r["record"] == pc_clock()}
    assert zones == {"UTC", "Europe/Berlin", "America/New_York"}
    proofs = sorted((out / "prometheus" / "tests").glob("*calendar-reset*.yml"))
    assert [p.name for p in proofs] == [f"billing-{n}-calendar-reset.test.yml" for n in ("monthly", "quarterly",
                                                                                          "weekly")]
    proc = subprocess.run([promtool, "test", "rules", *map(str, proofs)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The proof can fail: a period ratio that ignores the phase sums the last 32 days, last month's errors too.
    rules.write_text(rules.read_text().replace(" and on(relc_period) ", " and on() "))
    broken = subprocess.run([promtool, "test", "rules", str(proofs[0])], capture_output=True, text=True)
    assert broken.returncode != 0
    failed = broken.stdout + broken.stderr
    assert "- 0.0) <= 1e-12)\", time: 31d," in failed and "- 1.0) <= 1e-09)\", time: 31d," in failed, failed


def pc_clock() -> str:
    from relc.targets.prometheus.calendar import CLOCK

    return CLOCK


def test_report_periods_line_up_with_the_slo_zone():
    berlin = named_period("2026-11", "Europe/Berlin")
    assert (berlin.start, berlin.end) == (datetime(2026, 10, 31, 23, tzinfo=timezone.utc).timestamp(),
                                          datetime(2026, 11, 30, 23, tzinfo=timezone.utc).timestamp())
    week = named_period("2026-W44", "America/New_York")   # Monday 26 October, before the US clocks change
    assert week.start == datetime(2026, 10, 26, 4, tzinfo=timezone.utc).timestamp()
    assert week.end - week.start == 7 * 86400 + 3600       # the week the clocks go back is an hour longer
    from relc.compiler.live.report import _bounds

    project = compile_files([("a.relc", SOURCE)]).project
    monthly, weekly, quarterly = project.slos()
    utc = named_period("2026-11")
    assert _bounds(monthly, utc, now=2e9)[:2] == (berlin.start, berlin.end)
    assert _bounds(quarterly, utc, now=2e9) == (utc.start, utc.end, None)   # UTC: the report's own period


def test_openslo_calendar_windows_round_trip(tmp_path: Path):
    out = build_source(tmp_path, SOURCE, "openslo")
    document = (out / "openslo" / "billing.openslo.yaml").read_text()
    slos = [d for d in yaml.safe_load_all(document) if d and d.get("kind") == "SLO"]
    assert [s["spec"]["timeWindow"][0] for s in slos][:2] == [
        {"duration": "1M", "isRolling": False, "calendar": {"startTime": "2024-01-01 00:00:00",
                                                           "timeZone": "Europe/Berlin"}},
        {"duration": "1w", "isRolling": False, "calendar": {"startTime": "2024-01-01 00:00:00",
                                                           "timeZone": "America/New_York"}}]
    back = compile_files([("billing.openslo.yaml", document)])
    assert back.ok, back.diagnostics
    assert [(s.calendar, s.timezone) for s in back.project.slos()] == [
        ("month", "Europe/Berlin"), ("week", "America/New_York"), ("quarter", "")]


@pytest.mark.parametrize("window, message, line", [
    ("- duration: 2w\n      isRolling: false", "a calendar window of 2w cannot be compiled", 8),
    ("- duration: 1M\n      isRolling: false\n      calendar: {startTime: 2022-01-15 00:00:00, timeZone: UTC}",
     "calendar months that start at 2022-01-15 00:00:00", 10),
])
def test_openslo_calendar_windows_relc_cannot_follow_are_refused_at_the_field(window, message, line):
    text = ("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  service: s\n  budgetingMethod: "
            "Occurrences\n  timeWindow:\n    " + window + "\n  objectives: [{target: 0.99}]\n  indicator:\n"
            "    metadata: {name: i}\n    spec:\n      ratioMetric:\n        counter: true\n        bad: {metricSource: "
            "{type: Prometheus, spec: {query: e_total}}}\n        total: {metricSource: {type: Prometheus, spec: "
            "{query: r_total}}}\n")
    found = [d for d in compile_files([("slo.yaml", text)]).diagnostics if d.code == "RELC608"]
    assert len(found) == 1 and message in found[0].message and found[0].span.line == line, found


def test_datadog_says_it_rolls_at_the_window(tmp_path: Path):
    (tmp_path / "a.relc").write_text(one_slo("calendar month"))
    proc = subprocess.run(["relc", "build", str(tmp_path / "a.relc"), "-o", str(tmp_path / "out"), "-t", "datadog"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "a.relc:4:5: warning[RELC401]" in proc.stderr and "rolling 30d" in proc.stderr, proc.stderr
    slo = json.loads(next((tmp_path / "out" / "datadog" / "api").glob("*.json")).read_text())
    assert '"timeframe": "30d"' in json.dumps(slo)


def test_gate_reads_the_period_so_far_on_the_zone_clock():
    from relc.compiler.live.budget import _window

    project = compile_files([("a.relc", SOURCE)]).project
    monthly, weekly, _ = project.slos()
    now = datetime(2026, 11, 15, 12, tzinfo=timezone.utc).timestamp()
    start = datetime(2026, 10, 31, 23, tzinfo=timezone.utc).timestamp()
    assert _window(monthly, now) == (int(now - start), 14 * 86400 + 13 * 3600, 30 * 86400)
    # New York's week of 2 November 2026 starts at 05:00Z (clocks went back on the 1st); a minute in, the range
    # is still one 5m rate
    just_after = datetime(2026, 11, 2, 5, 1, tzinfo=timezone.utc).timestamp()
    assert _window(weekly, just_after) == (300, 60, 7 * 86400)
