"""`relc report`, `gate` and `replay` on a real Prometheus over backfilled history with known outages: every figure
is compared with the one the counters imply, computed in tests/live_history.py without PromQL."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT, require_tool
from live_fixtures import LiveInstall, json_out, relc, write_project
from live_history import DAY, STEP

SCHEMA = json.loads((ROOT / "schemas" / "relc-report.schema.json").read_text())
PP = 1e-4  # 0.01 percentage points, as a fraction


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    require_tool("prometheus")
    with LiveInstall(tmp_path_factory.mktemp("live")) as install:
        yield install


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def report(live, *args: str) -> dict:
    proc = relc("report", str(live.good), "--prometheus", live.url, "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    data = json_out(proc)
    jsonschema.validate(data, SCHEMA)
    return data


def by_slo(data: dict) -> dict[str, dict]:
    return {s["slo"]: s for s in data["slos"]}


def test_report_figures_equal_the_counters(live):
    h = live.history
    lo, hi = h.end - 25 * DAY, h.end - 15 * DAY
    slos = by_slo(report(live, "--from", str(lo), "--to", str(hi)))
    availability, latency = slos["availability"], slos["latency"]
    assert availability["source"] == "raw counters (increase over the period)"
    expected = 1 - h.ratio(lo, hi)
    assert abs(availability["attained"] - expected) < PP
    assert abs(availability["events"]["bad"] - (h.at(h.bad, hi) - h.at(h.bad, lo))) < 1
    assert availability["met"] is True
    assert abs(availability["error_budget"]["consumed"] - (1 - expected) / 0.005) < PP / 0.005
    slow = sum(h.slow_rate(t) * STEP for t in range(lo, hi, STEP))
    assert abs(latency["attained"] - (1 - slow / (h.at(h.total, hi) - h.at(h.total, lo)))) < PP
    assert availability["coverage"] == 1.0


def test_worst_day_is_the_outage_day_with_its_ratio(live):
    h = live.history
    lo = (h.end - 25 * DAY) // DAY * DAY  # whole UTC days
    hi = lo + 10 * DAY
    availability = by_slo(report(live, "--from", str(lo), "--to", str(hi)))["availability"]
    outage_day = h.outage_a.start // DAY * DAY
    worst = availability["worst_day"]
    assert worst["date"] == iso(outage_day)[:10]
    assert abs(worst["attained"] - (1 - h.ratio(outage_day, outage_day + DAY))) < PP
    assert len(availability["days"]) == 10


def test_alert_firings_from_ALERTS_with_the_budget_they_burned(live):
    h = live.history
    lo, hi = h.end - 25 * DAY, h.end - 15 * DAY
    (firing,) = by_slo(report(live, "--from", str(lo), "--to", str(hi)))["availability"]["alerts"]
    start, end = h.alert
    assert (firing["start"], firing["end"], firing["tier"], firing["severity"]) == (iso(start), iso(end),
                                                                                    "page-fast", "page")
    allowed = 0.005 * (h.at(h.total, hi) - h.at(h.total, lo))
    assert abs(firing["budget_burned"] - (h.at(h.bad, end) - h.at(h.bad, start)) / allowed) < PP


def test_recorded_series_stand_in_for_raw_ones_that_are_gone(live, tmp_path: Path):
    from live_fixtures import GONE
    from live_history import RECORDED_BAD, TOTAL_RATE

    h = live.history
    project = write_project(tmp_path, "gone", GONE)
    proc = relc("report", str(project), "--prometheus", live.url, "--from", str(h.end - 10 * DAY), "--to",
                str(h.end - DAY), "--format", "json")
    (gone,) = json_out(proc)["slos"]
    assert gone["source"] == "relc's recorded 5m series"
    assert abs(gone["attained"] - (1 - RECORDED_BAD / TOTAL_RATE)) < PP and gone["met"] is True
    assert gone["coverage"] == 1.0 and abs(gone["worst_day"]["attained"] - gone["attained"]) < PP


def test_partial_coverage_is_stated_not_extrapolated(live):
    h = live.history
    lo, hi = h.start - 4 * DAY, h.start + 4 * DAY
    availability = by_slo(report(live, "--from", str(lo), "--to", str(hi)))["availability"]
    assert abs(availability["coverage"] - 0.5) < 0.01
    assert availability["data_from"] == iso(h.start)
    assert abs(availability["events"]["total"] - (h.at(h.total, hi) - h.at(h.total, h.start))) < 20
    markdown = relc("report", str(live.good), "--prometheus", live.url, "--from", str(lo), "--to", str(hi))
    assert "Data covers 50.0% of the period" in markdown.stdout and "not extrapolated" in markdown.stdout


def test_markdown_writes_one_svg_per_slo_html_is_self_contained(live, tmp_path: Path):
    h = live.history
    args = ["--from", str(h.end - 10 * DAY), "--to", str(h.end - DAY)]
    out = tmp_path / "report.md"
    proc = relc("report", str(live.good), "--prometheus", live.url, *args, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    charts = sorted((tmp_path / "report.charts").glob("*.svg"))
    assert [c.name for c in charts] == ["api--availability.svg", "api--latency.svg"]
    for chart in charts:
        assert ET.parse(chart).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    text = out.read_text()
    assert "](report.charts/api--availability.svg)" in text and "| api/availability | 99.500% |" in text
    page = tmp_path / "report.html"
    assert relc("report", str(live.good), "--prometheus", live.url, *args, "--format", "html", "-o",
                str(page)).returncode == 0
    html = page.read_text()

    class Refs(HTMLParser):
        found: list = []

        def handle_starttag(self, tag, attrs):
            self.found += [(tag, k, v) for k, v in attrs if k in ("src", "href")] + ([(tag,)] if tag in (
                "script", "link", "img", "iframe") else [])

    parser = Refs()
    parser.feed(html)
    assert parser.found == [], "the page loads nothing from anywhere"
    assert html.count("<svg") == 2 and "api/latency" in html


def test_redacted_report_keeps_names_and_numbers_only(live):
    h = live.history
    data = report(live, "--from", str(h.end - 25 * DAY), "--to", str(h.end - 15 * DAY), "--redact")
    text = json.dumps(data)
    for leak in ("127.0.0.1", "http_requests_total", "job", "ApiAvailabilityBudgetBurn", "api-1:8080", "queries"):
        assert leak not in text
    assert data["redacted"] is True and by_slo(data)["availability"]["attained"] > 0.99


def test_calendar_periods_and_bad_periods():
    from relc.compiler.live.periods import PeriodError, calendar

    def span(name):
        period = calendar(name)
        return iso(period.start), iso(period.end)

    assert span("2026-11") == ("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")
    assert span("2026-12") == ("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")
    assert span("2026-W47") == ("2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z")
    assert span("2026-Q4") == ("2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z")
    assert span("2024-02-29") == ("2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z")
    for bad in ("2026-13", "2026-W54", "2026-Q5", "november", "2026-11-31"):
        with pytest.raises(PeriodError):
            calendar(bad)


def test_report_usage_errors(live):
    proc = relc("report", str(live.good), "--prometheus", live.url, "--period", "2026-13")
    assert proc.returncode == 2 and "no month 13" in proc.stderr
    proc = relc("report", str(live.good), "--prometheus", live.url, "--from", "2026-11-02", "--to", "2026-11-01")
    assert proc.returncode == 2 and "is not after" in proc.stderr


def test_gate_passes_fails_and_names_the_shortfall(live):
    h = live.history
    remaining = 1 - h.ratio(h.end - 7 * DAY, h.end) / 0.005
    base = ["gate", str(live.good), "--prometheus", live.url, "--slo", "api/availability"]
    rows = json_out(relc(*base, "--min-remaining", "10%", "--format", "json"))["slos"]
    assert abs(rows[0]["remaining"] - remaining) < 0.001
    below, above = f"{(remaining - 0.02) * 100:.1f}%", f"{(remaining + 0.02) * 100:.1f}%"
    assert relc(*base, "--min-remaining", below).returncode == 0
    failed = relc(*base, "--min-remaining", above)
    assert failed.returncode == 1
    assert "FAIL api/availability" in failed.stdout and "points short" in failed.stdout
    everything = relc("gate", str(live.good), "--prometheus", live.url, "--min-remaining", "60%")
    assert everything.returncode == 1 and "FAIL api/latency" in everything.stdout and "ok   api/availability" in everything.stdout


def test_gate_fails_closed_without_data_unless_allowed(live, tmp_path: Path):
    project = write_project(tmp_path, "ghost", (live.good / "good.relc").read_text().replace(
        'job="api"', 'job="ghost"'))
    missing = relc("gate", str(project), "--prometheus", live.url, "--min-remaining", "1%")
    assert missing.returncode == 2 and "no data" in missing.stdout
    allowed = relc("gate", str(project), "--prometheus", live.url, "--min-remaining", "1%", "--allow-missing")
    assert allowed.returncode == 0 and "--allow-missing" in allowed.stdout
    assert relc("gate", str(live.good), "--prometheus", live.url, "--min-remaining", "1%", "--slo",
                "api/nope").returncode == 2


def expected_firings(h, tier, budget: float, start: int, end: int, step: int) -> list[tuple[int, int]]:
    """When a tier's condition holds, step by step, from the counters."""
    firing, runs = False, []
    for t in range(start, end + 1, step):
        if t - tier.long_window_s < h.start or t > h.end:
            holds = False
        else:
            holds = (h.ratio(t - tier.long_window_s, t) / budget > tier.burn_rate
                     and h.ratio(t - tier.short_window_s, t) / budget > tier.burn_rate)
        if holds and not firing:
            runs.append([t, t])
        if holds:
            runs[-1][1] = t + step
        firing = holds
    return [tuple(r) for r in runs]


