"""One SLO's panels: its row on the service dashboard."""
from __future__ import annotations

from functools import lru_cache

from relc.compiler.model import ir as ir
from relc.compiler.units import fmt_number, fmt_percent, human_duration, human_number, human_percent
from relc.compiler.units import prom_duration as _prom_duration
from relc.targets import Options
from relc.targets.grafana import panels as gp
from relc.targets.grafana import queries as q
from relc.targets.shared.jsonout import freeze
from relc.targets.grafana.text import cache_by_value, link_url, markdown_text, runbook_html, runbook_url

TIERS_PER_LINE = 4
BURN_UNIT = "suffix:x"
# A calendar SLO's panels show the period so far, in the dashboard's time zone (Grafana's `now/M` and friends).
PERIOD_SO_FAR = {"week": "now/w", "month": "now/M", "quarter": "now/fQ"}
COVERED = "window with data"  # Grafana shows unknown units as a suffix; this one without a space: 14.4x
# Thousands of SLOs share a few windows, objectives, policies and tiers: text that depends only on those is
# built once (keys are values: equal inputs give equal text).
prom_duration = lru_cache(maxsize=256, typed=True)(_prom_duration)


def slo_links(slo: ir.SLO, options: Options) -> list[dict]:
    """Every panel of an SLO links to its runbook, when the runbook has an absolute URL."""
    url = link_url(runbook_url(slo, options))
    return freeze([gp.link(f"Runbook: {slo.service}/{slo.name}", url, new_tab=True)]) if url else gp.NONE


def sli_decimals(slo: ir.SLO) -> int:
    """One more decimal than the objective has (99.95% -> 3), so the SLI and the objective never look equal."""
    return _decimals(slo.objective)


@lru_cache(maxsize=256, typed=True)
def _decimals(objective: float) -> int:
    text = fmt_percent(objective).rstrip("%")
    return min(6, (len(text.split(".")[1]) if "." in text else 0) + 1)


def service_row(slo: ir.SLO, y: int, options: Options) -> tuple[list[dict], int]:
    """The row of one SLO on its service dashboard; returns the panels and the next free grid line."""
    key, links = f"{slo.service}/{slo.name}", slo_links(slo, options)
    title = f"{slo.name}: {fmt_percent(slo.objective)} over {slo.window_text}"
    panels = [gp.row(f"{key}/row", title, y)]
    panels += _status(slo, y + 1, links)
    y += 9
    traffic = _traffic(slo, y, links)
    panels += traffic
    y += 8 if traffic else 0
    tiers, y = _burn_rates(slo, y, links)
    panels += tiers
    panels += _alerts_and_runbook(slo, y, options, links)
    if slo.group_by:
        _name_groups(panels, slo.recorded_group_by)
    return panels, y + 8


def _name_groups(panels: list[dict], group_by: tuple[str, ...]) -> None:
    """A grouped SLO's panels show a series per group: each legend names the group's values."""
    suffix = " " + " ".join(f"{{{{{label}}}}}" for label in group_by)
    for panel in panels:
        for target in panel.get("targets", ()):
            if "legendFormat" in target and target["legendFormat"] != "__auto":
                target["legendFormat"] += suffix


def _status(slo: ir.SLO, y: int, links: list[dict]) -> list[dict]:
    """Where the SLO stands: budget left and burn now, the SLI against its objective, the burn-down."""
    key, budget_colours = f"{slo.service}/{slo.name}", gp.budget_steps(slo)
    window = slo.window_words if slo.calendar else prom_duration(slo.window_s)
    shown = PERIOD_SO_FAR[slo.calendar] if slo.calendar else window
    policy = slo.budget_policy.name if slo.budget_policy is not None and slo.budget_policy.thresholds else None
    tiers = slo.alert_policy is not None and bool(slo.alert_policy.tiers)
    budget = gp.stat(f"{key}/budget", "Error budget remaining", _budget_text(slo.window_text, policy),
                     gp.grid(0, y, 4, 4), gp.targets((q.budget_remaining(slo), "budget remaining")),
                     unit="percentunit", decimals=1, thresholds=budget_colours, links=links)
    burn = gp.stat(f"{key}/burn-now", "Burn rate (5m)", _burn_now_text(slo.window_s, tiers), gp.grid(0, y + 4, 4, 4),
                   gp.targets((q.burn_now(slo), "burn rate")), unit=BURN_UNIT, decimals=2,
                   thresholds=burn_steps(slo), links=links)
    sli = gp.timeseries(
        f"{key}/sli", f"SLI vs objective ({window})",
        _sli_text(slo.window_text if slo.calendar else "", slo.window_s, slo.objective), gp.grid(4, y, 10, 8),
        gp.targets((q.sli_over_window(slo), f"SLI over {window}"), (q.sli_worst_5m(slo), "SLI, worst 5m"),
                   (q.objective(slo), "objective")),
        unit="percentunit", decimals=sli_decimals(slo), thresholds=gp.steps((None, "green")),
        threshold_style="off", links=links, overrides=gp.dashed_series("objective", "red"), time_from=shown)
    burndown = gp.timeseries(
        f"{key}/burndown", f"Error budget burn-down ({window})", _burndown_text(policy), gp.grid(14, y, 10, 8),
        gp.targets((q.budget_remaining(slo), "budget remaining"), (q.window_coverage(slo), COVERED)),
        unit="percentunit", decimals=1, thresholds=budget_colours, threshold_style="dashed+area", links=links,
        time_from=shown, soft_min=0, overrides=gp.dashed_series(COVERED, "blue"))
    return [budget, burn, sli, burndown]


