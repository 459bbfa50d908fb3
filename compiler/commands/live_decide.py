"""`relc gate` and `relc replay`: the live commands that decide (may we deploy?) and rehearse (what would have fired?).

They share connection handling and exit codes with compiler/commands/live.py.
"""
from __future__ import annotations

import sys
import time

import click

from relc.compiler.commands.cli import EXIT_ERRORS, EXIT_OK, EXIT_USAGE
from relc.compiler.commands.live import Session, _duration, guarded, live_options
from relc.compiler.render.text import terminal_safe


# -- gate ----------------------------------------------------------------------------------------------------
@click.command("gate")
@live_options
@click.option("--min-remaining", required=True, metavar="PERCENT",
              help="Error budget that must be left in every selected SLO's current window, e.g. 25%.")
@click.option("--service", "services", multiple=True, metavar="NAME", help="Only this service's SLOs (repeatable).")
@click.option("--slo", "slos", multiple=True, metavar="SERVICE/NAME", help="Only this SLO (repeatable).")
@click.option("--allow-missing", is_flag=True, help="Pass an SLO without data instead of failing closed (said so in "
                                                    "the output).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def gate_command(paths, config_path, no_config, prometheus_url, timeout, concurrency, min_remaining, services, slos,
                 allow_missing, fmt):
    """May we deploy? Exit 0 when every selected SLO has at least --min-remaining of its error budget left.

    Exit 1 when one has less (each is printed with how far short it is), 2 when the server cannot be
    reached or an SLO has no data (fail closed; --allow-missing opens it). For CI/CD pipelines.

    Example: relc gate examples/shop --prometheus http://localhost:9090 --min-remaining 25%
    """
    from concurrent.futures import ThreadPoolExecutor

    from relc.compiler.live.budget import remaining_budget

    needed = _percent(min_remaining)
    session = Session(paths, config_path, no_config, prometheus_url, timeout)
    chosen = _select(session.project, services, slos)
    now = time.time()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        budgets = guarded(lambda: list(pool.map(lambda slo: remaining_budget(slo, session.api, now), chosen)))
    verdicts = [_verdict(b, needed, allow_missing) for b in budgets]
    if fmt == "json":
        import json

        click.echo(json.dumps({"min_remaining": needed, "slos": [v[1] for v in verdicts]}, indent=2))
    else:
        for state, row in verdicts:
            click.echo(terminal_safe(_gate_line(state, row, needed)))
    states = {state for state, _ in verdicts}
    sys.exit(EXIT_USAGE if "missing" in states else EXIT_ERRORS if "short" in states else EXIT_OK)


def _percent(text: str) -> float:
    try:
        value = float(text.strip().rstrip("%")) / 100
    except ValueError:
        value = -1
    if not 0 <= value <= 1 or not text.strip().endswith("%"):
        raise click.BadParameter(f"{text!r} is not a percentage between 0% and 100%", param_hint="--min-remaining")
    return value


def _select(project, services, slos):
    all_slos = project.slos()
    known_services = {s.service for s in all_slos}
    known = {f"{s.service}/{s.name}" for s in all_slos}
    from relc.compiler import diagnostics as dg

    for name in services:
        if name not in known_services:
            raise click.BadParameter(f"no service {name!r} in the project "
                                     f"({dg.did_you_mean(name, known_services) or 'relc explain lists them'})",
                                     param_hint="--service")
    for name in slos:
        if name not in known:
            raise click.BadParameter(f"no SLO {name!r} in the project "
                                     f"({dg.did_you_mean(name, known) or 'write SERVICE/NAME'})", param_hint="--slo")
    if not services and not slos:
        return all_slos
    return [s for s in all_slos if s.service in services or f"{s.service}/{s.name}" in slos]


