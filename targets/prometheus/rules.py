"""Rules for one SLO: error ratios per window, metadata series, burn-rate, no-data and budget-policy alerts."""
from __future__ import annotations

from functools import lru_cache

from relc.compiler.model import ir as ir
from relc.compiler.check.promql import render_selector
from relc.compiler.units import fmt_number, fmt_percent, human_duration, human_percent, prom_duration
from relc.targets import Options
from relc.targets.prometheus.rule import matchers, record as _record
from relc.targets.prometheus.calendar import PERIOD_BURN, PERIOD_RATIO, coverage_expr, period_days, period_rules
from relc.targets.shared.promql_sli import Rates, by_clause, keep_group_labels, raw_error_ratio, slo_selector

BASE_WINDOW_S = 300           # short rates are recorded at 5m and everything long is summed from them
DERIVED_FROM_S = 86400        # windows of a day or more are sums over the recorded 5m rates

BAD = "relc_slo:bad_events:rate5m"
TOTAL = "relc_slo:total_events:rate5m"
SINCE = "relc_slo:data_since:timestamp"
COVERAGE = "relc_slo:window_coverage:ratio"
REMAINING = "relc_slo:error_budget_remaining:ratio"
WINDOW_RATIO = "relc_slo:error_ratio:window"  # the error ratio over the SLO's own window, whatever its length
VALUE_ONE_DECIMAL = '{{ $value | printf "%.1f" }}'
VALUE_PERCENT = "{{ $value | humanizePercentage }}"
# Budget alerts say how much of the window the estimate rests on, read when the alert fires; the selector is
# built from the alert's own labels, so no source text enters the template.
COVERED = ("{{ with printf \"max(" + COVERAGE + "{service=%q,slo=%q})\" $labels.service $labels.slo | query }}"
           "{{ if lt (. | first | value) 1.0 }}; estimated from the {{ . | first | value | humanizePercentage }} "
           "of the window that has data so far{{ end }}{{ end }}")
LIVE_TEMPLATES = (VALUE_ONE_DECIMAL, VALUE_PERCENT, COVERED)

# Pure functions of a few windows and durations, asked for thousands of times per build.
_duration = lru_cache(maxsize=1024, typed=True)(prom_duration)
_human = lru_cache(maxsize=1024, typed=True)(human_duration)


def ratio_name(window_s: int) -> str:
    return f"relc_slo:error_ratio:rate{_duration(window_s)}"


def burn_name(window_s: int) -> str:
    return f"relc_slo:burn_rate:rate{_duration(window_s)}"


def window_ratio_name(slo: ir.SLO) -> str:
    """The series holding the error ratio the objective judges: over the rolling window, or the period so far."""
    return PERIOD_RATIO if slo.calendar else ratio_name(slo.window_s)


def window_burn_name(slo: ir.SLO) -> str:
    return PERIOD_BURN if slo.calendar else burn_name(slo.window_s)


class Facts:
    """What the rules of one SLO repeat (its selectors, budget, labels, event rates), worked out once.

    `sel` ({service, slo}) reads recorded history over a range and is always aggregated, so series that an
    earlier label set recorded count too and never meet the new ones in a vector match. `exact` (every label
    the rules record) reads the current value: series of an earlier label set, which linger for the lookback
    after a restart, never match it."""

    __slots__ = ("sli", "sel", "exact", "budget", "labels", "_rates", "by", "on", "group_by")

    def __init__(self, slo: ir.SLO):
        self.sli = slo.sli
        self.group_by = slo.group_by
        recorded = slo.recorded_group_by
        self.by = by_clause(recorded)  # " by (tenant) " to keep one series per group, "" for one per SLO
        self.on = f"on({', '.join(recorded)})"
        self.sel = slo_selector(slo)
        self.labels = base_labels(slo)
        self.exact = matchers(self.labels)
        self.budget = fmt_number(slo.error_budget)
        self._rates: Rates | None | bool = False

    @property
    def rates(self) -> Rates | None:
        """The SLI's event rates (None for a raw ratio), rendered when first needed: one alert alone may not."""
        if self._rates is False:
            self._rates = None if isinstance(self.sli, ir.RawSLI) else Rates(self.sli, self.group_by)
        return self._rates  # type: ignore[return-value]