def test_replay_fires_when_the_history_says(live):
    from relc.compiler.pipeline import compile_paths

    h = live.history
    project = compile_paths([str(live.good)]).project
    proc = relc("replay", str(live.good), "--prometheus", live.url, "--since", "30d", "--step", "1m",
                "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json_out(proc)
    start = int(datetime.fromisoformat(doc["from"].replace("Z", "+00:00")).timestamp())
    end = int(datetime.fromisoformat(doc["to"].replace("Z", "+00:00")).timestamp())
    slos = {s["slo"]: s for s in doc["slos"]}
    slo = next(s for s in project.slos() if s.name == "availability")
    fired_any = 0
    for tier in slo.alert_policy.tiers:
        got = next(t for t in slos["availability"]["tiers"] if t["tier"] == tier.name)
        want = expected_firings(h, tier, slo.error_budget, start, end, 60)
        assert got["fired"] == len(want), (tier.name, got["firings"], want)
        for firing, (lo, hi) in zip(got["firings"], want):
            t0 = datetime.fromisoformat(firing["start"].replace("Z", "+00:00")).timestamp()
            t1 = datetime.fromisoformat(firing["end"].replace("Z", "+00:00")).timestamp()
            assert abs(t0 - lo) <= 60 and abs(t1 - hi) <= 60, (tier.name, firing, lo, hi)
        fired_any += len(want)
    assert fired_any >= 5  # both outages show: every tier for the first, the slower page for the second


@pytest.mark.parametrize("command", [["doctor"], ["report", "--period", "2026-11"], ["gate", "--min-remaining", "5%"],
                                     ["replay"]])
def test_an_unreachable_server_is_exit_2_and_quotes_no_secret(command, tmp_path: Path):
    from promserver import free_port

    token = tmp_path / "token"
    token.write_text("s3cr3t-token\n")
    (tmp_path / "relc.yaml").write_text(f"prometheus:\n  url: http://alice:hunter2@127.0.0.1:{free_port()}\n"
                                        "  bearer_token_file: token\n  headers: {X-Scope-OrgID: tenant-7}\n")
    write_project(tmp_path, "slo", "service s {\n  slo a {\n    objective = 99%\n    window = 30d\n"
                                   "    sli events {\n      bad = x_total{code=\"5\"}\n      total = x_total\n"
                                   "    }\n  }\n}\n")
    proc = relc(command[0], "slo", *command[1:], cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "cannot reach http://127.0.0.1:" in proc.stderr
    for secret in ("hunter2", "alice", "s3cr3t", "tenant-7"):
        assert secret not in proc.stderr + proc.stdout
