"""The intermediate representation: frozen, typed, fully resolved; the one shape every target reads."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Origin(Node):
    """Where a definition came from, so targets can point diagnostics at source lines."""

    path: str
    line: int
    col: int


class LabelMatcher(Node):
    name: str
    op: Literal["=", "!=", "=~", "!~"]
    value: str


class Selector(Node):
    """A metric selector written in relc, rendered per target (PromQL now, Datadog later)."""

    kind: Literal["selector"] = "selector"
    metric: str
    matchers: tuple[LabelMatcher, ...] = ()


class RawQuery(Node):
    """PromQL as written by the user, with `$window` where the range goes."""

    kind: Literal["raw"] = "raw"
    promql: str


Query = Annotated[Union[Selector, RawQuery], Field(discriminator="kind")]


class EventsSLI(Node):
    """Ratio of bad (or good) events to all events."""

    kind: Literal["events"] = "events"
    good: Query | None = None
    bad: Query | None = None
    total: Query


class LatencySLI(Node):
    """Requests slower than a threshold are bad; read from a Prometheus histogram."""

    kind: Literal["latency"] = "latency"
    histogram: Selector
    threshold_seconds: float
    le: str | None = None


class RawSLI(Node):
    """An error ratio in PromQL for anything the other kinds cannot say."""

    kind: Literal["raw"] = "raw"
    error_ratio: str


SLI = Annotated[Union[EventsSLI, LatencySLI, RawSLI], Field(discriminator="kind")]


class AlertTier(Node):
    """One row of a multi-window multi-burn-rate table, resolved against an SLO's window."""

    name: str
    severity: str
    burn_rate: float
    budget_consumed: float
    long_window_s: int
    short_window_s: int


class AlertPolicy(Node):
    name: str
    description: str = ""
    tiers: tuple[AlertTier, ...]
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    min_events: int = 0           # burn alerts stay quiet below this many events in their long window
    no_data_after_s: int = 0      # alert when the SLI's source metrics are absent this long (0: no alert)
    no_data_severity: str = "ticket"
    origin: Origin | None = None


class BudgetThreshold(Node):
    remaining: float
    actions: tuple[str, ...]
    notify: str = ""
    severity: str = "ticket"


class BudgetPolicy(Node):
    name: str
    description: str = ""
    thresholds: tuple[BudgetThreshold, ...]
    origin: Origin | None = None


class RunbookStep(Node):
    text: str
    command: str = ""


class Link(Node):
    title: str
    url: str


class Runbook(Node):
    name: str
    summary: str = ""
    url: str = ""
    steps: tuple[RunbookStep, ...] = ()
    links: tuple[Link, ...] = ()
    escalation: str = ""
    origin: Origin | None = None


class DatadogQueries(Node):
    """Datadog metric queries that replace relc's translation of the SLI's selectors."""

    good: str | None = None
    bad: str | None = None
    total: str
    origin: Origin | None = None


class SLO(Node):
    name: str
    service: str
    description: str = ""
    objective: float
    window_s: int
    labels: dict[str, str] = {}
    sli: SLI
    alert_name: str
    alert_policy: AlertPolicy | None
    budget_policy: BudgetPolicy | None = None
    runbook: Runbook | None = None
    datadog: DatadogQueries | None = None
    origin: Origin

    @property
    def error_budget(self) -> float:
        return round(1.0 - self.objective, 15)


class Service(Node):
    name: str
    description: str = ""
    owner: str = ""
    labels: dict[str, str] = {}
    slos: tuple[SLO, ...]
    origin: Origin


class Project(Node):
    """Everything a build produces artifacts from; services in source order."""

    services: tuple[Service, ...]
    budget_policies: tuple[BudgetPolicy, ...] = ()
    runbooks: tuple[Runbook, ...] = ()

    def slos(self) -> list[SLO]:
        return [slo for service in self.services for slo in service.slos]
