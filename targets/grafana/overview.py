"""The overview dashboard: a few counts and one table row per SLO, queried over every SLO at once.

Its JSON does not grow with the project: every panel aggregates the metadata series the Prometheus target
records for each SLO (`relc_slo_info`, `relc_slo:error_budget_remaining:ratio`, ...) `by (service, slo)`,
so Grafana fetches one row per SLO instead of the dashboard spelling out four tiles per SLO.
"""
from __future__ import annotations

from relc.compiler.model import ir as ir
from relc.targets import Options
from relc.targets.grafana import panels as gp
from relc.targets.grafana import queries as q
from relc.targets.grafana.slo import BURN_UNIT, sli_decimals
from relc.targets.grafana.text import link_url

KEY = "overview"
TABLE_HEIGHT = 20
# Data-link URLs: the `dashboard` column is a path relc's query builds, used as it is (`:raw`; Grafana
# percent-encodes data-link values by default); the time range and data source carry over.
DASHBOARD = "/${__data.fields." + q.DASHBOARD_LABEL + ":raw}"
CARRY = "${__url_time_range}&${datasource:queryparam}"
# The info query's labels (and their titles): the table's first columns.
LABEL_COLUMNS = (("service", "Service"), ("slo", "SLO"), ("owner", "Owner"), ("objective", "Objective"),
                 ("window", "Window"), ("sli_kind", "SLI kind"))
HIDDEN = (q.DASHBOARD_LABEL, "Value #A")  # the link path and the info series' constant 1; Time is hidden by type


def overview_panels(services: list[ir.Service], options: Options) -> list[dict]:
    """Four counts across the top, then every SLO in a table sorted by budget remaining (worst first)."""
    decimals = max(sli_decimals(slo) for service in services for slo in service.slos)
    return [*_counts(), _slo_table(decimals, options)]


def _counts() -> list[dict]:
    """How many SLOs there are, and how many are out of budget, burning too fast, or alerting right now."""
    ok, red, yellow = (None, "green"), (1, "red"), (1, "yellow")
    tiles = (
        ("slos", "SLOs", q.count_slos(), "SLOs whose relc recording rules Prometheus evaluates.",
         gp.steps((None, "blue"))),
        ("exhausted", "Error budget exhausted", q.count_exhausted(),
         "SLOs whose error budget over their window is spent (remaining at or below 0%).", gp.steps(ok, red)),
        ("burning", "Burning faster than sustainable (5m)", q.count_burning(),
         "SLOs whose 5-minute burn rate is above 1x: at that pace they would spend more than their whole budget "
         "over their window. Only the alert tiers decide whether that pages.", gp.steps(ok, yellow)),
        ("firing", "SLOs with firing alerts", q.count_firing(),
         "SLOs with at least one firing relc alert (burn-rate tier, no data, or budget policy).", gp.steps(ok, red)),
    )
    return [gp.stat(f"{KEY}/{key}", title, text, gp.grid(6 * index, 0, 6, 4), gp.targets((expr, title)),
                    unit="none", decimals=0, thresholds=steps, links=gp.NONE)
            for index, (key, title, expr, text, steps) in enumerate(tiles)]


def _slo_table(decimals: int, options: Options) -> dict:
    """One row per SLO: who owns it, what it promises, where it stands; links to its dashboard and runbook."""
    queries = [gp.instant_target(expr, ref) for expr, ref in (
        (q.slo_table_info(), "A"), (q.all_sli(), "B"), (q.all_budget_remaining(), "C"), (q.all_burn_now(), "D"),
        (q.all_firing(), "E"))]
    columns = [name for name, _ in LABEL_COLUMNS] + ["Value #B", "Value #C", "Value #D", "Value #E"]
    organize = {"excludeByName": {}, "renameByName": {},
                "indexByName": {name: index for index, name in enumerate([*columns, "Time", *HIDDEN])}}
    description = ("Every SLO relc records, one row each (Grafana's Merge joins the five queries on service and "
                   "SLO). SLI and budget are over each SLO's own window; budget colours are relc's defaults (50%, "
                   "25%, 0%); the service dashboard uses each SLO's budget policy. Click a service or SLO to open "
                   "its dashboard" + (", an SLO also for its runbook." if _runbook_base(options) else "."))
    return gp.table(f"{KEY}/slos", "SLOs", description, gp.grid(0, 4, 24, TABLE_HEIGHT), queries,
                    overrides=_overrides(decimals, options),
                    transformations=[{"id": "merge", "options": {}}, {"id": "organize", "options": organize}],
                    sort_by="Budget remaining")


def _overrides(decimals: int, options: Options) -> list[dict]:
    """Column titles, units and colours; service and SLO cells link to the dashboards."""
    hidden = [gp.override("byName", name, ("custom.hidden", True)) for name in HIDDEN]
    labels = [gp.override("byName", name, ("displayName", title), *_label_links(name, options))
              for name, title in LABEL_COLUMNS]
    background, text = {"mode": "basic", "type": "color-background"}, {"type": "color-text"}
    values = [
        gp.override("byName", "Value #B", ("displayName", "SLI"), ("unit", "percentunit"), ("decimals", decimals)),
        gp.override("byName", "Value #C", ("displayName", "Budget remaining"), ("unit", "percentunit"),
                    ("decimals", 1), ("thresholds", gp.level_steps(gp.DEFAULT_REMAINING)),
                    ("custom.cellOptions", background)),
        gp.override("byName", "Value #D", ("displayName", "Burn rate (5m)"), ("unit", BURN_UNIT), ("decimals", 2),
                    ("thresholds", gp.steps((None, "green"), (1, "yellow"))), ("custom.cellOptions", text)),
        gp.override("byName", "Value #E", ("displayName", "Alerts firing"), ("unit", "none"), ("decimals", 0),
                    ("thresholds", gp.steps((None, "green"), (1, "red"))), ("custom.cellOptions", background),
                    ("links", [_slo_link()])),
    ]
    return [gp.override("byType", "time", ("custom.hidden", True)), *hidden, *labels, *values]


def _label_links(column: str, options: Options) -> list[tuple[str, object]]:
    if column == "service":
        url = f"{DASHBOARD}{CARRY}"
        return [("links", [gp.data_link("${__data.fields.service} dashboard", url, new_tab=False)])]
    if column != "slo":
        return []
    links = [_slo_link()]
    base = _runbook_base(options)
    if base:
        url = base + "${__data.fields.service}/${__data.fields.slo}.md"
        links.append(gp.data_link("Runbook: ${__data.fields.service}/${__data.fields.slo}", url, new_tab=True))
    return [("links", links)]


def _slo_link() -> dict:
    """The SLO's row on its service dashboard (the `slo` variable narrows the view to it)."""
    url = f"{DASHBOARD}var-slo=${{__data.fields.slo}}&{CARRY}"
    return gp.data_link("${__data.fields.slo} on the ${__data.fields.service} dashboard", url, new_tab=False)


def _runbook_base(options: Options) -> str:
    """`--runbook-base-url` with a trailing slash, if it is a URL safe to link (the runbook target writes
    `<service>/<slo>.md` there for every SLO, also for runbooks with their own `url`, which the page links)."""
    base = link_url(options.runbook_base_url) if options.runbook_base_url else None
    if not base:
        return ""
    return base if base.endswith("/") else base + "/"
