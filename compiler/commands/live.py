"""The live commands: doctor, report, gate and replay read the customer's Prometheus-compatible server.

Exit status: 0 fine, 1 a finding (doctor errors, a gate that says no), 2 usage errors and a server that cannot
be reached or has no data (never a pass).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from relc.compiler.commands.cli import (ALL_WARNINGS, CONFIG, EXIT_ERRORS, EXIT_OK, EXIT_USAGE, FORMAT, PATHS,
                                        _config, _emit, _sources)
from relc.compiler.render.text import terminal_safe

PROMETHEUS = click.option("--prometheus", "prometheus_url", metavar="URL",
                          help="Root URL of the Prometheus-compatible API. Default: $RELC_PROMETHEUS_URL, else "
                               "`prometheus.url` in relc.yaml (whose credentials apply either way).")
TIMEOUT = click.option("--timeout", type=click.FloatRange(0.1, 3600), default=30.0, show_default=True,
                       metavar="SECONDS", help="Give up on one request after this long (it is retried twice).")
CONCURRENCY = click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True,
                           help="Requests in flight at once.")


def live_options(command):
    for option in (CONCURRENCY, TIMEOUT, PROMETHEUS, CONFIG, PATHS):
        command = option(command)
    return command


def fail(message: str) -> None:
    """A server that cannot be used ends the run with exit 2, in words that quote no secret."""
    click.echo(terminal_safe(f"relc: error: {message}"), err=True)
    sys.exit(EXIT_USAGE)


class Session:
    """What every live command starts from: the checked project, its texts, relc.yaml, and the open API."""

    def __init__(self, paths, config_path, no_config, prometheus_url, timeout, fmt="text"):
        from relc.compiler.commands.progress import Progress
        from relc.compiler.pipeline import compile_paths

        self.config = _config(config_path, no_config, fmt)
        with Progress() as progress:
            progress.stage("checking")
            result = compile_paths(_sources(paths, self.config), self.config.exclusion, freeze=True,
                                       imports=self.config.imports)
        self.texts = {**self.config.texts, **result.texts}
        if not result.ok:
            _emit(result.diagnostics, self.texts, fmt)
            sys.exit(EXIT_ERRORS)
        self.project = result.project
        self.api = self._open(prometheus_url, timeout)

    def _open(self, url, timeout):
        from relc.compiler.live.client import PrometheusAPI, Unreachable
        from relc.compiler.live.connection import SettingsError, from_settings

        try:
            connection = from_settings(url, self.config.prometheus, None)
        except SettingsError as err:
            fail(str(err))
        if connection is None:
            raise click.UsageError("no server: give --prometheus URL, set RELC_PROMETHEUS_URL, or add "
                                   "`prometheus: {url: ...}` to relc.yaml")
        try:
            api = PrometheusAPI(connection, timeout=timeout)
            api.probe()
        except Unreachable as err:
            fail(str(err))
        return api


def guarded(work):
    """Run the command's work; an unreachable server or a refused query mid-way ends it with exit 2."""
    from relc.compiler.live.client import QueryFailed, Unreachable

    try:
        return work()
    except Unreachable as err:
        fail(str(err))
    except QueryFailed as err:
        fail(f"the server refused a query: {err}")


# -- doctor --------------------------------------------------------------------------------------------------
@click.command("doctor")
@live_options
@click.option("--lookback", default="1h", show_default=True, metavar="DURATION",
              help="How far back a selector must have matched a series.")
@click.option("--no-rules", is_flag=True, help="Skip the checks of relc's rule groups on the server (before the "
                                              "rules are deployed).")
@click.option("--alertmanager", "alertmanager_url", metavar="URL",
              help="Also check that every alert's severity reaches a receiver that notifies someone. Default: "
                   "$RELC_ALERTMANAGER_URL, else `alertmanager.url` in relc.yaml.")
@FORMAT
@ALL_WARNINGS
def doctor_command(paths, config_path, no_config, prometheus_url, timeout, concurrency, lookback, no_rules,
                   alertmanager_url, fmt, all_warnings):
    """Will these SLOs work on this install? Check each SLI and relc's rules against the live server.

    Findings are diagnostics like `relc check`'s (RELC7xx): a selector that matches nothing, a label the
    metric never has, a gauge where a counter belongs, a latency threshold that is not a bucket bound,
    stale series, rule groups missing, failing or out of date, and with --alertmanager alerts that reach
    nobody. Exit 0 clean, 1 errors found, 2 the server cannot be used.

    Example: relc doctor examples/shop --prometheus http://localhost:9090
    """
    from relc.compiler.commands.progress import Progress
    from relc.compiler.live.doctor import Doctor

    lookback_s = _duration(lookback, "--lookback")
    session = Session(paths, config_path, no_config, prometheus_url, timeout, fmt)
    started = time.monotonic()
    with Progress() as progress:
        doctor = Doctor(session.api, time.time(), lookback_s, concurrency, progress.count, session.texts)
        expected = _expected_rules(session)
        guarded(lambda: doctor.check_sources(session.project))
        if not no_rules:
            progress.stage("checking rules")
            guarded(lambda: doctor.check_rules(session.project, expected))
        _check_alertmanager(session, doctor, expected, alertmanager_url, timeout)
    from relc.compiler import diagnostics as dg

    found = sorted(doctor.found, key=dg.sort_key)
    _emit(found, session.texts, fmt, all_warnings=all_warnings)
    if fmt == "text" and not found:
        click.echo(f"relc: doctor: ok: {len(session.project.slos())} SLO(s) checked against "
                   f"{session.api.connection.shown} in {time.monotonic() - started:.1f}s", err=True)
    sys.exit(EXIT_ERRORS if dg.has_errors(found) else EXIT_OK)