def slo_rules(slo: ir.SLO, service: ir.Service, options: Options) -> list[dict]:
    """Every rule of one SLO, in evaluation order (a rule only reads rules recorded before it)."""
    facts = Facts(slo)
    rules = sli_rules(slo, facts) + metadata_rules(slo, service, facts)
    policy = slo.alert_policy
    if policy is not None:
        rules += [burn_alert(slo, tier, policy, options, facts) for tier in policy.tiers]
        if policy.no_data_after_s:
            rules.append(no_data_alert(slo, policy, options, facts))
    if slo.budget_policy is not None:
        rules += budget_alerts(slo, slo.budget_policy, options, facts)
    return rules


def windows(slo: ir.SLO) -> list[int]:
    """Every window an alert or the SLO itself reads, shortest first (a calendar SLO reads its period instead)."""
    found = {BASE_WINDOW_S} if slo.calendar else {BASE_WINDOW_S, slo.window_s}
    if slo.alert_policy is not None:
        for tier in slo.alert_policy.tiers:
            found.update((tier.long_window_s, tier.short_window_s))
    return sorted(found)


def base_labels(slo: ir.SLO) -> dict[str, str]:
    return {"service": slo.service, "slo": slo.name, **slo.labels}


def sli_rules(slo: ir.SLO, facts: Facts | None = None) -> list[dict]:
    """Error ratios per window: direct rates for short windows, ratios of sums of 5m rates for long ones."""
    facts = facts or Facts(slo)
    labels, sel, rates = facts.labels, facts.sel, facts.rates
    if rates is None:
        rules = [_record(ratio_name(w), _raw_ratio(slo, w, sel, facts.by), labels) for w in windows(slo)]
        if slo.calendar:
            rules += period_rules(slo, labels, facts.exact, sel, facts.by, (ratio_name(BASE_WINDOW_S),))
        return rules
    bad, total = rates.at(BASE_WINDOW_S)
    rules = [_record(BAD, bad, labels), _record(TOTAL, total, labels),
             _record(ratio_name(BASE_WINDOW_S), f"{BAD}{facts.exact} / {TOTAL}{facts.exact}", labels)]
    for window_s in windows(slo):
        if window_s == BASE_WINDOW_S:
            continue
        if window_s >= DERIVED_FROM_S:
            expr = f"{_summed(BAD, sel, window_s, facts.by)} / {_summed(TOTAL, sel, window_s, facts.by)}"
        else:
            expr = rates.error_ratio(window_s)
        rules.append(_record(ratio_name(window_s), expr, labels))
    if slo.calendar:
        rules += period_rules(slo, labels, facts.exact, sel, facts.by, (BAD, TOTAL))
    return rules


def _summed(name: str, sel: str, window_s: int, by: str = "") -> str:
    """A recorded series summed over a range, across every label set it was recorded under (per group with `by`)."""
    return f"sum{by}(sum_over_time({name}{sel}[{_duration(window_s)}]))"


def _mean(name: str, sel: str, window_s: int, by: str = "") -> str:
    """The mean of a recorded series' samples over a range, across every label set it was recorded under."""
    return f"{_summed(name, sel, window_s, by)} / sum{by}(count_over_time({name}{sel}[{_duration(window_s)}]))"


def _raw_ratio(slo: ir.SLO, window_s: int, sel: str, by: str = "") -> str:
    """A raw ratio gives no counts to sum, so long windows average the recorded 5m ratio (time-weighted)."""
    if window_s >= DERIVED_FROM_S:
        return _mean(ratio_name(BASE_WINDOW_S), sel, window_s, by)
    return keep_group_labels(raw_error_ratio(slo.sli, window_s), slo.group_by)  # type: ignore[arg-type]


