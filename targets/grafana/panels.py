"""Grafana panel JSON (schemaVersion 41 model): rows, stats, time series, state timelines, text, and their ids."""
from __future__ import annotations

import hashlib
from functools import lru_cache

from relc.compiler.model import ir as ir
from relc.targets.shared.jsonout import Frozen, FrozenList, Shape, freeze

PLUGIN_VERSION = "11.6.0"  # the panel-plugin schemas in schemas/grafana/panels/ are this release's
DEFAULT_REMAINING = (0.5, 0.25, 0.0)  # budget colours when an SLO has no error-budget policy
MIDDLE_COLOURS = ("yellow", "orange", "dark-orange", "semi-dark-red")
# The parts every panel of a kind has are built once and Frozen (see grafana_json): thousands of panels share
# them, so they cost neither building nor writing per panel. Nothing may change a dashboard part in place.
DATASOURCE = freeze({"type": "prometheus", "uid": "${datasource}"})
NONE: FrozenList = FrozenList()
_THRESHOLD_COLOURS = freeze({"mode": "thresholds"})
_STAT_OPTIONS = freeze({
    "colorMode": "background", "graphMode": "area", "justifyMode": "auto", "orientation": "auto",
    "percentChangeColorMode": "standard", "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
    "showPercentChange": False, "textMode": "value", "wideLayout": True})
_TIMESERIES_OPTIONS = freeze({
    "legend": {"calcs": ["lastNotNull"], "displayMode": "list", "placement": "bottom", "showLegend": True},
    "tooltip": {"mode": "multi", "sort": "none"}})
_TIMELINE_OPTIONS = freeze({
    "alignValue": "left", "legend": {"calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": False},
    "mergeValues": True, "rowHeight": 0.8, "showValue": "auto", "tooltip": {"mode": "single", "sort": "none"}})
_SHARED: dict[tuple, tuple[tuple, object]] = {}
_MAX_SHARED = 10_000
# Each kind of panel as a Shape: its fixed items are written once, and a panel only fills in its own.
_TARGET = Shape(datasource=DATASOURCE, editorMode="code", range=True)
_REFS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # query refIds
_ROW = Shape(collapsed=False, panels=NONE, type="row")
_STAT = Shape(datasource=DATASOURCE, options=_STAT_OPTIONS, pluginVersion=PLUGIN_VERSION, type="stat")
_TIMESERIES = Shape(datasource=DATASOURCE, options=_TIMESERIES_OPTIONS, pluginVersion=PLUGIN_VERSION,
                    type="timeseries")
_TEXT = Shape(pluginVersion=PLUGIN_VERSION, type="text")


def panel_id(key: str) -> int:
    """A stable id from the panel's name path, so links such as ?viewPanel= survive added or reordered SLOs."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % (2**31 - 1) + 1


def unique_ids(panels: list[dict]) -> None:
    """Hash collisions are vanishingly rare, but ids must be unique: bump later ones deterministically."""
    seen: set[int] = set()
    for panel in panels:
        while panel["id"] in seen:
            panel["id"] = panel["id"] % (2**31 - 1) + 1
        seen.add(panel["id"])


@lru_cache(maxsize=4096, typed=True)  # service dashboards repeat the same grid lines: their SLO rows are alike
def grid(x: int, y: int, w: int, h: int) -> Frozen:
    return Frozen(h=h, w=w, x=x, y=y)


def target(expr: str, legend: str, ref: str) -> dict:
    """A Prometheus query as Grafana's query editor saves it in code mode."""
    return _TARGET(expr=expr, legendFormat=legend, refId=ref)


def targets(*queries: tuple[str, str]) -> list[dict]:
    return [_TARGET(expr=expr, legendFormat=legend, refId=ref) for (expr, legend), ref in zip(queries, _REFS)]


def row(key: str, title: str, y: int) -> dict:
    return _ROW(gridPos=grid(0, y, 24, 1), id=panel_id(key), title=title)


def _panel(kind: str, key: str, title: str, description: str, pos: dict) -> dict:
    return {"description": description, "gridPos": pos, "id": panel_id(key), "pluginVersion": PLUGIN_VERSION,
            "title": title, "type": kind}


def _typed(values: tuple) -> tuple:
    """A cache key that tells 1 from 1.0 and True (they hash alike, but json writes them differently)."""
    return values, tuple(map(type, values))