def _expected_rules(session) -> dict[str, list[dict]]:
    """The rule groups `relc build -t prometheus` would write now, with relc.yaml's options."""
    from relc.compiler.commands.cli import _build_request
    from relc.targets.prometheus.rules import slo_rules

    options = _build_request(session.config, (), None, None, ()).options
    return {f"relc-{slo.service}-{slo.name}": slo_rules(slo, service, options)
            for service in session.project.services for slo in service.slos}


def _check_alertmanager(session, doctor, expected, url, timeout) -> None:
    from relc.compiler.live.client import AlertmanagerAPI, Unreachable
    from relc.compiler.live.connection import ENV_ALERTMANAGER, SettingsError, from_settings
    from relc.compiler.live.doctor import check_routing
    from relc.compiler.live.routing import Routing

    try:
        connection = from_settings(url, session.config.alertmanager, None, env=ENV_ALERTMANAGER,
                                   what="--alertmanager")
    except SettingsError as err:
        fail(str(err))
    if connection is None:
        return
    try:
        with AlertmanagerAPI(connection, timeout=timeout) as api:
            routing = Routing.from_yaml(api.config_text())
    except Unreachable as err:
        fail(str(err))
    check_routing(doctor.found, session.project, expected, routing)


def _duration(text: str, flag: str) -> int:
    from relc.compiler.syntax.literals import DURATION_RE
    from relc.compiler.units import parse_duration_ms

    try:
        shaped = DURATION_RE.fullmatch(text.strip()) is not None
        seconds = int(parse_duration_ms(text.strip()) / 1000) if shaped else 0
    except (ValueError, ArithmeticError):
        seconds = 0
    if seconds <= 0:
        raise click.BadParameter(f"{text!r} is not a duration like 1h, 30m or 7d", param_hint=flag)
    return seconds


# -- report --------------------------------------------------------------------------------------------------
@click.command("report")
@live_options
@click.option("--period", metavar="PERIOD", help="A calendar period: 2026-11 (month), 2026-W47 (ISO week), "
                                                 "2026-Q4 (quarter) or 2026-11-30 (day); in UTC, and for an SLO with "
                                                 "a calendar window and a timezone, in its zone.")
@click.option("--from", "from_", metavar="TIME", help="Start of an explicit range (RFC 3339, a date, or unix seconds).")
@click.option("--to", metavar="TIME", help="End of an explicit range (exclusive).")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html", "json"]), default="markdown",
              show_default=True, help="Markdown with an SVG chart per SLO, one self-contained HTML file, or JSON "
                                      "(schemas/relc-report.schema.json).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the report here (Markdown charts go to FILE's stem + `.charts/`). Default: stdout, "
                   "with Markdown charts inline.")
@click.option("--redact", is_flag=True, help="Keep only service and SLO names and the numbers: no server address, "
                                             "queries, descriptions, alert names or label values.")
def report_command(paths, config_path, no_config, prometheus_url, timeout, concurrency, period, from_, to, fmt,
                   output, redact):
    """How reliable was each SLO over a period? A report the customer can send to the vendor.

    Per SLO: the attained SLI (exact, from the raw counters over the whole period, or relc's recorded
    series where the raw ones are gone, and which), the objective, met or missed, the error budget used
    and left, the worst day, and every alert firing with the budget it burned. Partial data is stated.

    Example: relc report examples/shop --prometheus http://localhost:9090 --period 2026-11 -o november.md
    """
    from relc.compiler.commands.progress import Progress
    from relc.compiler.live.periods import PeriodError, calendar, explicit
    from relc.compiler.live.report import build_report
    from relc.compiler.live.report_data import report_data

    try:
        if period and not (from_ or to):
            chosen = calendar(period)
        elif from_ and to and not period:
            chosen = explicit(from_, to)
        else:
            raise click.UsageError("give --period, or both --from and --to")
    except PeriodError as err:
        raise click.BadParameter(str(err)) from None
    session = Session(paths, config_path, no_config, prometheus_url, timeout)
    with Progress() as progress:
        report = guarded(lambda: build_report(session.project, session.api, chosen, time.time(),
                                              concurrency=concurrency, tick=progress.count))
    data = report_data(report, redact=redact)
    _write_report(data, fmt, output)
    failed = sum(1 for s in data["slos"] if s["errors"])
    if failed:
        click.echo(f"relc: report: {failed} SLO(s) had queries refused; see their `errors`", err=True)
    sys.exit(EXIT_OK)


def _write_report(data: dict, fmt: str, output: str | None) -> None:
    """Print or write the report atomically; Markdown's charts beside it, each its own SVG file."""
    from relc.compiler.live import report_render as render
    from relc.compiler.resolve.files import write_atomically

    charts: dict[str, str] = {}
    if fmt == "json":
        import json

        text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    elif fmt == "html":
        text = render.render_html(data)
    elif output:
        folder = Path(output).with_suffix(".charts")
        for slo in data["slos"]:
            charts[str(folder / render.chart_name(slo))] = render.chart_svg(slo) + "\n"
        text = render.render_markdown(data, lambda slo: f"![SLI and error budget of {render.md_text(slo['service'])}"
                                      f"/{render.md_text(slo['slo'])}]({folder.name}/{render.chart_name(slo)})")
    else:
        text = render.render_markdown(data, render.chart_svg)
    if not output:
        click.echo(text, nl=False)
        return
    try:
        for path, svg in charts.items():
            Path(path).parent.mkdir(exist_ok=True)
            write_atomically(Path(path), svg.encode("utf-8"))
        write_atomically(Path(output), text.encode("utf-8"))
    except OSError as err:
        fail(f"cannot write {output}: {err.strerror or err}")
    click.echo(f"relc: wrote {output}" + (f" and {len(charts)} chart(s)" if charts else ""), err=True)