def metadata_rules(slo: ir.SLO, service: ir.Service, facts: Facts | None = None) -> list[dict]:
    """Series that dashboards and other tools read instead of re-deriving the SLO's numbers."""
    facts = facts or Facts(slo)
    labels, exact, budget = facts.labels, facts.exact, facts.budget
    owner = {"owner": service.owner} if service.owner else {}
    calendar = {"window": f"calendar {slo.calendar}", "timezone": slo.timezone or "UTC"} if slo.calendar else {}
    info = {**labels, **owner, "objective": fmt_percent(slo.objective),
            "window": _duration(slo.window_s), "sli_kind": slo.sli.kind, **calendar}
    ratio, burn = window_ratio_name(slo), window_burn_name(slo)
    days = period_days(slo) if slo.calendar else f"vector({fmt_number(slo.window_s / 86400)})"
    return [
        _record("relc_slo:objective:ratio", f"vector({fmt_number(slo.objective)})", labels),
        _record("relc_slo:error_budget:ratio", f"vector({budget})", labels),
        _record("relc_slo:window:days", days, labels),
        _record("relc_slo_info", "vector(1)", info),
        _record(burn_name(BASE_WINDOW_S), f"{ratio_name(BASE_WINDOW_S)}{exact} / {budget}", labels),
        _record(burn, f"{ratio}{exact} / {budget}", labels),
        _record(WINDOW_RATIO, f"{ratio}{exact}", labels),
        *coverage_rules(slo, facts),
        _record(REMAINING, f"1 - {burn}{exact} * {COVERAGE}{exact}", labels),
    ]


def coverage_rules(slo: ir.SLO, facts: Facts) -> list[dict]:
    """How much of the SLO window relc's recorded series cover: the first time they held data (kept by the rule
    reading its own earlier values, under any label set), and that age as a share of the window, at most 1.
    Until the window is covered, the budget spent is the bad events seen so far against the budget of a whole
    window at the traffic seen so far, so a blip in the first hours is not read as a month's budget gone."""
    present = f"{TOTAL}{facts.exact}" if facts.rates is not None else f"{ratio_name(BASE_WINDOW_S)}{facts.exact}"
    first = f"min{facts.by}(min_over_time({SINCE}{facts.sel}[{_duration(slo.window_s)}]))"
    if facts.by:  # a group's first sample starts its own clock; the group labels alone on both sides of `or`
        since = f"{first} or (max{facts.by}({present}) * 0 + time())"
    else:
        since = f"{first} or (vector(time()) and on() {present})"
    coverage = (coverage_expr(slo, f"{SINCE}{facts.exact}") if slo.calendar else
                f"clamp_max((time() - {SINCE}{facts.exact}) / {slo.window_s}, 1)")
    return [_record(SINCE, since, facts.labels), _record(COVERAGE, coverage, facts.labels)]


def burn_alert(slo: ir.SLO, tier: ir.AlertTier, policy: ir.AlertPolicy, options: Options,
               facts: Facts | None = None) -> dict:
    """One alert per tier: both windows above the tier's burn rate; the value is the long-window burn rate."""
    facts = facts or Facts(slo)
    labels = {"severity": tier.severity, "service": slo.service, "slo": slo.name, "alert_tier": tier.name,
              **policy.labels, **tier.labels, **slo.labels}
    rule = _alert(slo.alert_name, burn_expr(tier, policy, facts), labels,
                  _burn_annotations(slo, tier, policy, options), policy, options, anchor=f"tier-{tier.name}", slo=slo,
                  own=tier.annotations)
    if tier.for_s:
        rule = {"alert": rule.pop("alert"), "expr": rule.pop("expr"), "for": _duration(tier.for_s), **rule}
    return rule


def burn_expr(tier: ir.AlertTier, policy: ir.AlertPolicy, facts: Facts) -> str:
    """A tier's alert expression alone: what a runbook page shows, without building the whole rule."""
    exact, budget = facts.exact, facts.budget
    factor = fmt_number(tier.burn_rate)
    expr = (f"(\n  {ratio_name(tier.long_window_s)}{exact} / {budget} > {factor}\nand\n"
            f"  {ratio_name(tier.short_window_s)}{exact} / {budget} > {factor}\n)")
    if policy.min_events:
        expr += f"\nand {facts.on}\n  {_events_in(facts, tier.long_window_s)} >= {policy.min_events}"
    return expr


