"""`relc explain`: the budget arithmetic people read before trusting an alert policy must be right and readable."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import relc.compiler.commands.cli
from relc.compiler.commands.cli import main
from relc.compiler.commands.explain import select, slo_math
from relc.compiler.pipeline import compile_paths

from conftest import ROOT

SHOP = "examples/shop"
BAD = "tests/bad/objective_out_of_range.relc"
DOCS = [ROOT / "docs" / "cli.md"]
DOC_EXAMPLE = re.compile(r"<!-- explain: (.+?) -->\n+```text\n(.*?)```", re.S)


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    monkeypatch.setitem(relc.compiler.commands.cli.LAZY_COMMANDS, "explain", "relc.compiler.commands.explain:explain_command")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def shop_math(name: str) -> dict:
    project = compile_paths([SHOP]).project
    (slo,) = select(project, (name,))
    return slo_math(slo)


def compile_text(tmp_path: Path, source: str) -> list[dict]:
    path = tmp_path / "x.relc"
    path.write_text(source)
    result = compile_paths([str(path)])
    assert result.ok, result.diagnostics
    return [slo_math(s) for s in result.project.slos()]


def test_workbook_numbers_at_999_over_30d():
    m = shop_math("checkout/availability")
    assert m["objective"] == 0.999 and m["error_budget"] == 0.001 and m["window_s"] == 30 * 86400
    assert m["full_outage_s"] == 2592  # 43m 12s
    fast, slow, ticket_fast, ticket_slow = m["tiers"]
    assert (fast["burn_rate"], fast["error_rate"], fast["budget_consumed"]) == (14.4, 0.0144, 0.02)
    assert fast["detect_total_outage_s"] == 51.84        # 14.4 x 1h x 0.1%
    assert fast["detect_10x_s"] is None                   # 10x never exceeds 14.4x
    assert fast["reset_s"] == 300 and fast["exhaustion_s"] == 180000  # 5m; 30d / 14.4 = 50h
    assert slow["detect_10x_s"] == 6 * 21600 / 10         # 3h 36m
    assert ticket_fast["detect_10x_s"] == 3 * 86400 / 10
    assert ticket_slow["exhaustion_s"] == 30 * 86400       # 1x lasts exactly the window


def test_guards_and_budget_policy_are_reported():
    m = shop_math("checkout/availability")
    assert m["min_events"] == 50
    assert m["no_data"] == {"after_s": 600, "severity": "ticket"}
    policy = m["budget_policy"]
    assert policy["name"] == "standard"
    assert [t["remaining"] for t in policy["thresholds"]] == [0.5, 0.25, 0.0]
    assert [t["full_outage_to_reach_s"] for t in policy["thresholds"]] == [1296, 1944, 2592]
    assert policy["thresholds"][1]["notify"] == "#shop-reliability"


def test_text_output_is_aligned_and_says_the_numbers():
    result = invoke("explain", SHOP, "--slo", "checkout/availability")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "43m 12s spends the whole 30d budget" in out
    assert "1 in 1,000" in out and "min_events     50 events" in out and "after 10m, severity ticket" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  page-") or "  tier " in line}
    header = rows["tier"]
    for name in ("page-fast", "page-slow"):
        for column in ("burn rate", "detect 10x", "exhausts in"):
            start = header.index(column)
            assert rows[name][start - 2:start] == "  " and rows[name][start] != " ", (name, column)
    assert rows["page-fast"].split() == ["page-fast", "page", "14.4x", "1.44%", "1h/5m", "2%", "52s", "never",
                                         "5m", "2d", "2h"]
    assert rows["page-slow"].split()[6:10] == ["2m", "10s", "3h", "36m"]


def test_json_has_stable_keys_and_only_plain_values():
    result = invoke("explain", SHOP, "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [f"{m['service']}/{m['slo']}" for m in payload["slos"]] == [
        "checkout/availability", "checkout/latency", "orders-worker/processing", "orders-worker/freshness",
        "catalog/availability"]
    keys = {"service", "slo", "source", "objective", "window_s", "calendar", "timezone", "error_budget",
            "full_outage_s", "alert_name", "alert_policy", "min_events", "no_data", "tiers", "budget_policy"}
    tier_keys = {"name", "severity", "burn_rate", "error_rate", "long_window_s", "short_window_s", "budget_consumed",
                 "for_s", "detect_total_outage_s", "detect_10x_s", "reset_s", "exhaustion_s"}
    for m in payload["slos"]:
        assert set(m) == keys
        assert all(set(t) == tier_keys for t in m["tiers"])
    assert result.stdout == invoke("explain", SHOP, "--format", "json").stdout


def test_markdown_tables():
    result = invoke("explain", SHOP, "--slo", "orders-worker/processing", "--format", "markdown")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "## orders-worker/processing"
    assert "| page-fast | page | 3.36x | 1.68% | 1h/5m | 2% | 1m | 20m 10s | 5m | 2d 2h |" in lines
    assert "- **no-data alert**: after 30m, severity ticket" in lines
    tables = [line for line in lines if line.startswith("|")]
    assert all(line.endswith("|") for line in tables)


@pytest.mark.parametrize("name, expected", [
    ("availability", ["checkout/availability", "catalog/availability"]),   # an SLO name in several services
    ("orders-worker", ["orders-worker/processing", "orders-worker/freshness"]),  # a service name
    ("catalog/availability", ["catalog/availability"]),
])
def test_slo_selection(name, expected):
    project = compile_paths([SHOP]).project
    assert [f"{s.service}/{s.name}" for s in select(project, (name,))] == expected


def test_unknown_slo_suggests_the_nearest():
    result = invoke("explain", SHOP, "--slo", "checkout/availabilty")
    assert result.exit_code == 2
    assert "no SLO `checkout/availabilty`" in result.stderr
    assert "did you mean `checkout/availability`?" in result.stderr
    far = invoke("explain", SHOP, "--slo", "zzz")
    assert far.exit_code == 2 and "SLOs: checkout/availability, checkout/latency" in far.stderr


def test_errors_in_sources_exit_1_with_diagnostics():
    result = invoke("explain", BAD)
    assert result.exit_code == 1
    assert "error[RELC301]" in result.stderr and result.stdout == ""
    as_json = invoke("explain", BAD, "--format", "json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["diagnostics"][0]["code"] == "RELC301"


def test_slo_without_alerts_and_burn_rates_beyond_10x(tmp_path: Path):
    none, low = compile_text(tmp_path, """