def shared(key: tuple, pinned: tuple, build):
    """One Frozen part per distinct setting, built on first use. `key` may hold ids of the `pinned` objects: the
    entry keeps them alive, so no other object can take those ids while it exists."""
    entry = _SHARED.get(key)
    if entry is None:
        if len(_SHARED) > _MAX_SHARED:  # a long-lived process building many unlike projects: start over
            _SHARED.clear()
        entry = _SHARED[key] = (pinned, freeze(build()))
    return entry[1]


def steps(*pairs: tuple[float | None, str]) -> Frozen:
    key = ("steps", *(_typed(pair) for pair in pairs))
    return shared(key, (), lambda: {"mode": "absolute",
                                    "steps": [{"color": colour, "value": value} for value, colour in pairs]})


def budget_steps(slo: ir.SLO) -> Frozen:
    """Colour bands of budget remaining from the SLO's budget policy: green above its first threshold, then
    warmer per threshold, red below the last one (e.g. 50%/25%/0%: green, yellow, orange, red when overspent)."""
    policy = slo.budget_policy
    if policy is None or not policy.thresholds:
        return level_steps(DEFAULT_REMAINING)
    return level_steps(sorted({t.remaining for t in policy.thresholds}, reverse=True))


def level_steps(levels: list[float] | tuple[float, ...]) -> Frozen:
    """Budget colours for thresholds given highest first."""
    return shared(("levels", _typed(tuple(levels))), (), lambda: _level_steps(levels))


def _level_steps(levels: list[float] | tuple[float, ...]) -> Frozen:
    middle = ["orange"] if len(levels) == 2 else list(MIDDLE_COLOURS[:len(levels) - 1])
    middle += [MIDDLE_COLOURS[-1]] * (len(levels) - 1 - len(middle))
    colours = ["green", *middle]  # colours[i] is the band at or above levels[i]
    ascending = [(level, colours[index]) for index, level in reversed(list(enumerate(levels)))]
    return steps((None, "red"), *ascending)


def _field_config(kind: str, settings: tuple, thresholds: dict, overrides: list, build) -> dict:
    """A panel's fieldConfig, shared by every panel with the same settings when its parts are shared."""
    if type(thresholds) is not Frozen or type(overrides) is not FrozenList:
        return build()  # something made for this panel only: nothing to share
    key = (kind, _typed(settings), id(thresholds), id(overrides))
    return shared(key, (thresholds, overrides), build)


def stat(key: str, title: str, description: str, pos: dict, queries: list[dict], *, unit: str, decimals: int,
         thresholds: dict, links: list[dict]) -> dict:
    """A single value coloured by thresholds, with a sparkline of the dashboard's time range."""
    config = _field_config("stat", (unit, decimals), thresholds, NONE, lambda: {
        "defaults": {"color": _THRESHOLD_COLOURS, "decimals": decimals, "mappings": NONE, "thresholds": thresholds,
                     "unit": unit}, "overrides": NONE})
    return _STAT(description=description, fieldConfig=config, gridPos=pos, id=panel_id(key), links=links,
                 targets=queries, title=title)


def timeseries(key: str, title: str, description: str, pos: dict, queries: list[dict], *, unit: str,
               thresholds: dict, threshold_style: str, links: list[dict], overrides: list[dict] = NONE,
               decimals: int | None = None, time_from: str = "", soft_min: float | None = None) -> dict:
    """Lines over time; thresholds drawn as `threshold_style` (`dashed`, `dashed+area`, or `off`)."""
    settings = (unit, threshold_style, decimals, soft_min)
    config = _field_config("timeseries", settings, thresholds, overrides,
                           lambda: _timeseries_config(*settings, thresholds, overrides))
    if time_from:  # a time override, shown in the panel header
        return _TIMESERIES(description=description, fieldConfig=config, gridPos=pos, id=panel_id(key), links=links,
                           targets=queries, title=title, timeFrom=time_from, hideTimeOverride=False)
    return _TIMESERIES(description=description, fieldConfig=config, gridPos=pos, id=panel_id(key), links=links,
                       targets=queries, title=title)


