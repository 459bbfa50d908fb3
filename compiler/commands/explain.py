"""`relc explain`: the error-budget arithmetic behind each SLO's alerts, so a policy is judged before it pages."""
from __future__ import annotations

import json
import sys

import click

from relc.compiler.model import ir as ir
from relc.compiler.commands.cli import CONFIG
from relc.compiler.units import floor_percent, fmt_number, fmt_percent, human_duration

PROBE_BURN = 10.0  # the "detect at 10x burn" column: a serious but partial incident
TIER_HEADERS = ("tier", "severity", "burn rate", "fires above", "long/short", "budget spent", "detect 100%",
                "detect 10x", "reset", "exhausts in")
THRESHOLD_HEADERS = ("remaining", "severity", "full outage to reach", "notify", "actions")


# ---------------------------------------------------------------- the numbers, once, for every format

def _num(value: float) -> float:
    """Floats as people wrote them (0.001, not 0.0010000000000000009), so JSON stays stable across platforms."""
    return float(fmt_number(value))


def slo_math(slo: ir.SLO, project: ir.Project | None = None) -> dict:
    """Everything `explain` says about one SLO, as plain data: the JSON shape and the source of the tables."""
    policy = slo.alert_policy
    budget = slo.error_budget
    math = {
        "service": slo.service,
        "slo": slo.name,
        "source": f"{slo.origin.path}:{slo.origin.line}",
        "objective": _num(slo.objective),
        "window_s": slo.window_s,
        "calendar": slo.calendar or None,
        "timezone": (slo.timezone or "UTC") if slo.calendar else None,
        "error_budget": _num(budget),
        "full_outage_s": _num(slo.window_s * budget),
        "alert_name": slo.alert_name,
        "alert_policy": policy.name if policy else None,
        "min_events": policy.min_events if policy else 0,
        "no_data": _no_data(policy),
        "tiers": [tier_math(slo, tier) for tier in (policy.tiers if policy else ())],
        "budget_policy": _budget_policy(slo),
    }
    if slo.group_by:
        math["group_by"] = list(slo.group_by)
    if slo.depends_on and project is not None:
        math["dependencies"] = _dependencies(slo, project)
    return math


def _dependencies(slo: ir.SLO, project: ir.Project) -> dict:
    """The SLO's dependencies, its ceiling, and the chain of costliest dependencies below it."""
    ceiling, costliest = project.ceiling(slo)
    chain, seen, node = [f"{slo.service}/{slo.name}"], set(), costliest
    while node is not None and f"{node.service}/{node.name}" not in seen:
        seen.add(f"{node.service}/{node.name}")
        chain.append(f"{node.service}/{node.name} ({fmt_percent(node.objective)})")
        node = project.ceiling(node)[1]
    return {"depends_on": [{"slo": d.key, "soft": d.soft,
                            "objective": _num(found.objective) if (found := project.find(d.key)) else None}
                           for d in slo.depends_on],
            "ceiling": _num(round(ceiling, 9)), "costliest": chain[1].split(" ")[0] if len(chain) > 1 else None,
            "chain": chain}


def tier_math(slo: ir.SLO, tier: ir.AlertTier) -> dict:
    """One tier: when it fires, how fast at a total outage and at 10x, when it clears, how long the budget lasts."""
    budget = slo.error_budget
    return {
        "name": tier.name,
        "severity": tier.severity,
        "burn_rate": _num(tier.burn_rate),
        "error_rate": _num(tier.burn_rate * budget),
        "long_window_s": tier.long_window_s,
        "short_window_s": tier.short_window_s,
        "budget_consumed": _num(tier.budget_consumed),
        "for_s": tier.for_s,
        "detect_total_outage_s": _num(tier.burn_rate * tier.long_window_s * budget + tier.for_s),
        "detect_10x_s": _detect_at(tier, PROBE_BURN, budget),
        "reset_s": tier.short_window_s,
        "exhaustion_s": _num(slo.window_s / tier.burn_rate),
    }


def _detect_at(tier: ir.AlertTier, burn: float, budget: float) -> float | None:
    """Seconds until the long window's burn rate passes the factor (plus the tier's `for`); None if it never does
    (the `>` is strict)."""
    if burn <= tier.burn_rate or burn * budget > 1:
        return None
    return _num(tier.burn_rate * tier.long_window_s / burn + tier.for_s)


def _no_data(policy: ir.AlertPolicy | None) -> dict | None:
    """The no-data alert's settings, or None when the Prometheus target emits none."""
    if policy is None or not policy.no_data_after_s:
        return None
    return {"after_s": policy.no_data_after_s, "severity": policy.no_data_severity}


def _budget_policy(slo: ir.SLO) -> dict | None:
    """Thresholds with the outage that reaches each: the share of the budget spent times the full-outage time."""
    policy = slo.budget_policy
    if policy is None:
        return None
    outage = slo.window_s * slo.error_budget
    return {"name": policy.name, "thresholds": [
        {"remaining": _num(t.remaining), "severity": t.severity, "notify": t.notify, "actions": list(t.actions),
         "full_outage_to_reach_s": _num((1 - t.remaining) * outage)}
        for t in policy.thresholds]}