alert_policy slowish { tier t { severity = "ticket"  burn_rate = 5  long = 1h  short = 5m } }
service a {
  slo quiet { objective = 99%  alert_policy = none  sli events { bad = e_total  total = r_total } }
  slo loose { objective = 85%  window = 7d  alert_policy = slowish  sli events { bad = e_total  total = r_total } }
}
""")
    assert none["alert_policy"] is None and none["tiers"] == [] and none["no_data"] is None
    (tier,) = low["tiers"]
    assert tier["burn_rate"] == 5
    assert tier["detect_10x_s"] is None  # a 10x burn would need 150% errors at a 15% budget
    assert tier["detect_total_outage_s"] == pytest.approx(5 * 3600 * 0.15)


def test_ten_x_exactly_never_fires(tmp_path: Path):
    (m,) = compile_text(tmp_path, """
alert_policy ten { tier t { severity = "page"  burn_rate = 10  long = 1h  short = 5m } }
service a { slo s { objective = 99.9%  alert_policy = ten  sli events { bad = e_total  total = r_total } } }
""")
    assert m["tiers"][0]["detect_10x_s"] is None  # the alert's `>` is strict: a steady 10x burn never passes 10x


def test_help_lists_the_command():
    assert "explain" in invoke("--help").output
    result = invoke("explain", "--help")
    assert result.exit_code == 0 and "--slo" in result.output and "markdown" in result.output


def test_doc_examples_match_real_output():
    """Every `<!-- explain: ARGS -->` example in the CLI docs is the command's real output, byte for byte."""
    examples = [(doc, args, quoted) for doc in DOCS if doc.exists()
                for args, quoted in DOC_EXAMPLE.findall(doc.read_text(encoding="utf-8"))]
    assert examples, "no explain example in docs/cli.md"
    for doc, args, quoted in examples:
        result = invoke(*args.split())
        assert result.exit_code == 0, result.output
        assert result.stdout == quoted, f"{doc.name}: `relc {args}` output differs from the docs"
