"""A report's data as Markdown (with one SVG chart per SLO) and as one self-contained HTML page.

Every text from the source or the server is escaped for the format it lands in; the charts are drawn here as
plain SVG polylines so the page needs no script, font or image from anywhere.
"""
from __future__ import annotations

import html
import re
from datetime import datetime

W, H, PAD = 640, 220, 36


def pct(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{value * 100:.{digits}f}%"


def duration(seconds: float) -> str:
    from relc.compiler.units import human_duration

    return human_duration(int(seconds)) if seconds >= 1 else "0s"


def md_text(text: str) -> str:
    """Text as literal Markdown, with the runbook target's escaping (one definition of it)."""
    from relc.targets.runbook.markdown import md

    return md(str(text))


def chart_svg(slo: dict) -> str:
    """The SLI so far against the objective (top) and the error budget left (bottom), over the period."""
    points = [p for p in slo["timeline"]]
    title = html.escape(f'{slo["service"]}/{slo["slo"]}')
    if not points:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="40" role="img" aria-label="{title}">'
                f'<text x="8" y="24" font-family="sans-serif" font-size="12">{title}: no data in the period</text></svg>')
    times = [datetime.fromisoformat(p["t"].replace("Z", "+00:00")).timestamp() for p in points]
    t0, t1 = times[0], times[-1] if times[-1] > times[0] else times[0] + 1
    half = (H - PAD) / 2
    slis = [p["sli"] for p in points if p["sli"] is not None]
    low = min(slis + [slo["objective"]]) if slis else slo["objective"]
    low = max(0.0, low - (1 - low) * 0.25) if low < 1 else 0.99
    budget = [p["budget_remaining"] for p in points]
    b_low = min(0.0, min(budget))

    def x(t: float) -> float:
        return PAD + (W - 2 * PAD) * (t - t0) / (t1 - t0)

    def y_top(v: float) -> float:
        return 8 + (half - 16) * (1 - (v - low) / ((1 - low) or 1))

    def y_bottom(v: float) -> float:
        return half + 8 + (half - 16) * (1 - (v - b_low) / ((1 - b_low) or 1))

    sli_line = " ".join(f"{x(t):.1f},{y_top(p['sli']):.1f}" for t, p in zip(times, points) if p["sli"] is not None)
    budget_line = " ".join(f"{x(t):.1f},{y_bottom(v):.1f}" for t, v in zip(times, budget))
    objective = y_top(slo["objective"])
    zero = y_bottom(0.0)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" '
            f'aria-label="{title}: SLI and error budget over the period" font-family="sans-serif" font-size="11">'
            f'<rect width="{W}" height="{H}" fill="#fff"/>'
            f'<text x="{PAD}" y="12">SLI so far (objective {html.escape(pct(slo["objective"], 3))}, dashed)</text>'
            f'<line x1="{PAD}" x2="{W - PAD}" y1="{objective:.1f}" y2="{objective:.1f}" stroke="#999" '
            f'stroke-dasharray="4 3"/>'
            f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{sli_line}"/>'
            f'<text x="{PAD}" y="{half + 12:.0f}">Error budget left (0 dashed)</text>'
            f'<line x1="{PAD}" x2="{W - PAD}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#999" stroke-dasharray="4 3"/>'
            f'<polyline fill="none" stroke="#d62728" stroke-width="1.5" points="{budget_line}"/>'
            f'<text x="{PAD}" y="{H - 6}">{html.escape(points[0]["t"])}</text>'
            f'<text x="{W - PAD}" y="{H - 6}" text-anchor="end">{html.escape(points[-1]["t"])}</text></svg>')


