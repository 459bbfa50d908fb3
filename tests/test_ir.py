"""The IR: the numbers every target relies on, computed once and exactly."""
from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relc.compiler.model import ir as ir
from relc.compiler.pipeline import compile_paths
from relc.targets.shared.promql_sli import le_matcher


def project(path: str) -> ir.Project:
    result = compile_paths([path])
    assert result.ok, result.diagnostics
    return result.project


def slo(p: ir.Project, service: str, name: str) -> ir.SLO:
    return next(s for s in p.slos() if s.service == service and s.name == name)


WORKBOOK_30D = [(3600, 300), (21600, 1800), (86400, 7200), (259200, 21600)]


@pytest.mark.parametrize("name, factors, windows", [
    ("month", [14.4, 6, 3, 1], WORKBOOK_30D),           # the Workbook's own table for 30d
    # below 30d the windows shrink with the SLO window (to the minute, short windows at least 5m), factors stay
    ("fourweeks", [14.4, 6, 3, 1], [(3360, 300), (20160, 1680), (80640, 6720), (241920, 20160)]),
    ("twoweeks", [14.4, 6, 3, 1], [(1680, 300), (10080, 840), (40320, 3360), (120960, 10080)]),
    ("week", [14.4, 6, 3, 1], [(840, 300), (5040, 420), (20160, 1680), (60480, 5040)]),
    ("quarter", [43.2, 18, 9, 3], WORKBOOK_30D),        # above 30d the windows stay, so nothing detects later
])
def test_workbook_tiers_follow_the_window_and_never_fire_below_1x(name, factors, windows):
    s = slo(project("tests/good/windows.relc"), "api", name)
    assert s.alert_policy.name == "workbook"
    assert [t.burn_rate for t in s.alert_policy.tiers] == pytest.approx(factors)
    assert [t.budget_consumed for t in s.alert_policy.tiers] == pytest.approx([0.02, 0.05, 0.1, 0.1])
    assert [(t.long_window_s, t.short_window_s) for t in s.alert_policy.tiers] == windows


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=3600, max_value=400 * 86400))
def test_no_builtin_tier_fires_below_the_sustainable_rate_for_any_window(window_s):
    from decimal import Decimal

    from relc.compiler.check.policies import WORKBOOK, resolve_tier
    from relc.compiler.diagnostics import Span

    here = Span.point("x.relc", 1, 1)
    for spec in WORKBOOK.tiers:
        diags: list = []
        tier = resolve_tier(spec, window_s, Decimal("0.999"), here, here, diags)
        assert tier is not None and not diags, diags
        assert tier.burn_rate >= 1 and 300 <= tier.short_window_s < tier.long_window_s <= window_s


def test_objective_budget_and_window_are_exact():
    s = slo(project("examples/shop"), "checkout", "availability")
    assert s.objective == 0.999 and s.error_budget == 0.001 and s.window_s == 30 * 86400
    assert s.labels == {"domain": "shop", "tier": "1"}
    assert s.runbook.name == "checkout-errors" and s.budget_policy.name == "standard"
    assert [t.remaining for t in s.budget_policy.thresholds] == [0.5, 0.25, 0.0]


def test_burn_rate_tiers_report_budget_consumed():
    s = slo(project("examples/shop"), "orders-worker", "processing")
    ticket = s.alert_policy.tiers[1]
    assert ticket.burn_rate == 1 and ticket.budget_consumed == pytest.approx(3 / 7)


def test_alert_policy_none_disables_alerts_and_default_name():
    p = project("tests/good/sli_kinds.relc")
    assert slo(p, "search", "raw-events").alert_policy is None
    assert slo(p, "search", "success").alert_name == "SearchSuccessBudgetBurn"


def test_sli_kinds_are_typed():
    p = project("tests/good/sli_kinds.relc")
    assert isinstance(slo(p, "search", "success").sli, ir.EventsSLI)
    latency = slo(p, "search", "latency-fast").sli
    assert isinstance(latency, ir.LatencySLI) and latency.threshold_seconds == 0.25
    assert isinstance(slo(p, "search", "ratio").sli, ir.RawSLI)


def test_ir_is_frozen():
    s = slo(project("examples/shop"), "checkout", "availability")
    with pytest.raises(FrozenInstanceError):
        s.objective = 0.5  # type: ignore[misc]


@pytest.mark.parametrize("seconds, le, matches, rejects", [
    (0.3, None, ["0.3", "0.30"], ["0.03", "0.35", "3"]),
    (1.0, None, ["1", "1.0", "1.00"], ["10", "0.1", "1.5"]),
    (2.5, None, ["2.5"], ["25", "2.05"]),
    (1.0, "1.0", ["1.0", "1", "1e+00"], ["10", "0.1"]),   # `le` is read as the number it spells
    (1e6, None, ["1e+06", "1000000", "1000000.0", "1E6"], ["1e+05", "100000"]),
])
def test_latency_bucket_matcher(seconds, le, matches, rejects):
    import re

    m = le_matcher(ir.LatencySLI(histogram=ir.Selector(metric="h"), threshold_seconds=seconds, le=le))
    pattern = re.compile(m.value if m.op == "=~" else re.escape(m.value))
    assert all(pattern.fullmatch(v) for v in matches)
    assert not any(pattern.fullmatch(v) for v in rejects)


def test_naming_the_builtin_workbook_policy_is_the_same_as_the_default(tmp_path):
    body = 'objective = 99.9%\n    sli events { bad = errors_total  total = requests_total }'
    (tmp_path / "p.relc").write_text(f"service api {{\n  slo named {{\n    {body}\n    alert_policy = workbook\n  }}\n"
                                     f"  slo default {{\n    {body}\n  }}\n}}\n")
    named, default = project(str(tmp_path / "p.relc")).slos()
    assert named.alert_policy is not None and named.alert_policy.name == "workbook"
    assert named.alert_policy == default.alert_policy
