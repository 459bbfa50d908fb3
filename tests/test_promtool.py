"""The ecosystem's own tool judges the rules: `promtool check rules` on all output, `promtool test rules` on behaviour."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from relc.compiler.commands.cli import main

from conftest import ROOT, firing, promtool_unit, require_tool

SOURCES = ["examples/shop"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "good").iterdir()
                                     if p.suffix == ".relc" or p.is_dir())


def build(src: str, out: Path) -> list[Path]:
    result = CliRunner().invoke(main, ["build", src, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return sorted((out / "prometheus").glob("*.yml"))


@pytest.mark.parametrize("src", SOURCES)
def test_promtool_accepts_every_rule_file(src: str, tmp_path: Path):
    promtool = require_tool("promtool")
    files = build(src, tmp_path)
    assert files
    proc = subprocess.run([promtool, "check", "rules", *map(str, files)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("SUCCESS") == len(files)


def _firing(tier: str, minute: int, expected: bool) -> dict:
    return firing("CheckoutAvailabilityBudgetBurn", tier, minute, expected)


def _checkout_rules(tmp_path: Path) -> Path:
    return next(f for f in build("examples/shop", tmp_path / "out") if f.name == "checkout.rules.yml")


def test_total_outage_pages_within_the_workbook_detection_time(tmp_path: Path):
    """An hour healthy, then 100% errors: the 14.4x tier needs 0.864 min of outage, so it fires by +2m."""
    series = [
        {"series": 'http_requests_total{job="checkout",code="200"}', "values": "0+100x60 6000+0x30"},
        {"series": 'http_requests_total{job="checkout",code="500"}', "values": "0+0x60 0+100x30"},
    ]
    checks = [_firing(t, 60, False) for t in ("page-fast", "page-slow", "ticket-fast", "ticket-slow")]
    checks += [_firing("page-fast", 62, True)]
    promtool_unit(_checkout_rules(tmp_path), series, checks, tmp_path)


def test_errors_within_budget_never_alert(tmp_path: Path):
    """0.05% errors is half of the 0.1% budget: no tier may fire, however long it lasts."""
    series = [
        {"series": 'http_requests_total{job="checkout",code="200"}', "values": "0+1999x300"},
        {"series": 'http_requests_total{job="checkout",code="500"}', "values": "0+1x300"},
    ]
    checks = [_firing(t, m, False) for t in ("page-fast", "page-slow", "ticket-fast", "ticket-slow")
              for m in (10, 120, 300)]
    promtool_unit(_checkout_rules(tmp_path), series, checks, tmp_path)


def test_good_based_sli_sees_a_total_outage_when_the_success_series_is_missing(tmp_path: Path):
    """orders-worker/processing counts good events; if no success series exists at all, errors are 100%."""
    rules = next(f for f in build("examples/shop", tmp_path / "out") if f.name == "orders-worker.rules.yml")
    series = [{"series": 'orders_processed_total{outcome="failure"}', "values": "0+10x30"}]
    check = {"expr": 'relc_slo:error_ratio:rate5m{service="orders-worker",slo="processing"}', "eval_time": "10m",
             "exp_samples": [{"labels": 'relc_slo:error_ratio:rate5m{service="orders-worker",slo="processing",'
                                        'domain="shop",tier="2"}', "value": 1}]}
    promtool_unit(rules, series, [check], tmp_path)