def _traffic(slo: ir.SLO, y: int, links: list[dict]) -> list[dict]:
    """What an SRE asks first: how many requests, and for a latency SLO how fast they are against the threshold."""
    key = f"{slo.service}/{slo.name}"
    if isinstance(slo.sli, ir.RawSLI):
        return []  # a raw error ratio names no events to count
    latency = isinstance(slo.sli, ir.LatencySLI)
    width = 12 if latency else 24
    traffic = gp.timeseries(
        f"{key}/traffic", "Traffic (events per second, 5m)", TRAFFIC_TEXT, gp.grid(0, y, width, 8),
        gp.targets((q.traffic(slo), "all events"), (q.bad_traffic(slo), "bad events")), unit="reqps",
        thresholds=gp.steps((None, "green")), threshold_style="off", links=links, soft_min=0)
    if not latency:
        return [traffic]
    threshold = slo.sli.threshold_seconds  # type: ignore[union-attr]
    percentiles = gp.timeseries(
        f"{key}/latency", "Latency percentiles", _latency_text(threshold), gp.grid(12, y, 12, 8),
        gp.targets(*((q.latency_quantile(slo, p), f"p{fmt_number(p * 100)}") for p in LATENCY_QUANTILES)),
        unit="s", thresholds=gp.steps((None, "green"), (threshold, "red")), threshold_style="dashed", links=links,
        soft_min=0)
    return [traffic, percentiles]


TRAFFIC_TEXT = ("Events per second over 5 minutes, from relc's recorded rates: all events and bad ones. A drop to "
                "zero is an outage upstream or a scrape that stopped, not a healthy SLO.")
LATENCY_QUANTILES = (0.5, 0.9, 0.99)


@lru_cache(maxsize=256, typed=True)
def _latency_text(threshold: float) -> str:
    return (f"Request latency percentiles from the histogram (interpolated within buckets by histogram_quantile); "
            f"the dashed line is the SLO's threshold, {markdown_text(fmt_number(threshold))}s. Requests above it "
            "are the SLO's bad events.")


def burn_steps(slo: ir.SLO) -> dict:
    """Yellow above 1x (faster than sustainable), red at the fastest alert tier's factor."""
    tiers = slo.alert_policy.tiers if slo.alert_policy is not None else ()
    return _burn_steps(max((tier.burn_rate for tier in tiers), default=0.0))


@lru_cache(maxsize=256, typed=True)
def _burn_steps(fastest: float) -> dict:
    return gp.steps((None, "green"), (1, "yellow"), *([(fastest, "red")] if fastest > 1 else []))


def _burn_rates(slo: ir.SLO, y: int, links: list[dict]) -> tuple[list[dict], int]:
    """One panel per alert tier, long and short window, the tier's factor drawn; without tiers, 5m and period."""
    tiers = slo.alert_policy.tiers if slo.alert_policy is not None else ()
    if not tiers:
        return [_period_burn(slo, y, links)], y + 8
    panels = []
    for start in range(0, len(tiers), TIERS_PER_LINE):
        line = tiers[start:start + TIERS_PER_LINE]
        width = 24 // len(line)
        panels += [_tier_panel(slo, tier, gp.grid(i * width, y, width, 8), links) for i, tier in enumerate(line)]
        y += 8
    return panels, y


def _tier_panel(slo: ir.SLO, tier: ir.AlertTier, pos: dict, links: list[dict]) -> dict:
    """The two burn rates the tier's alert compares, and its factor, so people see why it fires (or not)."""
    title, text, thresholds, long_w, short_w = _tier_parts(tier)
    return gp.timeseries(
        f"{slo.service}/{slo.name}/tier/{tier.name}", title, text, pos,
        gp.targets((q.tier_burn(slo, tier.long_window_s), f"{long_w} (long window)"),
                   (q.tier_burn(slo, tier.short_window_s), f"{short_w} (short window)")),
        unit=BURN_UNIT, thresholds=thresholds, threshold_style="dashed", links=links, decimals=2, soft_min=0)


