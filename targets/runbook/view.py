"""What a runbook template sees: plain, immutable views of one SLO with every figure already worked out.

Templates get no IR objects, only these frozen records, so the numbers are computed once, in Python,
and a template (ours or a team's) cannot reach anything but text, numbers and relc-built Markdown.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from relc.compiler import units

from relc.compiler.model import ir as ir
from relc.compiler.model.naming import dashboard_uid
from relc.compiler.check.promql import render_selector
from relc.targets import Options
from relc.targets.shared.promql_sli import bad_and_total, raw_error_ratio, slo_selector
from relc.targets.prometheus.rules import (BASE_WINDOW_S, Facts, burn_expr, dashboard_url, no_data_expr,
                                            runbook_url)
from relc.targets.runbook.markdown import Md, code, md

_memo = functools.lru_cache(maxsize=4096, typed=True)  # figures repeat across SLOs: format each value once
fmt_number, fmt_percent = _memo(units.fmt_number), _memo(units.fmt_percent)
human_duration, human_percent = _memo(units.human_duration), _memo(units.human_percent)
NO_OPTIONS = Options()  # the Prometheus target's defaults, for queries and links as it writes them


@dataclass(frozen=True)
class Tier:
    name: str
    anchor: str
    severity: str
    burn_rate: str             # "14.4x"
    threshold: str             # error rate above which it fires, "1.44%"
    long_window: str
    short_window: str
    budget_consumed: str       # share of the budget spent when it fires
    detection: str             # time to fire at a total outage
    exhaustion: str            # time until the budget is gone at the tier's threshold
    outlasts_window: bool      # burn rate <= 1: an early warning, the budget lasts the window
    query: str                 # the alert's PromQL condition
    labels: tuple[tuple[str, str], ...] = ()   # labels this tier's alert carries beyond the policy's (routing)


@dataclass(frozen=True)
class Threshold:
    remaining: str
    exhausted: bool
    severity: str
    alert_tier: str
    actions: tuple[str, ...]
    notify: str


@dataclass(frozen=True)
class BudgetPolicy:
    name: str
    description: str
    alert_name: str
    thresholds: tuple[Threshold, ...]


@dataclass(frozen=True)
class Step:
    text: str
    command: str


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Runbook:
    name: str
    summary: str
    url: str
    steps: tuple[Step, ...]
    links: tuple[Link, ...]
    escalation: str


@dataclass(frozen=True)
class NoData:
    alert_name: str
    after: str
    severity: str


@dataclass(frozen=True)
class Query:
    title: Md                  # relc's own words, already Markdown
    promql: str


@dataclass(frozen=True)
class BudgetRow:
    error_rate: str
    lasts: str


@dataclass(frozen=True)
class Page:
    """Everything slo.md.j2 renders for one SLO."""

    service: str
    owner: str
    service_description: str
    slo: str
    description: str
    objective: str
    window: str
    sli_kind: str
    sli: Md                    # one sentence naming the source metrics, relc-built Markdown
    budget: str                # "0.1%"
    one_in: str                # "1 in 1,000"
    outage: str                # full-outage time the budget allows, "43m 12s"
    budget_rows: tuple[BudgetRow, ...]
    alert_name: str
    tiers: tuple[Tier, ...]
    min_events: int
    no_data: NoData | None
    no_data_query: str
    budget_policy: BudgetPolicy | None
    runbook: Runbook | None
    alerts_link_to: str        # where the alerts' runbook_url points when it is not this page
    first_checks: tuple[Query, ...]  # what a paged person looks at first: burn now, error ratios, budget left
    queries: tuple[Query, ...]       # the rest of the diagnosis, down to the source metrics
    dashboard_uid: str
    dashboard_url: str
    chart: str                 # relative path of the page's shared SVG chart, "../_charts/NAME.svg"; "" for none
    index: str                 # relative link to the index page
    group_by: tuple[str, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    ceiling: str = ""          # "99.95%": the product of the hard dependencies' objectives; "" without any
    calendar: str = ""         # "month" for a calendar window (figures then take a 30-day month)
    timezone: str = ""         # the calendar's IANA zone; "" for UTC


@dataclass(frozen=True)
class Dependency:
    key: str                   # service/slo
    path: str                  # its runbook page, relative to this one
    soft: bool
    objective: str


@dataclass(frozen=True)
class SloEntry:
    name: str
    path: str
    description: str
    objective: str
    window: str
    outage: str
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class ServiceEntry:
    name: str
    owner: str
    description: str
    slos: tuple[SloEntry, ...]


def page(slo: ir.SLO, service: ir.Service, options: Options, index: str, chart: str = "",
         project: ir.Project | None = None) -> Page:
    """The view of one SLO's runbook page; `chart` is the link to its shared chart, worked out for all pages at once."""
    policy = slo.alert_policy
    facts = Facts(slo)
    tiers = tier_views(slo, facts)
    objective, window, budget, odds, outage, rows = budget_figures(slo.objective, slo.error_budget, slo.window_s)
    found = queries(slo)
    return Page(
        service=service.name, owner=service.owner, service_description=service.description, slo=slo.name,
        description=slo.description, objective=objective, window=window,
        sli_kind=slo.sli.kind, sli=sli_sentence(slo.sli), budget=budget, one_in=odds, outage=outage,
        budget_rows=rows, alert_name=slo.alert_name, tiers=tiers,
        min_events=policy.min_events if policy else 0, no_data=no_data_view(slo),
        no_data_query=no_data_expr(slo, facts),
        budget_policy=budget_policy_view(slo), runbook=runbook_view(slo.runbook),
        alerts_link_to=alerts_link_to(slo), first_checks=found[:FIRST_CHECKS], queries=found[FIRST_CHECKS:],
        dashboard_uid=dashboard_uid(slo.service),
        dashboard_url=dashboard_url(slo, options) if options.dashboard_base_url else "",
        chart=chart, index=f"../{index}", group_by=slo.group_by, calendar=slo.calendar, timezone=slo.timezone,
        **dependency_views(slo, project))