def _verdict(budget, needed: float, allow_missing: bool) -> tuple[str, dict]:
    slo = budget.slo
    row = {"service": slo.service, "slo": slo.name, "window": slo.window_s, "objective": slo.objective,
           "remaining": budget.remaining, "coverage": budget.coverage}
    if slo.calendar:
        row["calendar"] = slo.window_text
    if budget.remaining is None:
        state = "allowed-missing" if allow_missing else "missing"
    else:
        state = "ok" if budget.remaining >= needed else "short"
    row["state"] = state
    return state, row


def _gate_line(state: str, row: dict, needed: float) -> str:
    from relc.compiler.units import human_duration

    name, window = f"{row['service']}/{row['slo']}", row.get("calendar") or human_duration(row["window"])
    if state in ("missing", "allowed-missing"):
        verdict = "FAIL" if state == "missing" else "pass (--allow-missing)"
        return f"{verdict} {name}: no data for its {window} window"
    left = f"{row['remaining'] * 100:.2f}% of its {window} error budget left"
    partial = f" (data covers {row['coverage'] * 100:.1f}% of the window)" if row["coverage"] < 1 else ""
    if state == "ok":
        return f"ok   {name}: {left}{partial}, needs {needed * 100:g}%"
    return (f"FAIL {name}: {left}{partial}, needs {needed * 100:g}%: "
            f"{(needed - row['remaining']) * 100:.2f} points short")


# -- replay --------------------------------------------------------------------------------------------------
@click.command("replay")
@live_options
@click.option("--since", default="30d", show_default=True, metavar="DURATION", help="How much history to replay.")
@click.option("--step", default="1m", show_default=True, metavar="DURATION",
              help="Evaluation step (as the rule group's interval; firings are timed to it).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def replay_command(paths, config_path, no_config, prometheus_url, timeout, concurrency, since, step, fmt):
    """What would these alerts have done? Each tier of each SLO evaluated by the server over its history.

    Per SLO and tier: how many times it would have fired, when, and for how long, so a policy can be
    tuned before it pages anyone.

    Example: relc replay examples/shop --prometheus http://localhost:9090 --since 7d
    """
    from relc.compiler.commands.progress import Progress
    from relc.compiler.live.replay import replay

    since_s, step_s = _duration(since, "--since"), _duration(step, "--step")
    session = Session(paths, config_path, no_config, prometheus_url, timeout)
    end = float(int(time.time()) // step_s * step_s)
    with Progress() as progress:
        results = guarded(lambda: replay(session.project, session.api, end - since_s, end, step_s,
                                         concurrency=min(concurrency, 4), tick=progress.count))
    _print_replay(results, fmt, end - since_s, end)
    sys.exit(EXIT_USAGE if results and not any(r.has_data for r in results) else EXIT_OK)


def _print_replay(results, fmt: str, start: float, end: float) -> None:
    from relc.compiler.live.periods import iso
    from relc.compiler.units import human_duration

    if fmt == "json":
        import json

        doc = {"from": iso(start), "to": iso(end), "slos": [
            {"service": r.slo.service, "slo": r.slo.name, "has_data": r.has_data, "error": r.error or None,
             "tiers": [{"tier": t.tier.name, "severity": t.tier.severity, "fired": len(t.firings),
                        "firing_s": t.firing_s, "expr": t.expr,
                        "firings": [{"start": iso(a), "end": iso(b), "duration_s": b - a} for a, b in t.firings]}
                       for t in r.tiers]} for r in results]}
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"replay from {iso(start)} to {iso(end)}")
    for r in results:
        head = f"{r.slo.service}/{r.slo.name}" + ("" if r.has_data else ": no data in the range")
        click.echo(terminal_safe(head + (f": query refused: {r.error}" if r.error else "")))
        for t in r.tiers:
            line = f"  {t.tier.name:14} {t.tier.severity:8} fired {len(t.firings)} time(s)"
            if t.firings:
                line += f", {human_duration(int(t.firing_s))} in all"
            click.echo(terminal_safe(line))
            for a, b in t.firings:
                click.echo(f"    {iso(a)} to {iso(b)} ({human_duration(int(b - a))})")