# ---------------------------------------------------------------- choosing SLOs

def select(project: ir.Project, wanted: tuple[str, ...]) -> list[ir.SLO]:
    """SLOs named by `SERVICE/SLO`, by SLO name (every service's) or by service name; all when none is named."""
    slos = project.slos()
    if not wanted:
        return slos
    chosen: list[ir.SLO] = []
    for name in wanted:
        found = _matching(slos, name)
        if not found:
            raise click.BadParameter(_unknown(slos, name), param_hint="'--slo'")
        chosen.extend(s for s in found if s not in chosen)
    return chosen


def _matching(slos: list[ir.SLO], name: str) -> list[ir.SLO]:
    """An SLO name wins over a service name, so `--slo availability` means the same thing in every project."""
    if "/" in name:
        return [s for s in slos if f"{s.service}/{s.name}" == name]
    return [s for s in slos if s.name == name] or [s for s in slos if s.service == name]


def _unknown(slos: list[ir.SLO], name: str) -> str:
    """The error for an --slo that names nothing, with the nearest name or the list of names."""
    from relc.compiler.diagnostics import did_you_mean

    qualified = [f"{s.service}/{s.name}" for s in slos]
    candidates = set(qualified) | {s.name for s in slos} | {s.service for s in slos}
    hint = did_you_mean(name, candidates) or f"SLOs: {', '.join(qualified) or 'none'}"
    return f"no SLO `{name}` in these sources; {hint}"


# ---------------------------------------------------------------- shared table rows

def _pct(fraction: float) -> str:
    """Percentages with at most 4 significant digits: 0.0144 -> 1.44%, 0.428571 -> 42.86%."""
    return fmt_number(float(format(fraction * 100, ".4g"))) + "%"


def _rate(value: float) -> str:
    """Factors as the runbooks print them: 0.9333333 -> 0.9333x."""
    return fmt_number(float(format(value, ".4g"))) + "x"


def _one_in(budget: float) -> str:
    """The budget as odds, as the runbooks say it: 0.001 -> `1 in 1,000`."""
    ratio = 1 / budget
    if abs(ratio - round(ratio)) < 1e-6:
        return f"1 in {round(ratio):,}"
    return f"about 1 in {ratio:,.0f}" if ratio >= 10 else f"about 1 in {fmt_number(round(ratio, 2))}"


def tier_row(t: dict) -> list[str]:
    """A tier's cells in TIER_HEADERS order."""
    detect_10x = human_duration(t["detect_10x_s"]) if t["detect_10x_s"] is not None else "never"
    windows = f'{human_duration(t["long_window_s"])}/{human_duration(t["short_window_s"])}'
    return [t["name"], t["severity"], _rate(t["burn_rate"]), _pct(t["error_rate"]), windows,
            _pct(t["budget_consumed"]), human_duration(t["detect_total_outage_s"]), detect_10x,
            human_duration(t["reset_s"]), human_duration(t["exhaustion_s"])]


def threshold_row(t: dict) -> list[str]:
    """A budget-policy step's cells in THRESHOLD_HEADERS order."""
    return [fmt_percent(t["remaining"]), t["severity"], human_duration(t["full_outage_to_reach_s"]),
            t["notify"] or "-", "; ".join(t["actions"]) or "-"]


def facts(m: dict) -> list[tuple[str, str]]:
    """The SLO's key/value lines, the same in text and Markdown."""
    window = human_duration(m["window_s"])
    over = (f"each calendar {m['calendar']} ({m['timezone']}), reset when it starts; figures for {window}"
            if m.get("calendar") else window)
    rows = [("objective", f"{fmt_percent(m['objective'])} over {over}"),
            ("error budget", f"{fmt_percent(m['error_budget'])} of events ({_one_in(m['error_budget'])})"),
            ("full outage", f"{human_duration(m['full_outage_s'])} spends the whole {window} budget"),
            ("alert policy", m["alert_policy"] or "none (no burn-rate alerts)")]
    if m["alert_policy"]:
        rows.append(("alert name", m["alert_name"]))
        guard = f"{m['min_events']} events in a tier's long window" if m["min_events"] else "off"
        rows.append(("min_events", guard))
        no_data = m["no_data"]
        rows.append(("no-data alert", f"after {human_duration(no_data['after_s'])}, severity {no_data['severity']}"
                     if no_data else "off"))
    if m["budget_policy"]:
        rows.append(("budget policy", m["budget_policy"]["name"]))
    if m.get("group_by"):
        rows.append(("grouped by", f"{', '.join(m['group_by'])}: one SLO, budget and set of alerts per value"))
    deps = m.get("dependencies")
    if deps:
        listed = [f"{d['slo']} ({'soft' if d['soft'] else fmt_percent(d['objective'])})" for d in deps["depends_on"]]
        rows.append(("depends on", ", ".join(listed)))
        above = " - the objective is above it" if m["objective"] > deps["ceiling"] + 1e-12 else ""
        rows.append(("ceiling", f"{floor_percent(deps['ceiling'])}, the product of the hard dependencies' "
                                f"objectives{above}"))
        if len(deps["chain"]) > 1:
            rows.append(("costliest chain", " -> ".join(deps["chain"])))
    return rows