def dependency_views(slo: ir.SLO, project: ir.Project | None) -> dict:
    """The SLO's dependencies with links to their pages, and its ceiling."""
    if not slo.depends_on or project is None:
        return {}
    found = [(dep, project.find(dep.key)) for dep in slo.depends_on]
    deps = tuple(Dependency(dep.key, f"../{dep.service}/{dep.slo}.md", dep.soft,
                            fmt_percent(other.objective) if other else "") for dep, other in found)
    ceiling, costliest = project.ceiling(slo)
    return {"dependencies": deps, "ceiling": units.floor_percent(ceiling) if costliest else ""}


@_memo
def budget_figures(objective: float, budget: float, window_s: int) -> tuple[str, str, str, str, str, tuple]:
    """Objective, window, budget, odds, outage time and budget rows: the same for every SLO with these values."""
    return (fmt_percent(objective), human_duration(window_s), fmt_percent(budget), one_in(budget),
            human_duration(window_s * budget), budget_rows(budget, window_s))


def tier_views(slo: ir.SLO, facts: Facts | None = None) -> tuple[Tier, ...]:
    """Every alert tier of the SLO, in policy order."""
    if not slo.alert_policy:
        return ()
    facts = facts or Facts(slo)
    return tuple(tier_view(slo, t, facts) for t in slo.alert_policy.tiers)


def tier_view(slo: ir.SLO, tier: ir.AlertTier, facts: Facts) -> Tier:
    """A tier in the terms responders need: when it fires, how fast at worst, how long the budget lasts."""
    figures = tier_figures(tier.name, tier.severity, tier.burn_rate, tier.long_window_s, tier.short_window_s,
                           tier.budget_consumed, slo.error_budget, slo.window_s)
    return Tier(*figures, query=burn_expr(tier, slo.alert_policy, facts),  # type: ignore[arg-type]
                labels=tuple(sorted(tier.labels.items())))