def _timeseries_config(unit: str, threshold_style: str, decimals: int | None, soft_min: float | None,
                       thresholds: dict, overrides: list) -> dict:
    custom = {"axisBorderShow": False, "axisPlacement": "auto", "drawStyle": "line", "fillOpacity": 0,
              "gradientMode": "none", "lineInterpolation": "linear", "lineWidth": 1, "showPoints": "never",
              "spanNulls": False, "thresholdsStyle": {"mode": threshold_style}}
    if soft_min is not None:
        custom["axisSoftMin"] = soft_min
    defaults = {"color": {"mode": "palette-classic"}, "custom": custom, "mappings": NONE, "thresholds": thresholds,
                "unit": unit}
    if decimals is not None:
        defaults["decimals"] = decimals
    return {"defaults": defaults, "overrides": overrides}


def dashed_series(name: str, colour: str) -> FrozenList:
    """Overrides drawing one series (e.g. the objective) as a fixed-colour dashed line."""
    return shared(("dashed", name, colour), (), lambda: [{
        "matcher": {"id": "byName", "options": name},
        "properties": [{"id": "color", "value": {"fixedColor": colour, "mode": "fixed"}},
                       {"id": "custom.lineStyle", "value": {"dash": [10, 10], "fill": "dash"}}]}])


_TIMELINE = Shape(datasource=DATASOURCE, options=_TIMELINE_OPTIONS, pluginVersion=PLUGIN_VERSION,
                  type="state-timeline", fieldConfig={"defaults": {
                      "color": {"mode": "thresholds"}, "custom": {"fillOpacity": 80, "lineWidth": 0},
                      "mappings": [{"options": {"1": {"color": "red", "index": 0, "text": "firing"}}, "type": "value"}],
                      "noValue": "no alert fired in this time range", "thresholds": steps((None, "green"), (1, "red"))},
                      "overrides": []})


def state_timeline(key: str, title: str, description: str, pos: dict, queries: list[dict],
                   links: list[dict]) -> dict:
    """Firing alerts as red bars over time, one lane per alert tier."""
    return _TIMELINE(description=description, gridPos=pos, id=panel_id(key), links=links, targets=queries,
                     title=title)


def text(key: str, title: str, pos: dict, content: str, links: list[dict]) -> dict:
    """HTML built from escaped source text (see grafana_text), so nothing in the source becomes markup."""
    return _TEXT(gridPos=pos, id=panel_id(key), links=links, options={"content": content, "mode": "html"},
                 title=title)


def link(title: str, url: str, *, new_tab: bool, keep_time: bool = False) -> dict:
    """A panel or dashboard link with every field the schema's DashboardLink requires."""
    return {"asDropdown": False, "icon": "external link" if new_tab else "dashboard", "includeVars": False,
            "keepTime": keep_time, "tags": [], "targetBlank": new_tab, "title": title, "tooltip": "",
            "type": "link", "url": url}


def instant_target(expr: str, ref: str) -> dict:
    """An instant query in table format: one row per series, its labels as columns, its value as `Value #<ref>`."""
    return {"datasource": DATASOURCE, "editorMode": "code", "expr": expr, "format": "table", "instant": True,
            "legendFormat": "__auto", "range": False, "refId": ref}


def override(matcher: str, name: str, *properties: tuple[str, object]) -> dict:
    """Field settings for the fields a matcher (`byName`, `byType`) picks."""
    return {"matcher": {"id": matcher, "options": name},
            "properties": [{"id": key, "value": value} for key, value in properties]}


def data_link(title: str, url: str, *, new_tab: bool) -> dict:
    """A link on a table cell; `${__data.fields.<column>}` in the URL is that row's value."""
    return {"targetBlank": new_tab, "title": title, "url": url}


def table(key: str, title: str, description: str, pos: dict, queries: list[dict], *, overrides: list[dict],
          transformations: list[dict], sort_by: str) -> dict:
    """Rows of labels and values, filterable per column, sorted by one column (ascending: worst first)."""
    panel = _panel("table", key, title, description, pos)
    panel.update({
        "datasource": DATASOURCE, "targets": queries, "transformations": transformations,
        "fieldConfig": {"defaults": {"color": {"mode": "thresholds"},
                                     "custom": {"align": "auto", "cellOptions": {"type": "auto"}, "filterable": True,
                                                "inspect": False},
                                     "mappings": [], "thresholds": steps((None, "text"))},
                        "overrides": overrides},
        "options": {"cellHeight": "sm", "footer": {"countRows": False, "fields": [], "reducer": ["sum"], "show": False},
                    "frameIndex": 0, "showHeader": True, "sortBy": [{"desc": False, "displayName": sort_by}]},
    })
    return panel
