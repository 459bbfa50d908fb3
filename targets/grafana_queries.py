"""PromQL for dashboard panels: only the series the Prometheus target records, picked out per SLO."""
from __future__ import annotations

from relc.compiler import ir
from relc.compiler.promql import quote
from relc.targets.prometheus_rules import BASE_WINDOW_S, burn_name, ratio_name

REMAINING = "relc_slo:error_budget_remaining:ratio"
OBJECTIVE = "relc_slo:objective:ratio"
ERROR_BUDGET = "relc_slo:error_budget:ratio"
SLO_VARIABLE = "${slo}"  # the service dashboards' SLO filter; alert dashboard_url links set it (?var-slo=...)


def selector(slo: ir.SLO, filtered: bool = True) -> str:
    """`{service="...",slo="..."}`, plus the `$slo` filter on service dashboards so `var-slo` narrows the view."""
    inner = f"service={quote(slo.service)},slo={quote(slo.name)}"
    if filtered:
        inner += f',slo=~"{SLO_VARIABLE}"'
    return "{" + inner + "}"


def budget_remaining(slo: ir.SLO, filtered: bool = True) -> str:
    return f"{REMAINING}{selector(slo, filtered)}"


def burn_now(slo: ir.SLO, filtered: bool = True) -> str:
    """The 5m burn rate: how fast the budget goes right now (1 = exactly sustainable)."""
    return f"{burn_name(BASE_WINDOW_S)}{selector(slo, filtered)}"


def burn_period(slo: ir.SLO) -> str:
    return f"{burn_name(slo.window_s)}{selector(slo)}"


def sli_over_window(slo: ir.SLO, filtered: bool = True) -> str:
    """The SLI as the objective judges it: good share over the whole (rolling) SLO window."""
    return f"1 - {ratio_name(slo.window_s)}{selector(slo, filtered)}"


def sli_worst_5m(slo: ir.SLO) -> str:
    """The worst 5m SLI inside each plotted step, so dips shorter than the step still show over a long range
    ($__rate_interval, unlike $__interval, never shrinks below four scrape intervals, so it always holds a sample)."""
    return f"1 - max_over_time({ratio_name(BASE_WINDOW_S)}{selector(slo)}[$__rate_interval])"


def objective(slo: ir.SLO) -> str:
    return f"{OBJECTIVE}{selector(slo)}"


def tier_burn(slo: ir.SLO, window_s: int) -> str:
    """Burn rate over one alert window as the alert computes it: error ratio / error budget. Both series carry
    the same labels, so plain `/` pairs them (also per replica when external labels tell replicas apart)."""
    sel = selector(slo)
    return f"{ratio_name(window_s)}{sel} / {ERROR_BUDGET}{sel}"


def alert_names(slo: ir.SLO) -> list[str]:
    """Every alert name the Prometheus target gives this SLO (burn tiers, no-data, budget policy)."""
    names = []
    policy = slo.alert_policy
    if policy is not None and policy.tiers:
        names.append(slo.alert_name)
    if policy is not None and policy.no_data_after_s:
        names.append(f"{slo.alert_name}NoData")
    if slo.budget_policy is not None and slo.budget_policy.thresholds:
        names.append(f"{slo.alert_name}ErrorBudget")
    return names


def _alerts_selector(slo: ir.SLO, filtered: bool) -> str:
    """ALERTS of this SLO's own rules only: by name as well as by labels, so other teams' alerts stay out."""
    names = quote("|".join(alert_names(slo)))  # alert names are [A-Za-z0-9_]: nothing to regex-escape
    inner = f'alertname=~{names},alertstate="firing",service={quote(slo.service)},slo={quote(slo.name)}'
    if filtered:
        inner += f',slo=~"{SLO_VARIABLE}"'
    return "ALERTS{" + inner + "}"


def firing_alerts(slo: ir.SLO) -> str:
    """One series per firing alert tier (value 1), for a state timeline."""
    return f"max by (alertname, alert_tier, severity) ({_alerts_selector(slo, True)})"


def firing_count(slo: ir.SLO) -> str:
    """How many of the SLO's alerts fire now; 0 rather than no data when none do."""
    return f"count({_alerts_selector(slo, False)}) or vector(0)"
