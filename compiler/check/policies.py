"""Alert policies, error-budget policies and runbooks: the reusable definitions SLOs refer to."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from relc.compiler import diagnostics as dg
from relc.compiler.model import ir
from relc.compiler.diagnostics import Diagnostic, Related, Span
from relc.compiler.check.reader import Reader, Shape, check_name, origin
from relc.compiler.syntax.tree import Block
from relc.compiler.units import fmt_number, human_duration, prom_duration

BUILTIN_POLICY = "workbook"
RESERVED_LABELS = ("service", "slo", "severity", "alert_tier")

GUARD_KEYS = frozenset({"min_events", "no_data_after", "no_data_severity"})
ALERT_POLICY = Shape(frozenset({"description", "labels", "annotations"}) | GUARD_KEYS, frozenset({"tier"}),
                     label="named")
TIER = Shape(frozenset({"severity", "budget", "burn_rate", "long", "short", "for", "labels", "annotations"}),
             label="named")
BUDGET_POLICY = Shape(frozenset({"description"}), frozenset({"threshold"}), label="named")
THRESHOLD = Shape(frozenset({"remaining", "actions", "notify", "severity"}))
RUNBOOK = Shape(frozenset({"summary", "url", "escalation", "links"}), frozenset({"step"}), label="named")
STEP = Shape(frozenset({"command"}), label="named")
URL_SCHEMES = ("https://", "http://", "mailto:")


@dataclass(frozen=True)
class TierSpec:
    """A tier as written: budget share or burn rate, still independent of any SLO window."""

    name: str
    severity: str
    budget: Decimal | None
    burn_rate: Decimal | None
    long_s: int
    short_s: int
    span: Span
    scales: bool = False  # a built-in tier: its windows shrink with SLO windows shorter than the Workbook's
    labels: dict[str, str] = field(default_factory=dict)       # this tier's alert only; win over the policy's
    annotations: dict[str, str] = field(default_factory=dict)
    for_s: int = 0        # the condition must hold this long before the alert fires (Prometheus `for`)


@dataclass(frozen=True)
class AlertPolicySpec:
    name: str
    description: str
    tiers: tuple[TierSpec, ...]
    labels: dict[str, str]
    annotations: dict[str, str]
    origin: ir.Origin | None
    guards: dict = field(default_factory=dict)


def _builtin_tier(name: str, severity: str, budget: str, long_s: int, short_s: int) -> TierSpec:
    return TierSpec(name, severity, Decimal(budget), None, long_s, short_s, Span.point("<builtin>", 1, 1), True)


WORKBOOK_WINDOW_S = 30 * 86400   # the SLO window the Workbook's table is written for
MIN_SHORT_S = 300                # a scaled short window never drops below relc's 5m base rate


def scaled_tier(tier: TierSpec, window_s: int) -> TierSpec:
    """A built-in tier for an SLO window under 30d: both windows shrink in proportion (as Pyrra scales its
    own), rounded to the minute, so the factor stays the Workbook's 14.4x, 6x, 3x or 1x and never drops below
    the sustainable rate. A short window keeps at least 5m, and a long one at least twice its short one."""
    if not tier.scales or window_s >= WORKBOOK_WINDOW_S or tier.budget is None:
        return tier
    factor = tier.budget * Decimal(WORKBOOK_WINDOW_S) / Decimal(tier.long_s)
    short_s = max(MIN_SHORT_S, _to_minute(tier.short_s * window_s / WORKBOOK_WINDOW_S))
    long_s = max(2 * short_s, _to_minute(tier.long_s * window_s / WORKBOOK_WINDOW_S))
    return TierSpec(tier.name, tier.severity, None, factor, long_s, short_s, tier.span, True, tier.labels,
                    tier.annotations, tier.for_s)


def _to_minute(seconds: float) -> int:
    return max(60, int(Decimal(seconds / 60).quantize(Decimal(1), rounding="ROUND_HALF_EVEN")) * 60)


# The SRE Workbook, "Alerting on SLOs", table 5-8: page on 2%/1h and 5%/6h, ticket on 10%/1d and 10%/3d.
WORKBOOK = AlertPolicySpec(
    BUILTIN_POLICY, "Multi-window, multi-burn-rate alerts from the SRE Workbook",
    (
        _builtin_tier("page-fast", "page", "0.02", 3600, 300),
        _builtin_tier("page-slow", "page", "0.05", 6 * 3600, 1800),
        _builtin_tier("ticket-fast", "ticket", "0.10", 86400, 2 * 3600),
        _builtin_tier("ticket-slow", "ticket", "0.10", 3 * 86400, 6 * 3600),
    ),
    {}, {}, None,
)


def read_alert_policy(block: Block, diags: list[Diagnostic]) -> AlertPolicySpec:
    reader = Reader(block, ALERT_POLICY, diags)
    tiers: list[TierSpec] = []
    seen: dict[str, Span] = {}
    for tier_block in reader.blocks("tier"):
        tier = _read_tier(tier_block, diags)
        if tier is None:
            continue
        if tier.name in seen:
            diags.append(dg.make("RELC305", f"tier `{tier.name}` is defined twice in alert policy `{block.label}`",
                                 tier_block.label_span, related=(Related(seen[tier.name], "first defined here"),)))
            continue
        seen[tier.name] = tier_block.label_span  # type: ignore[assignment]
        tiers.append(tier)
    if not reader.blocks("tier"):
        diags.append(dg.make("RELC304", f"alert policy `{block.label}` has no `tier` blocks", block.kind_span,
                             hint="add tiers, or write `alert_policy = none` on SLOs that should not alert"))
    annotations = read_annotations(reader, diags)
    return AlertPolicySpec(block.label or "", reader.string("description"), tuple(tiers),
                           reader.labels("labels", RESERVED_LABELS), annotations, origin(block.span),
                           read_guards(reader, diags))


def read_guards(reader: Reader, diags: list[Diagnostic]) -> dict:
    """Low-traffic and no-data settings, as set on a policy or an SLO (which wins)."""
    guards: dict = {}
    min_events = reader.number("min_events")
    if min_events is not None:
        if min_events < 0 or min_events != int(min_events):
            diags.append(dg.make("RELC312", "`min_events` must be a whole number of events, 0 or more",
                                 reader.attrs["min_events"].value.span))
        else:
            guards["min_events"] = int(min_events)
    no_data = reader.duration_s("no_data_after")
    if no_data is not None:
        guards["no_data_after_s"] = no_data
    if "no_data_severity" in reader.attrs:
        guards["no_data_severity"] = reader.string("no_data_severity")
    return guards


def _read_tier(block: Block, diags: list[Diagnostic]) -> TierSpec | None:
    reader = Reader(block, TIER, diags)
    if block.label is None:
        diags.append(dg.make("RELC304", "a tier needs a name, e.g. `tier page-fast { ... }`", block.kind_span))
        return None
    check_name(block.label, block.label_span, "tier", diags)
    severity = reader.string("severity", required=True)
    budget = reader.percent("budget")
    burn_rate = reader.number("burn_rate")
    long_s = reader.duration_s("long", required=True)
    short_s = reader.duration_s("short", required=True)
    if ("budget" in reader.attrs) == ("burn_rate" in reader.attrs):
        diags.append(dg.make("RELC304", f"tier `{block.label}` needs exactly one of `budget` or `burn_rate`",
                             block.kind_span, hint="`budget = 2%` is the share of the error budget spent in the "
                                                   "long window; `burn_rate = 14.4` is the factor itself"))
        return None
    if budget is not None and not Decimal(0) < budget <= Decimal(1):
        diags.append(dg.make("RELC312", "`budget` must be more than 0% and at most 100%",
                             reader.attrs["budget"].value.span))
        return None
    if burn_rate is not None and burn_rate <= 0:
        diags.append(dg.make("RELC312", "`burn_rate` must be positive", reader.attrs["burn_rate"].value.span))
        return None
    if long_s is None or short_s is None or budget is None and burn_rate is None:
        return None
    if short_s >= long_s:
        diags.append(dg.make("RELC312", f"the short window ({human_duration(short_s)}) must be shorter than the "
                             f"long window ({human_duration(long_s)})", reader.attrs["short"].value.span,
                             hint="the Workbook uses a short window of 1/12 of the long one"))
        return None
    for_s = reader.duration_s("for") if "for" in reader.attrs else 0
    return TierSpec(block.label, severity, budget, burn_rate, long_s, short_s, block.span,
                    labels=reader.labels("labels", RESERVED_LABELS), annotations=read_annotations(reader, diags),
                    for_s=for_s or 0)


def read_annotations(reader: Reader, diags: list[Diagnostic]) -> dict[str, str]:
    """A policy's or tier's `annotations`, link annotations checked as links (a bad one is left out)."""
    annotations = reader.string_map("annotations", keys_are_labels=True)
    for key in ("runbook_url", "dashboard_url"):
        if key in annotations and not _checked_url(annotations[key], reader.attrs["annotations"].value.span, diags):
            del annotations[key]
    return annotations


def resolve_tier(tier: TierSpec, window_s: int, objective: Decimal, objective_span: Span, window_span: Span,
                 diags: list[Diagnostic]) -> ir.AlertTier | None:
    """Turn a tier into concrete numbers for one SLO window, rejecting tiers that cannot work."""
    tier = scaled_tier(tier, window_s)
    window = Decimal(window_s)
    if tier.long_s > window_s:
        diags.append(dg.make(
            "RELC310", f"alert tier `{tier.name}` looks back {human_duration(tier.long_s)}, longer than the SLO "
            f"window of {human_duration(window_s)}", window_span,
            hint="lengthen the window or use an alert policy with shorter tiers",
            related=_builtin_or(tier)))
        return None
    if tier.budget is not None:
        burn_rate = tier.budget * window / Decimal(tier.long_s)
        consumed = tier.budget
    else:
        burn_rate = tier.burn_rate  # type: ignore[assignment]
        consumed = burn_rate * Decimal(tier.long_s) / window
    if burn_rate < 1:
        diags.append(_below_sustainable(tier, burn_rate, window_s, window_span))
        return None
    max_burn = Decimal(1) / (Decimal(1) - objective)
    if burn_rate >= max_burn:  # the alert compares with `>`, so equality can never fire either
        diags.append(dg.make(
            "RELC311", f"alert tier `{tier.name}` fires above a burn rate of {fmt_number(float(burn_rate))}x, but at an "
            f"objective of {fmt_number(float(objective * 100))}% the budget burns at most "
            f"{fmt_number(float(max_burn))}x (100% errors), so it can never fire", objective_span,
            hint="raise the objective or use an alert policy with lower burn rates", related=_builtin_or(tier)))
        return None
    return ir.AlertTier(name=tier.name, severity=tier.severity, burn_rate=float(burn_rate),
                             budget_consumed=float(consumed), long_window_s=tier.long_s,
                             short_window_s=tier.short_s, labels=dict(tier.labels),
                             annotations=dict(tier.annotations), for_s=tier.for_s)


def _below_sustainable(tier: TierSpec, burn_rate: Decimal, window_s: int, window_span: Span) -> Diagnostic:
    """A tier under 1x fires while errors stay inside the budget: people learn to ignore such alerts."""
    factor = fmt_number(float(burn_rate))
    what = (f"at {factor}x the errors spend {fmt_number(float(burn_rate * 100))}% of the budget over the "
            f"{human_duration(window_s)} window, so the SLO is still met")
    if tier.budget is not None:
        budget = (tier.budget / burn_rate * 100).quantize(Decimal("0.01"), rounding="ROUND_CEILING")
        long_s = int(tier.long_s * burn_rate) // 60 * 60
        fix = (f"raise `budget` to at least {fmt_number(float(budget))}% or shorten `long` to at most "
               f"{prom_duration(long_s)} (the factor is budget x window / long)")
    else:
        fix = "raise `burn_rate` to 1 or more"
    return dg.make("RELC315", f"alert tier `{tier.name}` fires at {factor}x the sustainable burn rate, below 1x: "
                   "it would alert while the SLO is being met", window_span,
                   hint=f"{what}; {fix}", related=_builtin_or(tier))


def _builtin_or(tier: TierSpec) -> tuple[Related, ...]:
    if tier.span.path == "<builtin>":
        return ()
    return (Related(tier.span, "tier defined here"),)


def read_budget_policy(block: Block, diags: list[Diagnostic]) -> ir.BudgetPolicy:
    reader = Reader(block, BUDGET_POLICY, diags)
    thresholds: list[ir.BudgetThreshold] = []
    for th_block in reader.blocks("threshold"):
        th = Reader(th_block, THRESHOLD, diags)
        remaining = th.percent("remaining", required=True)
        actions = th.strings("actions")
        if not actions and "actions" not in th.attrs:
            diags.append(dg.make("RELC304", "threshold is missing `actions`", th_block.kind_span,
                                 hint='e.g. actions = ["Freeze feature launches"]'))
        if remaining is None:
            continue
        if not Decimal(0) <= remaining <= Decimal(1):
            diags.append(dg.make("RELC312", "`remaining` must be between 0% and 100%",
                                 th.attrs["remaining"].value.span))
            continue
        thresholds.append(ir.BudgetThreshold(remaining=float(remaining), actions=actions,
                                                  notify=th.string("notify"),
                                                  severity=th.string("severity", default="ticket")))
    thresholds.sort(key=lambda t: -t.remaining)
    return ir.BudgetPolicy(name=block.label or "", description=reader.string("description"),
                                thresholds=tuple(thresholds), origin=origin(block.span))


def read_runbook(block: Block, diags: list[Diagnostic]) -> ir.Runbook:
    reader = Reader(block, RUNBOOK, diags)
    steps = []
    for step in reader.blocks("step"):
        step_reader = Reader(step, STEP, diags)
        if step.label is None:
            diags.append(dg.make("RELC304", 'a step needs its text, e.g. `step "Check the dashboard"`',
                                 step.kind_span))
            continue
        steps.append(ir.RunbookStep(text=step.label, command=step_reader.string("command")))
    url = reader.string("url")
    if url and not _checked_url(url, reader.attrs["url"].value.span, diags):
        url = ""
    links = []
    for title, link in reader.string_map("links").items():
        if _checked_url(link, reader.attrs["links"].value.span, diags):
            links.append(ir.Link(title=title, url=link))
    return ir.Runbook(name=block.label or "", summary=reader.string("summary"), url=url,
                           steps=tuple(steps), links=tuple(links), escalation=reader.string("escalation"),
                           origin=origin(block.span))


def _checked_url(url: str, span: Span, diags: list[Diagnostic]) -> bool:
    if url.startswith(URL_SCHEMES) and not any(c.isspace() or c in "<>\"`" for c in url):
        return True
    diags.append(dg.make("RELC312", f"not a usable link: {url!r}", span,
                         hint="links start with https://, http:// or mailto: and contain no spaces or quotes"))
    return False