def _events_in(facts: Facts, window_s: int) -> str:
    """Events in a window, from the total rate the rules already record (the source is read once, for every
    tier): its mean over the window times the window, stretched over the window until it has that much history."""
    return f"({_mean(TOTAL, facts.sel, window_s, facts.by)}) * {window_s}"


def no_data_alert(slo: ir.SLO, policy: ir.AlertPolicy, options: Options, facts: Facts | None = None) -> dict:
    """Silence is not health: page nobody, but say when the SLI's source metrics disappear."""
    expr = no_data_expr(slo, facts)
    labels = {"severity": policy.no_data_severity, "service": slo.service, "slo": slo.name,
              "alert_tier": "no-data", **policy.labels, **slo.labels}
    after = _human(policy.no_data_after_s)
    notes = {"summary": f"{slo.service}/{slo.name} has no SLI data",
             "description": f"The metrics behind the {slo.service}/{slo.name} SLO have been absent for {after}; "
                            "its burn-rate alerts cannot fire until they return."}
    rule = _alert(f"{slo.alert_name}NoData", expr, labels, notes, policy, options, anchor="no-data", slo=slo)
    rule["for"] = _duration(policy.no_data_after_s)
    return rule


def no_data_expr(slo: ir.SLO, facts: Facts | None = None) -> str:
    """The no-data alert's expression alone (see burn_expr); a grouped SLO also says which groups went quiet."""
    facts = facts or Facts(slo)
    whole = _absent_expr(slo, facts)
    if not slo.group_by:
        return whole
    present = TOTAL if facts.rates is not None else ratio_name(BASE_WINDOW_S)
    gone = (f"group{facts.by}(last_over_time({present}{facts.sel}[{_duration(NO_DATA_MEMORY_S)}])) "
            f"unless group{facts.by}({present}{facts.sel})")
    return f"({gone})\nor\n{whole}"


NO_DATA_MEMORY_S = 86400  # a group that had data within a day and has none now is reported as silent


def _absent_expr(slo: ir.SLO, facts: Facts) -> str:
    """The SLI's source is absent as a whole."""
    # absent() copies the selector's equality matchers into its result; sum() drops them, so the no-data alert
    # carries the same labels as the SLO's other alerts.
    if isinstance(slo.sli, ir.LatencySLI):
        suffix = "" if slo.sli.native else "_count"
        return f"sum(absent({render_selector(slo.sli.histogram, suffix=suffix)}))"
    if isinstance(slo.sli, ir.EventsSLI) and isinstance(slo.sli.total, ir.Selector):
        return f"sum(absent({render_selector(slo.sli.total)}))"
    return f"sum(absent({ratio_name(BASE_WINDOW_S)}{facts.exact}))"


def budget_alerts(slo: ir.SLO, budget_policy: ir.BudgetPolicy, options: Options,
                  facts: Facts | None = None) -> list[dict]:
    """One alert per policy threshold, each firing only in its band, so people see the step they are on."""
    remaining = f"{REMAINING}{(facts or Facts(slo)).exact}"
    rules = []
    thresholds = budget_policy.thresholds  # sorted by remaining, highest first
    for index, threshold in enumerate(thresholds):
        expr = f"{remaining} <= {fmt_number(threshold.remaining)}"
        if index + 1 < len(thresholds):
            expr += f"\nand\n{remaining} > {fmt_number(thresholds[index + 1].remaining)}"
        level = human_percent(threshold.remaining) if threshold.remaining else "exhausted"
        labels = {"severity": threshold.severity, "service": slo.service, "slo": slo.name,
                  "alert_tier": f"budget-{level}".replace("%", "pct"), **slo.labels}
        state = "is exhausted" if not threshold.remaining else f"is at or below {human_percent(threshold.remaining)}"
        actions = "; ".join(a.rstrip(" .") for a in threshold.actions) + "."
        commits = (f" Policy `{budget_policy.name}` commits to: {actions}"
                   + (f" Notify: {threshold.notify}." if threshold.notify else ""))
        notes = {"summary": f"{slo.service}/{slo.name} error budget {state}",
                 "description": (f"The {slo.window_text} error budget of {slo.service}/{slo.name} "
                                 f"{state} ({VALUE_PERCENT} left{COVERED}).{commits}")}
        rules.append(_alert(f"{slo.alert_name}ErrorBudget", expr, labels, notes, None, options,
                            anchor="error-budget-policy", slo=slo))
    return rules