@_memo
def tier_figures(name: str, severity: str, burn_rate: float, long_window_s: int, short_window_s: int,
                 budget_consumed: float, budget: float, window_s: int) -> tuple:
    """Every field of a `Tier` but its query, in field order: SLOs sharing a policy and objective share these."""
    return (name, f"tier-{name}", severity, f"{figure(burn_rate)}x", f"{figure(burn_rate * budget * 100)}%",
            human_duration(long_window_s), human_duration(short_window_s), human_percent(budget_consumed),
            human_duration(burn_rate * long_window_s * budget), human_duration(window_s / burn_rate),
            burn_rate <= 1)


figure = _memo(units.human_number)  # four significant digits for people; the rules keep full precision


def one_in(budget: float) -> str:
    """The budget as odds: 0.001 -> `1 in 1,000`; inexact ones are approximate."""
    ratio = 1 / budget
    if abs(ratio - round(ratio)) < 1e-6:
        return f"1 in {round(ratio):,}"
    return f"about 1 in {ratio:,.0f}" if ratio >= 10 else f"about 1 in {fmt_number(round(ratio, 2))}"


def budget_rows(budget: float, window_s: int) -> tuple[BudgetRow, ...]:
    """How long the budget lasts at error rates from a total outage down to the budget rate itself."""
    rates, rate = [], 1.0
    while rate > budget * 1.0000001 and len(rates) < 6:
        rates.append(rate)
        rate = float(f"{rate / 10:.15g}")
    rates.append(budget)
    return tuple(BudgetRow(fmt_percent(r), human_duration(window_s * budget / r)) for r in rates)


def sli_sentence(sli: ir.SLI) -> Md:
    """Where the SLI's events come from, with metric selectors in code spans."""
    if isinstance(sli, ir.LatencySLI):
        threshold = (f"{fmt_number(sli.threshold_seconds * 1000)}ms" if sli.threshold_seconds < 1
                     else f"{fmt_number(sli.threshold_seconds)}s")
        if sli.native:
            return Md(f"Requests slower than {md(threshold)} are bad, read from the native histogram "
                      f"{code(_selector(sli.histogram))} with `histogram_fraction`: any threshold works, no bucket "
                      "bound is needed.")
        buckets = f"count by (le) ({render_selector(sli.histogram, suffix='_bucket')})"
        return Md(f"Requests slower than {md(threshold)} are bad, read from the histogram "
                  f"{code(_selector(sli.histogram))}. {md(threshold)} must be one of its bucket bounds: if no "
                  f"bucket has it as its `le`, every request counts as bad and this SLO pages at once "
                  f"(list the bounds with {code(buckets)}).")
    if isinstance(sli, ir.RawSLI) and sli.slices is not None:
        slices = sli.slices
        bound = (f"p{fmt_number(slices.quantile * 100)} latency is under {fmt_number(slices.threshold * 1000)}ms"
                 if slices.quantile is not None else f"error ratio is under {fmt_percent(slices.threshold)}")
        return Md(f"The SLI is the share of good {md(human_duration(slices.slice_s))} slices: a slice is good when its "
                  f"{md(bound)}{' or at it' if slices.inclusive else ''}. The objective counts slices, not requests.")
    if isinstance(sli, ir.RawSLI):
        return Md("The share of bad events is a PromQL error ratio written in the source "
                  "(see [Diagnosis](#diagnosis)).")
    kind, query = ("Bad", sli.bad) if sli.bad is not None else ("Good", sli.good)
    return Md(f"{kind} events: {code(_selector(query))}; all events: {code(_selector(sli.total))}.")


def _selector(query: ir.Selector | ir.RawQuery | None) -> str:
    """Selectors as PromQL, the way the Prometheus target renders them."""
    if query is None:
        return ""
    return query.promql.strip() if isinstance(query, ir.RawQuery) else render_selector(query)


def no_data_view(slo: ir.SLO) -> NoData | None:
    """The no-data alert exactly as the Prometheus target emits it, or None when it emits none."""
    policy = slo.alert_policy
    if policy is None or not policy.no_data_after_s:
        return None
    return NoData(f"{slo.alert_name}NoData", human_duration(policy.no_data_after_s), policy.no_data_severity)