@cache_by_value
def _tier_parts(tier: ir.AlertTier) -> tuple:
    """Title, description, thresholds and window names of a tier's panel: the same for every SLO on its policy."""
    long_w, short_w, factor = prom_duration(tier.long_window_s), prom_duration(tier.short_window_s), tier.burn_rate
    title = f"Burn rate: {tier.name} ({long_w}/{short_w} > {human_number(factor)}x)"
    return title, _tier_text(tier), gp.steps((None, "green"), (factor, "red")), long_w, short_w


def _period_burn(slo: ir.SLO, y: int, links: list[dict]) -> dict:
    """Without alert tiers, the 5m and whole-window burn rates against 1x still tell how fast budget goes."""
    window = prom_duration(slo.window_s)
    return gp.timeseries(
        f"{slo.service}/{slo.name}/burn", "Burn rate (no alert tiers)",
        "This SLO has no alert policy. 1x spends exactly the whole budget over the window.", gp.grid(0, y, 24, 8),
        gp.targets((q.burn_now(slo), "5m"), (q.burn_period(slo), window)), unit=BURN_UNIT,
        thresholds=gp.steps((None, "green"), (1, "red")), threshold_style="dashed", links=links, decimals=2,
        soft_min=0)


def _alerts_and_runbook(slo: ir.SLO, y: int, options: Options, links: list[dict]) -> list[dict]:
    """What fired, next to what to do about it; an SLO without alerts gets the runbook full width."""
    key = f"{slo.service}/{slo.name}"
    alerting = bool(q.alert_names(slo))
    text_x = 12 if alerting else 0
    runbook = gp.text(f"{key}/runbook", "SLO and runbook", gp.grid(text_x, y, 24 - text_x, 8),
                      runbook_html(slo, options), links)
    if not alerting:
        return [runbook]
    alerts = gp.state_timeline(
        f"{key}/alerts", "Firing alerts", _alerts_text(slo), gp.grid(0, y, 12, 8),
        gp.targets((q.firing_alerts(slo), "{{alert_tier}} ({{severity}})")), links)
    return [alerts, runbook]


@lru_cache(maxsize=256, typed=True)
def _budget_text(window: str, policy: str | None) -> str:
    source = (f"the thresholds of budget policy {markdown_text(policy)}" if policy is not None
              else "relc's defaults (50%, 25%, 0%; the SLO has no budget policy)")
    return (f"Share of the {markdown_text(window)} error budget still unspent: 100% untouched, 0% spent, "
            f"negative when overspent. Colours follow {source}. Until the window is covered by data (see the "
            "burn-down), it is estimated from the traffic so far.")


@lru_cache(maxsize=256, typed=True)
def _burn_now_text(window_s: int, tiers: bool) -> str:
    red = "red at the fastest alert tier's factor" if tiers else "yellow above 1x"
    return ("Error ratio of the last 5 minutes divided by the error budget. 1x would spend exactly the whole "
            f"budget over {human_duration(window_s)}; {red}.")


@lru_cache(maxsize=256, typed=True)
def _sli_text(calendar: str, window_s: int, objective: float) -> str:
    over = (f"so far in this {markdown_text(calendar)}" if calendar else
            f"over the rolling {prom_duration(window_s)} window")
    return (f"Good share of events {over} against the objective "
            f"({markdown_text(fmt_percent(objective))}), and the worst 5-minute SLI within each plotted step.")


@lru_cache(maxsize=256)
def _burndown_text(policy: str | None) -> str:
    if policy is None:
        lines = "Dashed lines at relc's default 50%, 25% and 0%."
    else:
        lines = (f"Dashed lines and bands are the thresholds of budget policy {markdown_text(policy)}; each "
                 "crossing calls for the actions it lists (see the runbook panel).")
    return (f"Error budget remaining over the SLO window. {lines} The blue dashed line is the share of the window "
            "that has data: below 100% (after the rules are first deployed) the budget is an estimate, the bad "
            "events so far against the budget of a whole window at the traffic so far.")


def _tier_text(tier: ir.AlertTier) -> str:
    long_w, short_w = prom_duration(tier.long_window_s), prom_duration(tier.short_window_s)
    return (f"Tier {markdown_text(tier.name)} (severity {markdown_text(tier.severity)}) fires when the burn rate "
            f"over both {long_w} and {short_w} exceeds {markdown_text(human_number(tier.burn_rate))}x, "
            f"i.e. {markdown_text(human_percent(tier.budget_consumed))} of the budget spent in {long_w}.")


def _alerts_text(slo: ir.SLO) -> str:
    names = ", ".join(markdown_text(name) for name in q.alert_names(slo))
    return f"Alerts of this SLO ({names}) while firing, per alert tier and severity."