def _burn_annotations(slo: ir.SLO, tier: ir.AlertTier, policy: ir.AlertPolicy, options: Options) -> dict[str, str]:
    window = slo.window_text if slo.calendar else _human(slo.window_s)
    long_h, short_h = _human(tier.long_window_s), _human(tier.short_window_s)
    lasts = slo.window_s / tier.burn_rate
    fate = (f"at that rate the whole budget is gone in {_human(lasts)}" if tier.burn_rate > 1 else
            f"at that rate the budget would last the whole {window} window, so this is an early warning")
    return {
        "summary": f"{slo.service}/{slo.name} is burning its error budget too fast ({tier.severity})",
        "description": (
            f"The {slo.service}/{slo.name} SLO ({fmt_percent(slo.objective)} over {window}) is burning its error "
            f"budget at {VALUE_ONE_DECIMAL}x the sustainable rate over the last {long_h} "
            f"(also over {short_h}). Tier {tier.name} fires at {fmt_number(tier.burn_rate)}x, when "
            f"{human_percent(tier.budget_consumed)} of the budget is spent in {long_h}; {fate}."),
    }


def _alert(name: str, expr: str, labels: dict[str, str], notes: dict[str, str], policy: ir.AlertPolicy | None,
           options: Options, anchor: str, slo: ir.SLO, own: dict[str, str] | None = None) -> dict:
    """Assemble an alert; text from the source is escaped so Prometheus' templating leaves it literal (the
    generated annotations escape what they quote from the source themselves). `own` are the tier's annotations,
    which win over the policy's."""
    annotations = {key: escape_all_but_relc(value) for key, value in notes.items()}
    annotations["runbook_url"] = escape_template(runbook_url(slo, anchor, options))
    if options.dashboard_base_url:
        annotations["dashboard_url"] = escape_template(dashboard_url(slo, options))
    for key, value in [*(policy.annotations.items() if policy else ()), *(own or {}).items(),
                       *slo.annotations.items()]:
        annotations[key] = escape_template(value)  # the policy's, the tier's, then the SLO's text wins
    return {"alert": name, "expr": expr, "labels": {k: escape_template(v) for k, v in labels.items()},
            "annotations": annotations}


def runbook_url(slo: ir.SLO, anchor: str, options: Options) -> str:
    if slo.runbook is not None and slo.runbook.url:
        return slo.runbook.url
    return f"{_base(options.runbook_base_url)}{slo.service}/{slo.name}.md#{anchor}"


def dashboard_url(slo: ir.SLO, options: Options) -> str:
    from relc.compiler.model.naming import dashboard_uid

    return f"{_base(options.dashboard_base_url)}d/{dashboard_uid(slo.service)}?var-slo={slo.name}"


def _base(url: str) -> str:
    return url if not url or url.endswith("/") else url + "/"


def escape_template(text: str) -> str:
    """Source text is literal: keep Prometheus' Go templating from interpreting `{{` in it."""
    return text.replace("{{", '{{ "{{" }}')


def escape_all_but_relc(text: str) -> str:
    """Generated annotation text quotes the source (names, severities, policies, actions): all of it is escaped
    but relc's own fixed templates, which stay live (they read the alert's value and relc's coverage series)."""
    out = [text]
    for live in LIVE_TEMPLATES:
        out = [part for chunk in out for part in _keep(chunk, live)]
    return "".join(part if part in LIVE_TEMPLATES else escape_template(part) for part in out)


def _keep(chunk: str, live: str) -> list[str]:
    if chunk in LIVE_TEMPLATES or live not in chunk:
        return [chunk]
    pieces = chunk.split(live)
    return [x for piece in pieces[:-1] for x in (piece, live)] + [pieces[-1]]