def budget_policy_view(slo: ir.SLO) -> BudgetPolicy | None:
    """Thresholds with the `alert_tier` label the Prometheus target gives each one's alert."""
    policy = slo.budget_policy
    if policy is None:
        return None
    rows = tuple(Threshold(
        remaining=human_percent(t.remaining) if t.remaining else "0%", exhausted=not t.remaining,
        severity=t.severity, actions=t.actions, notify=t.notify,
        alert_tier=("budget-" + (human_percent(t.remaining) if t.remaining else "exhausted")).replace("%", "pct"))
        for t in policy.thresholds)
    return BudgetPolicy(policy.name, policy.description, f"{slo.alert_name}ErrorBudget", rows)


def runbook_view(runbook: ir.Runbook | None) -> Runbook | None:
    """The runbook's text as plain records, so templates see no IR objects."""
    if runbook is None:
        return None
    return Runbook(runbook.name, runbook.summary, runbook.url,
                   tuple(Step(s.text, s.command) for s in runbook.steps),
                   tuple(Link(li.title, li.url) for li in runbook.links), runbook.escalation)


def alerts_link_to(slo: ir.SLO) -> str:
    """The alerts' runbook_url when it is not this page: the runbook's own url or a policy annotation."""
    own = runbook_url(slo, "x", NO_OPTIONS)
    if own != f"{slo.service}/{slo.name}.md#x":
        return own
    if slo.alert_policy is not None:
        return slo.alert_policy.annotations.get("runbook_url", "")
    return ""


FIRST_CHECKS = 3  # the queries "Check first" shows; the rest are in "Diagnosis"


def queries(slo: ir.SLO) -> tuple[Query, ...]:
    """PromQL to paste into Prometheus or Grafana Explore, from relc's recorded series to the raw metrics."""
    sel = slo_selector(slo)
    found = [
        Query(Md("How fast the budget burns right now: the burn rate over the last 5 minutes (1 = exactly "
                 "sustainable)"), f"relc_slo:burn_rate:rate5m{sel}"),
        Query(Md("Since when: the error ratio over every window relc records (5m up to the SLO window"
                 + (", and this " + slo.calendar + " so far)" if slo.calendar else ")")),
              '{__name__=~"relc_slo:error_ratio:' + ('(rate[0-9a-z]+|period)' if slo.calendar else 'rate.+') + '",'
              + sel[1:]),
        Query(Md("How much is left: the error budget remaining over the SLO window (1 = untouched, 0 = spent)"),
              f"relc_slo:error_budget_remaining:ratio{sel}"),
    ]
    if isinstance(slo.sli, ir.RawSLI):
        found.append(Query(Md("The SLI straight from the source metrics, over 5 minutes (bypasses recording rules)"),
                           raw_error_ratio(slo.sli, BASE_WINDOW_S)))
    else:
        bad, total = bad_and_total(slo.sli, BASE_WINDOW_S)
        found.append(Query(Md("Error ratio straight from the source metrics, over 5 minutes (bypasses recording "
                              "rules)"), f"(\n  {bad}\n)\n/\n{total}"))
        found.append(Query(Md("Events per second, from the source metrics"), total))
    return tuple(found)


def index_entries(project: ir.Project, tiers: dict[int, tuple[Tier, ...]] | None = None) -> tuple[ServiceEntry, ...]:
    """Services with at least one SLO, in source order, for the index page; `tiers` (by `id(slo)`) reuses the pages'."""
    entries = []
    for service in project.services:
        if not service.slos:
            continue
        slos = tuple(SloEntry(
            slo.name, f"{service.name}/{slo.name}.md", slo.description, fmt_percent(slo.objective),
            slo.window_text if slo.calendar else human_duration(slo.window_s), human_duration(slo.window_s * slo.error_budget),
            tiers[id(slo)] if tiers is not None else tier_views(slo))
            for slo in service.slos)
        entries.append(ServiceEntry(service.name, service.owner, service.description, slos))
    return tuple(entries)
