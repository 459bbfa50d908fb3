"""PromQL for dashboard panels: only the series the Prometheus target records, picked out per SLO."""
from __future__ import annotations

from functools import lru_cache

from relc.compiler.model import ir as ir
from relc.compiler.check.promql import quote
from relc.targets.prometheus import rules as prometheus_rules

BASE_WINDOW_S = prometheus_rules.BASE_WINDOW_S
# Every SLO of a project names the same few windows: render each series name once.
burn_name = lru_cache(maxsize=256, typed=True)(prometheus_rules.burn_name)
ratio_name = lru_cache(maxsize=256, typed=True)(prometheus_rules.ratio_name)
window_burn_name, window_ratio_name = prometheus_rules.window_burn_name, prometheus_rules.window_ratio_name

REMAINING = "relc_slo:error_budget_remaining:ratio"
OBJECTIVE = "relc_slo:objective:ratio"
ERROR_BUDGET = "relc_slo:error_budget:ratio"
SLO_VARIABLE = "${slo}"  # the service dashboards' SLO filter; alert dashboard_url links set it (?var-slo=...)


def selector(slo: ir.SLO, filtered: bool = True) -> str:
    """`{service="...",slo="..."}`, plus the `$slo` filter on service dashboards so `var-slo` narrows the view,
    and for a grouped SLO a filter per group label, set by that label's dashboard variable."""
    return _selector(slo.service, slo.name, filtered, slo.recorded_group_by)


@lru_cache(maxsize=1024)  # a dozen queries per SLO, one after another: quote each name once
def _selector(service: str, name: str, filtered: bool, group_by: tuple[str, ...] = ()) -> str:
    inner = f"service={quote(service)},slo={quote(name)}"
    if filtered:
        inner += f',slo=~"{SLO_VARIABLE}"'
        inner += "".join(f',{label}=~"${{{group_variable(label)}}}"' for label in group_by)
    return "{" + inner + "}"


def group_variable(label: str) -> str:
    """The dashboard variable of a group label: the label's own name, unless the dashboard uses that name."""
    return f"group_{label}" if label in ("datasource", "slo") else label


def budget_remaining(slo: ir.SLO, filtered: bool = True) -> str:
    return f"{REMAINING}{selector(slo, filtered)}"


def window_coverage(slo: ir.SLO) -> str:
    """The share of the SLO window relc's recorded series cover; below 1 the budget is an estimate."""
    return f"{prometheus_rules.COVERAGE}{selector(slo)}"


def traffic(slo: ir.SLO) -> str:
    """All events per second over 5m, from the rate the rules record (events and latency SLIs)."""
    return f"{prometheus_rules.TOTAL}{selector(slo)}"


def bad_traffic(slo: ir.SLO) -> str:
    return f"{prometheus_rules.BAD}{selector(slo)}"


def latency_quantile(slo: ir.SLO, quantile: float) -> str:
    """A percentile of a latency SLI's histogram; the one panel that reads the source, as relc records no buckets."""
    from relc.compiler.check.promql import render_selector

    if slo.sli.native:  # type: ignore[union-attr]
        native = render_selector(slo.sli.histogram)  # type: ignore[union-attr]
        return f"histogram_quantile({quantile}, sum(rate({native}[$__rate_interval])))"
    buckets = render_selector(slo.sli.histogram, suffix="_bucket")  # type: ignore[union-attr]
    return f"histogram_quantile({quantile}, sum by (le) (rate({buckets}[$__rate_interval])))"


def burn_now(slo: ir.SLO, filtered: bool = True) -> str:
    """The 5m burn rate: how fast the budget goes right now (1 = exactly sustainable)."""
    return f"{burn_name(BASE_WINDOW_S)}{selector(slo, filtered)}"


def burn_period(slo: ir.SLO) -> str:
    return f"{window_burn_name(slo)}{selector(slo)}"


def sli_over_window(slo: ir.SLO, filtered: bool = True) -> str:
    """The SLI as the objective judges it: good share over the rolling SLO window, or the calendar period so far."""
    return f"1 - {window_ratio_name(slo)}{selector(slo, filtered)}"


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


# The overview: one query per column or count, over every SLO at once, so its size does not grow with the project.
INFO = "relc_slo_info"
INFO_LABELS = ("service", "slo", "owner", "objective", "window", "sli_kind")
RELC_ALERTS = 'ALERTS{alertstate="firing",alert_tier!=""}'  # every relc alert has an alert_tier label
UID_PREFIX = "relc-"      # compiler/model/naming.py dashboard_uid: "relc-" + the name when it fits in 40 characters
UID_PLAIN_MAX = 40 - len(UID_PREFIX)
DASHBOARD_LABEL = "dashboard"


def by_slo(op: str, expr: str) -> str:
    """One series per SLO, whatever replicas or external labels the data source adds (min: the worst budget)."""
    return f"{op} by (service, slo) ({expr})"


def slo_table_info() -> str:
    """Owner, objective, window and SLI kind of every SLO, plus the path of its service dashboard in
    `dashboard`: `d/relc-<service>?` where the uid is the name itself (names are [A-Za-z][A-Za-z0-9_-]*), else
    a dashboard search for the name (uids of long names end in a hash PromQL cannot compute)."""
    info = f'label_replace(max by ({", ".join(INFO_LABELS)}) ({INFO}), "owner", "not set", "owner", "")'
    search = f'label_replace({info}, "{DASHBOARD_LABEL}", "dashboards?tag=relc&query=$1&", "service", "(.+)")'
    plain = f"([A-Za-z0-9_-]{{1,{UID_PLAIN_MAX}}})"
    return f'label_replace({search}, "{DASHBOARD_LABEL}", "d/{UID_PREFIX}$1?", "service", "{plain}")'


def all_sli() -> str:
    """The SLI over each SLO's own window, from the one series every SLO records under the same name."""
    return by_slo("min", f"1 - {prometheus_rules.WINDOW_RATIO}")


def all_budget_remaining() -> str:
    return by_slo("min", REMAINING)


def all_burn_now() -> str:
    return by_slo("max", burn_name(BASE_WINDOW_S))


def relc_firing() -> str:
    """Firing relc alerts per SLO (only SLOs relc records, so other rules' alerts with the same labels stay out)."""
    return by_slo("count", f"{RELC_ALERTS} and on (service, slo) {INFO}")


def all_firing() -> str:
    """Firing alerts per SLO, 0 for SLOs without any, so every row has a value."""
    return f"{relc_firing()} or {by_slo('max', INFO)} * 0"


def count_slos() -> str:
    return f"count({by_slo('max', INFO)})"


def count_exhausted() -> str:
    return f"count({all_budget_remaining()} <= 0) or vector(0)"


def count_burning() -> str:
    return f"count({all_burn_now()} > 1) or vector(0)"


def count_firing() -> str:
    return f"count({relc_firing()}) or vector(0)"