# ---------------------------------------------------------------- formats

def aligned(headers: tuple[str, ...], rows: list[list[str]], indent: str = "  ") -> list[str]:
    """A terminal table: columns padded to their widest cell, a dashed rule under the header."""
    widths = [max(len(str(r[i])) for r in [list(headers), *rows]) for i in range(len(headers))]
    line = lambda cells: indent + "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def render_text(maths: list[dict]) -> str:
    """Aligned tables for a terminal, one block per SLO."""
    out: list[str] = []
    for m in maths:
        out.append(f"{m['service']}/{m['slo']}  ({m['source']})")
        width = max(len(k) for k, _ in facts(m))
        out.extend(f"  {k.ljust(width)}  {v}" for k, v in facts(m))
        if m["tiers"]:
            out += ["", *aligned(TIER_HEADERS, [tier_row(t) for t in m["tiers"]])]
        if m["budget_policy"] and m["budget_policy"]["thresholds"]:
            out += ["", *aligned(THRESHOLD_HEADERS, [threshold_row(t) for t in m["budget_policy"]["thresholds"]])]
        out.append("")
    return "\n".join(out)


def _md_cell(text: str) -> str:
    """Source text in Markdown: escaped like the runbooks' (no cell end, code span, HTML, link or hidden text)."""
    from relc.targets.runbook.markdown import md

    return md(text) if text else text


def _md_table(headers: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    """A GitHub pipe table; alignment is left to the renderer."""
    return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers),
            *("| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows)]


def render_markdown(maths: list[dict]) -> str:
    """GitHub-flavoured Markdown: a heading, a fact list and tables per SLO, for PR comments and wikis."""
    out: list[str] = []
    for m in maths:
        out += [f"## {m['service']}/{m['slo']}", ""]
        out += [f"- **{k}**: {_md_cell(v)}" for k, v in facts(m)] + [""]
        if m["tiers"]:
            out += [*_md_table(TIER_HEADERS, [tier_row(t) for t in m["tiers"]]), ""]
        if m["budget_policy"] and m["budget_policy"]["thresholds"]:
            out += [*_md_table(THRESHOLD_HEADERS, [threshold_row(t) for t in m["budget_policy"]["thresholds"]]), ""]
    return "\n".join(out)


def render_json(maths: list[dict]) -> str:
    """One object with an `slos` list; keys are fixed, durations in seconds, ratios as fractions."""
    return json.dumps({"slos": maths}, indent=2, ensure_ascii=False) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}


# ---------------------------------------------------------------- the command

def _fail(result, fmt: str) -> None:
    """Sources with errors: the diagnostics as `relc check` prints them, then exit 1."""
    from relc.compiler.render.text import render_json as diagnostics_json, render_text as diagnostics_text, summary

    if fmt == "json":
        click.echo(diagnostics_json(result.diagnostics), nl=False)
    else:
        click.echo(diagnostics_text(result.diagnostics, result.texts, color=sys.stderr.isatty()), err=True, nl=False)
        click.echo(f"relc: {summary(result.diagnostics)}", err=True)
    sys.exit(1)


@click.command("explain")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--slo", "wanted", multiple=True, metavar="SERVICE/SLO|NAME",
              help="Only this SLO (repeatable); a bare NAME matches SLOs of that name, else a service's SLOs.")
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True,
              help="Aligned tables (text), JSON for machines, or Markdown for pull requests and wikis.")
@CONFIG
def explain_command(paths: tuple[str, ...], wanted: tuple[str, ...], fmt: str, config_path: str | None,
                    no_config: bool) -> None:
    """Show the error-budget math behind each SLO's alerts in PATHS.

    For every alert tier: its burn-rate factor and windows, the budget spent when it fires, how
    soon it fires at a total outage and at a 10x burn, how long it takes to clear, and how long
    the budget lasts at its threshold. Without PATHS, reads the `sources` of relc.yaml, as check and build do.
    Example: relc explain examples/shop --slo checkout/availability
    """
    from relc.compiler.commands.cli import _config, _sources
    from relc.compiler.pipeline import compile_paths

    config = _config(config_path, no_config, "json" if fmt == "json" else "text")
    result = compile_paths(_sources(paths, config), config.exclusion, imports=config.imports)
    if not result.ok:
        _fail(result, fmt)
    slos = select(result.project, wanted)
    if result.diagnostics and fmt != "json":
        from relc.compiler.render.text import render_text as diagnostics_text

        click.echo(diagnostics_text(result.diagnostics, result.texts, color=sys.stderr.isatty()), err=True, nl=False)
    click.echo(RENDERERS[fmt]([slo_math(s, result.project) for s in slos]), nl=False)

