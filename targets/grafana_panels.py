"""Grafana panel JSON (schemaVersion 41 model): rows, stats, time series, state timelines, text, and their ids."""
from __future__ import annotations

import hashlib

from relc.compiler import ir

PLUGIN_VERSION = "11.6.0"  # the panel-plugin schemas in schemas/grafana/panels/ are this release's
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
DEFAULT_REMAINING = (0.5, 0.25, 0.0)  # budget colours when an SLO has no error-budget policy
MIDDLE_COLOURS = ("yellow", "orange", "dark-orange", "semi-dark-red")


def panel_id(key: str) -> int:
    """A stable id from the panel's name path, so links such as ?viewPanel= survive added or reordered SLOs."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % (2**31 - 1) + 1


def unique_ids(panels: list[dict]) -> None:
    """Hash collisions are vanishingly rare, but ids must be unique: bump later ones deterministically."""
    seen: set[int] = set()
    for panel in panels:
        while panel["id"] in seen:
            panel["id"] = panel["id"] % (2**31 - 1) + 1
        seen.add(panel["id"])


def grid(x: int, y: int, w: int, h: int) -> dict:
    return {"h": h, "w": w, "x": x, "y": y}


def target(expr: str, legend: str, ref: str) -> dict:
    """A Prometheus query as Grafana's query editor saves it in code mode."""
    return {"datasource": DATASOURCE, "editorMode": "code", "expr": expr, "legendFormat": legend, "range": True,
            "refId": ref}


def targets(*queries: tuple[str, str]) -> list[dict]:
    return [target(expr, legend, chr(ord("A") + index)) for index, (expr, legend) in enumerate(queries)]


def row(key: str, title: str, y: int) -> dict:
    return {"collapsed": False, "gridPos": grid(0, y, 24, 1), "id": panel_id(key), "panels": [], "title": title,
            "type": "row"}


def _panel(kind: str, key: str, title: str, description: str, pos: dict) -> dict:
    return {"description": description, "gridPos": pos, "id": panel_id(key), "pluginVersion": PLUGIN_VERSION,
            "title": title, "type": kind}


def steps(*pairs: tuple[float | None, str]) -> dict:
    return {"mode": "absolute", "steps": [{"color": colour, "value": value} for value, colour in pairs]}


def budget_steps(slo: ir.SLO) -> dict:
    """Colour bands of budget remaining from the SLO's budget policy: green above its first threshold, then
    warmer per threshold, red below the last one (e.g. 50%/25%/0%: green, yellow, orange, red when overspent)."""
    policy = slo.budget_policy
    levels = (sorted({t.remaining for t in policy.thresholds}, reverse=True)
              if policy is not None and policy.thresholds else list(DEFAULT_REMAINING))
    middle = ["orange"] if len(levels) == 2 else list(MIDDLE_COLOURS[:len(levels) - 1])
    middle += [MIDDLE_COLOURS[-1]] * (len(levels) - 1 - len(middle))
    colours = ["green", *middle]  # colours[i] is the band at or above levels[i]
    ascending = [(level, colours[index]) for index, level in reversed(list(enumerate(levels)))]
    return steps((None, "red"), *ascending)


def stat(key: str, title: str, description: str, pos: dict, queries: list[dict], *, unit: str, decimals: int,
         thresholds: dict, links: list[dict]) -> dict:
    """A single value coloured by thresholds, with a sparkline of the dashboard's time range."""
    panel = _panel("stat", key, title, description, pos)
    panel.update({
        "datasource": DATASOURCE, "links": links, "targets": queries,
        "fieldConfig": {"defaults": {"color": {"mode": "thresholds"}, "decimals": decimals, "mappings": [],
                                     "thresholds": thresholds, "unit": unit}, "overrides": []},
        "options": {"colorMode": "background", "graphMode": "area", "justifyMode": "auto", "orientation": "auto",
                    "percentChangeColorMode": "standard",
                    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "showPercentChange": False, "textMode": "value", "wideLayout": True},
    })
    return panel


def timeseries(key: str, title: str, description: str, pos: dict, queries: list[dict], *, unit: str,
               thresholds: dict, threshold_style: str, links: list[dict], overrides: list[dict] | None = None,
               decimals: int | None = None, time_from: str = "", soft_min: float | None = None) -> dict:
    """Lines over time; thresholds drawn as `threshold_style` (`dashed`, `dashed+area`, or `off`)."""
    panel = _panel("timeseries", key, title, description, pos)
    custom = {"axisBorderShow": False, "axisPlacement": "auto", "drawStyle": "line", "fillOpacity": 0,
              "gradientMode": "none", "lineInterpolation": "linear", "lineWidth": 1, "showPoints": "never",
              "spanNulls": False, "thresholdsStyle": {"mode": threshold_style}}
    if soft_min is not None:
        custom["axisSoftMin"] = soft_min
    defaults = {"color": {"mode": "palette-classic"}, "custom": custom, "mappings": [], "thresholds": thresholds,
                "unit": unit}
    if decimals is not None:
        defaults["decimals"] = decimals
    panel.update({
        "datasource": DATASOURCE, "links": links, "targets": queries,
        "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
        "options": {"legend": {"calcs": ["lastNotNull"], "displayMode": "list", "placement": "bottom",
                               "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "none"}},
    })
    if time_from:
        panel.update({"timeFrom": time_from, "hideTimeOverride": False})
    return panel


def dashed_series(name: str, colour: str) -> dict:
    """An override drawing one series (e.g. the objective) as a fixed-colour dashed line."""
    return {"matcher": {"id": "byName", "options": name},
            "properties": [{"id": "color", "value": {"fixedColor": colour, "mode": "fixed"}},
                           {"id": "custom.lineStyle", "value": {"dash": [10, 10], "fill": "dash"}}]}


def state_timeline(key: str, title: str, description: str, pos: dict, queries: list[dict],
                   links: list[dict]) -> dict:
    """Firing alerts as red bars over time, one lane per alert tier."""
    panel = _panel("state-timeline", key, title, description, pos)
    panel.update({
        "datasource": DATASOURCE, "links": links, "targets": queries,
        "fieldConfig": {"defaults": {
            "color": {"mode": "thresholds"}, "custom": {"fillOpacity": 80, "lineWidth": 0},
            "mappings": [{"options": {"1": {"color": "red", "index": 0, "text": "firing"}}, "type": "value"}],
            "noValue": "no alert fired in this time range", "thresholds": steps((None, "green"), (1, "red"))},
            "overrides": []},
        "options": {"alignValue": "left", "legend": {"calcs": [], "displayMode": "list", "placement": "bottom",
                                                     "showLegend": False},
                    "mergeValues": True, "rowHeight": 0.8, "showValue": "auto",
                    "tooltip": {"mode": "single", "sort": "none"}},
    })
    return panel


def text(key: str, title: str, pos: dict, content: str, links: list[dict]) -> dict:
    """HTML built from escaped source text (see grafana_text), so nothing in the source becomes markup."""
    panel = _panel("text", key, title, "", pos)
    del panel["description"]
    panel.update({"links": links, "options": {"content": content, "mode": "html"}})
    return panel


def link(title: str, url: str, *, new_tab: bool, keep_time: bool = False) -> dict:
    """A panel or dashboard link with every field the schema's DashboardLink requires."""
    return {"asDropdown": False, "icon": "external link" if new_tab else "dashboard", "includeVars": False,
            "keepTime": keep_time, "tags": [], "targetBlank": new_tab, "title": title, "tooltip": "",
            "type": "link", "url": url}
