"""The model every target reads, and what `relc check` stops at: frozen, slotted dataclasses, one per node.

The check stage builds it directly (compiler/check/); nothing converts it afterwards. Frozen, so a target cannot
change what another target reads; slotted and free of validation machinery, so `relc check` and `relc build`
pay nothing to import it (the pydantic models this replaced cost 0.11 s of every build).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from relc.compiler.units import human_duration, prom_duration

_node = dataclass(slots=True, kw_only=True, frozen=True)
RELC_LABELS = ("service", "slo", "severity", "alert_tier")   # labels relc puts on every series and alert it writes


@_node
class Origin:
    path: str
    line: int
    col: int


@_node
class LabelMatcher:
    name: str
    op: str
    value: str


@_node
class Selector:
    kind: str = "selector"
    metric: str
    matchers: tuple[LabelMatcher, ...] = ()


@_node
class RawQuery:
    kind: str = "raw"
    promql: str


@_node
class EventsSLI:
    kind: str = "events"
    good: Selector | RawQuery | None = None
    bad: Selector | RawQuery | None = None
    total: Selector | RawQuery


@_node
class LatencySLI:
    kind: str = "latency"
    histogram: Selector
    threshold_seconds: float
    le: str | None = None
    native: bool = False      # a Prometheus native histogram: one series, read with histogram_fraction


@_node
class TimeSlices:
    """A time-slice SLI: the share of slices (minutes, say) that were bad, each judged on its own."""

    source: "EventsSLI | LatencySLI | RawQuery"   # RawQuery: an error ratio with $window
    slice_s: int
    threshold: float                # the slice's error ratio, or its latency quantile in seconds
    quantile: float | None = None   # 0.99 for `good_if = "p99 < 300ms"`
    inclusive: bool = False         # `<=`: a slice exactly at the threshold is good


@_node
class RawSLI:
    kind: str = "raw"
    error_ratio: str = ""           # PromQL with $window; empty for time slices, which targets render
    slices: TimeSlices | None = None


SLI = EventsSLI | LatencySLI | RawSLI


@_node
class AlertTier:
    name: str
    severity: str
    burn_rate: float
    budget_consumed: float
    long_window_s: int
    short_window_s: int
    labels: dict[str, str] = field(default_factory=dict)        # on this tier's alert only
    annotations: dict[str, str] = field(default_factory=dict)
    for_s: int = 0                                               # Prometheus `for`: how long the condition holds


@_node
class AlertPolicy:
    name: str
    description: str = ""
    tiers: tuple[AlertTier, ...]
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    min_events: int = 0
    no_data_after_s: int = 0
    no_data_severity: str = "ticket"
    origin: Origin | None = None


@_node
class BudgetThreshold:
    remaining: float
    actions: tuple[str, ...]
    notify: str = ""
    severity: str = "ticket"


@_node
class BudgetPolicy:
    name: str
    description: str = ""
    thresholds: tuple[BudgetThreshold, ...]
    origin: Origin | None = None


@_node
class RunbookStep:
    text: str
    command: str = ""


@_node
class Link:
    title: str
    url: str


@_node
class Runbook:
    name: str
    summary: str = ""
    url: str = ""
    steps: tuple[RunbookStep, ...] = ()
    links: tuple[Link, ...] = ()
    escalation: str = ""
    origin: Origin | None = None


@_node
class DatadogQueries:
    good: str | None = None
    bad: str | None = None
    total: str
    origin: Origin | None = None


@_node
class Dependency:
    """Another SLO this one relies on; a soft one's failures are absorbed (a cache with a fallback)."""

    service: str
    slo: str
    soft: bool = False

    @property
    def key(self) -> str:
        return f"{self.service}/{self.slo}"


@_node
class SLO:
    name: str
    service: str
    description: str = ""
    objective: float
    window_s: int                       # a calendar period's nominal length (7d, 30d, 90d)
    calendar: str = ""                  # week, month or quarter: the budget resets when each one starts
    timezone: str = ""                  # the IANA zone calendar periods start in; "" is UTC
    annotations: dict[str, str] = field(default_factory=dict)   # on every alert of this SLO; win over policy's
    labels: dict[str, str] = field(default_factory=dict)
    sli: SLI
    alert_name: str
    alert_policy: AlertPolicy | None
    budget_policy: BudgetPolicy | None = None
    runbook: Runbook | None = None
    datadog: DatadogQueries | None = None
    depends_on: tuple[Dependency, ...] = ()
    group_by: tuple[str, ...] = ()      # one SLO per value of these labels: every series and alert carries them
    origin: Origin

    @property
    def error_budget(self) -> float:
        return round(1.0 - self.objective, 15)

    @property
    def recorded_group_by(self) -> tuple[str, ...]:
        """The group labels as relc's series carry them: a source label relc sets itself (`service`, `slo`, ...)
        becomes `exported_<name>`, as Prometheus renames a target label that clashes with its own."""
        return tuple(f"exported_{g}" if g in RELC_LABELS else g for g in self.group_by)

    @property
    def window_text(self) -> str:
        """`30d`, or `calendar month` (with its zone when not UTC), as users wrote it."""
        if not self.calendar:
            return prom_duration(self.window_s)
        return f"calendar {self.calendar}" + (f" ({self.timezone})" if self.timezone else "")

    @property
    def window_words(self) -> str:
        """How prose names the window: `30 days`, `this month`."""
        return f"this {self.calendar}" if self.calendar else human_duration(self.window_s)


@_node
class Service:
    name: str
    description: str = ""
    owner: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    slos: tuple[SLO, ...]
    origin: Origin


@_node
class Project:
    services: tuple[Service, ...]
    budget_policies: tuple[BudgetPolicy, ...] = ()
    runbooks: tuple[Runbook, ...] = ()

    def slos(self) -> list[SLO]:
        return [slo for service in self.services for slo in service.slos]

    def find(self, key: str) -> SLO | None:
        """An SLO by `service/slo`."""
        service, _, name = key.partition("/")
        return next((slo for s in self.services if s.name == service for slo in s.slos if slo.name == name), None)

    def ceiling(self, slo: SLO) -> tuple[float, SLO | None]:
        """The best objective this SLO can reach given its hard dependencies: the product of their objectives,
        and the dependency that costs most (the lowest objective); (1.0, None) without hard dependencies."""
        value, costliest = 1.0, None
        for dep in slo.depends_on:
            found = None if dep.soft or (dep.service, dep.slo) == (slo.service, slo.name) else self.find(dep.key)
            if found is not None:
                value *= found.objective
                if costliest is None or found.objective < costliest.objective:
                    costliest = found
        return value, costliest
