"""`relc init`: a small project that checks and builds as written, so a team starts from working files, not docs."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from relc.compiler import __version__

REPO_URL = "https://github.com/relc-dev/relc"
SOURCE_DIR = "slo"
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")

RELC_TEMPLATE = '''\
# The reliability contract of @SERVICE@, scaffolded by `relc init`.
# Point the selectors at your own metrics, then run `relc check` and `relc build`.
# Language reference: @REPO@/blob/main/docs/language.md

service @SERVICE@ {
  description = "What @SERVICE@ does for its users"
  owner = "team-@SERVICE@"

  slo availability {
    description = "Requests succeed (anything but a 5xx)"
    objective = 99.9%       # 1 request in 1,000 may fail: 43m 12s of full outage per 30 days
    window = 30d
    budget_policy = standard
    runbook = @SERVICE@-availability
    min_events = 20         # burn-rate alerts stay quiet while an alert window saw fewer requests
    no_data_after = 15m     # and say so when the metrics disappear

    sli events {
      bad = http_requests_total{job="@SERVICE@", code=~"5.."}
      total = http_requests_total{job="@SERVICE@"}
    }
  }
}

# What the team commits to do as the error budget runs down (one alert per step).
budget_policy standard {
  threshold {
    remaining = 50%
    actions = ["Review the top budget consumers in the weekly ops meeting"]
  }
  threshold {
    remaining = 0%
    severity = "page"
    actions = ["Freeze launches except reliability fixes until the budget recovers"]
  }
}

# Linked from every alert of the SLO above.
runbook @SERVICE@-availability {
  summary = "@SERVICE@ requests are failing."
  escalation = "#@SERVICE@-oncall"

  step "Check which endpoints and status codes fail"
  step "If a deploy went out in the last hour, roll it back"
}
'''

CONFIG_TEMPLATE = '''\
# relc project configuration, written by `relc init`. Command-line flags override every key.
# yaml-language-server: $schema=https://raw.githubusercontent.com/relc-dev/relc/main/schemas/relc-config.schema.json
sources:
  - @SOURCES@
out: out
targets:
  - prometheus
  - grafana
  - runbook
options:
  prometheus.layout: plain
# Where the runbooks and Grafana are published, so every alert links to both:
# runbook_base_url: https://runbooks.example.com/
# dashboard_base_url: https://grafana.example.com/
'''

PRE_COMMIT_TEMPLATE = '''\
# pre-commit hooks (https://pre-commit.com): `pre-commit install` once, then every commit is checked.
repos:
  - repo: @REPO@
    rev: v@VERSION@
    hooks:
      - id: relc-check
      - id: relc-fmt
'''


def service_name(directory: Path) -> str:
    """A service named after the project directory when that is a valid relc name, else `example`."""
    name = directory.resolve().name
    return name if NAME.fullmatch(name) else "example"


def files_for(service: str) -> dict[str, str]:
    """The scaffold: relative path -> text, in the order they are written and reported."""
    fill = {"@SERVICE@": service, "@REPO@": REPO_URL, "@VERSION@": __version__, "@SOURCES@": SOURCE_DIR}
    templates = {f"{SOURCE_DIR}/{service}.relc": RELC_TEMPLATE, "relc.yaml": CONFIG_TEMPLATE,
                 ".pre-commit-config.yaml": PRE_COMMIT_TEMPLATE}
    return {path: _fill(text, fill) for path, text in templates.items()}


def _fill(text: str, fill: dict[str, str]) -> str:
    """Plain placeholders rather than str.format, because the templates are full of braces."""
    for key, value in fill.items():
        text = text.replace(key, value)
    return text


def scaffold(directory: Path, service: str, force: bool) -> tuple[list[str], list[str]]:
    """Write the files and return (written, refused); without force, any existing file means nothing is written."""
    files = files_for(service)
    existing = [path for path in files if (directory / path).exists()]
    if existing and not force:
        return [], existing
    for path, text in files.items():
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")
    return list(files), []


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--service", default=None, metavar="NAME",
              help="Name of the scaffolded service (default: the directory's name).")
@click.option("--force", is_flag=True, help="Overwrite files the scaffold would write; nothing else is touched.")
def init_command(directory: Path, service: str | None, force: bool) -> None:
    """Scaffold a relc project in DIRECTORY (default: the current one).

    Writes slo/SERVICE.relc (one service, one events SLO, a budget policy and a runbook),
    relc.yaml (sources, output directory, targets, options) and .pre-commit-config.yaml (the
    relc-check and relc-fmt hooks). Existing files are left alone unless --force is given;
    nothing is ever deleted. Example: relc init my-service && relc check my-service
    """
    name = service or service_name(directory)
    if not NAME.fullmatch(name):
        raise click.BadParameter(f"`{name}` is not a relc name: a letter, then letters, digits, `_` or `-`",
                                 param_hint="'--service'")
    try:
        written, refused = scaffold(directory, name, force)
    except OSError as err:
        click.echo(f"relc: cannot write to {directory}: {err.strerror or err}", err=True)
        sys.exit(1)
    if refused:
        click.echo(f"relc: {', '.join(refused)} already exist{'s' if len(refused) == 1 else ''} in {directory}; "
                   "nothing was written (use --force to overwrite)", err=True)
        sys.exit(1)
    click.echo(f"relc: wrote {', '.join(written)} in {directory}", err=True)
    click.echo(f"next: relc check {directory / SOURCE_DIR} && relc build {directory / SOURCE_DIR} "
               f"-o {directory / 'out'}", err=True)