def chart_name(slo: dict) -> str:
    """A file name for an SLO's chart: safe on every file system, unique per service and SLO."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f'{slo["service"]}--{slo["slo"]}')
    return f"{safe}.svg"


def _rows(data: dict) -> list[list[str]]:
    rows = []
    for slo in data["slos"]:
        remaining = slo["error_budget"]["remaining"]
        state = {True: "met", False: "MISSED", None: "no data"}[slo["met"]]
        rows.append([f'{slo["service"]}/{slo["slo"]}', pct(slo["objective"]), pct(slo["attained"]), state,
                     pct(None if remaining is None else 1 - remaining, 1), pct(remaining, 1),
                     pct(slo["coverage"], 1), str(len(slo["alerts"]))])
    return rows


HEAD = ["SLO", "objective", "attained", "", "budget used", "budget left", "coverage", "alerts"]


def _same(text: str) -> str:
    return text


def _heading(data: dict, esc=_same) -> list[str]:
    """The report's opening lines; `esc` escapes the parts that come from outside relc (the server's address)."""
    period = data["period"]
    span = f'{period["start"]} to {period["end"]}'
    lines = [(f'Period {period["name"]}: {span}' if period["name"] != span else f"Period {span}") + " (UTC)"
             + (f', in progress: read until {period["read_until"]}' if period["in_progress"] else "") + ".",
             f'Generated {data["generated_at"]}' + (f' from {esc(data["server"])}' if "server" in data else "")
             + (" (redacted: names and numbers only)" if data["redacted"] else "") + "."]
    summary = data["summary"]
    lines.append(f'{summary["slos"]} SLO(s): {summary["met"]} met, {summary["missed"]} missed, '
                 f'{summary["no_data"]} without data.')
    return lines


def _details(slo: dict, esc=_same) -> list[str]:
    """The per-SLO facts, as plain sentences; `esc` escapes what the server said (query errors)."""
    out = [f'Source: {slo["source"]}.']
    if slo.get("period"):
        own = slo["period"]
        out.append(f'Period taken in {esc(own["timezone"])}, as this SLO\'s calendar window counts it: '
                   f'{own["start"]} to {own["end"]}.')
    if slo["events"]:
        out.append(f'Events: {slo["events"]["total"]:.0f} in all, {slo["events"]["bad"]:.0f} bad.')
    if slo["coverage"] < 1:
        since = f', from {slo["data_from"]}' if slo["data_from"] else ""
        out.append(f'Data covers {pct(slo["coverage"], 1)} of the period{since}; the figures are over the covered '
                   "part only, not extrapolated.")
    if slo["worst_day"]:
        day = slo["worst_day"]
        out.append(f'Worst day: {day["date"]} at {pct(day["attained"])}.')
    for error in slo["errors"]:
        out.append(f"Error: {esc(error)}")
    return out


def _alert_rows(slo: dict) -> list[list[str]]:
    return [[a["tier"], a["severity"], a["start"], a["end"], duration(a["duration_s"]), pct(a["budget_burned"], 2)]
            for a in slo["alerts"]]


ALERT_HEAD = ["tier", "severity", "start", "end", "duration", "budget burned"]


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return (["| " + " | ".join(md_text(h) for h in head) + " |", "|" + "---|" * len(head)]
            + ["| " + " | ".join(md_text(c) for c in row) + " |" for row in rows])


def render_markdown(data: dict, chart_ref) -> str:
    """Markdown; chart_ref(slo) gives what stands for its chart (an image link, or the SVG inline)."""
    lines = ["# Reliability report", ""] + _heading(data, md_text) + [""]
    lines += _md_table(HEAD, _rows(data)) + [""]
    for slo in data["slos"]:
        lines += [f'## {md_text(slo["service"] + "/" + slo["slo"])}', ""]
        lines += _details(slo, md_text) + ["", chart_ref(slo), ""]
        if slo["alerts"]:
            lines += _md_table(ALERT_HEAD, _alert_rows(slo)) + [""]
        else:
            lines += ["No alert fired in the period.", ""]
    return "\n".join(lines).rstrip() + "\n"


STYLE = ("body{font-family:sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;color:#222}"
         "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;"
         "text-align:left}.missed{color:#b00;font-weight:bold}")


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f'<td{" class=missed" if c == "MISSED" else ""}>{html.escape(c)}</td>'
                                    for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def render_html(data: dict) -> str:
    """One HTML file with its styles and charts inside: no script, no external asset."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>Reliability report</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>Reliability report</h1>"]
    parts += [f"<p>{html.escape(line)}</p>" for line in _heading(data)]
    parts.append(_html_table(HEAD, _rows(data)))
    for slo in data["slos"]:
        parts.append(f'<h2>{html.escape(slo["service"] + "/" + slo["slo"])}</h2>')
        parts += [f"<p>{html.escape(line)}</p>" for line in _details(slo)]
        parts.append(chart_svg(slo))
        parts.append(_html_table(ALERT_HEAD, _alert_rows(slo)) if slo["alerts"] else "<p>No alert fired in the period.</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
