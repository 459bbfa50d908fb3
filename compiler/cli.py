"""The `relc` command line: check, build, targets. Only this module touches the output directory."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from . import diagnostics as dg
from .diagnostics import Diagnostic

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
BUG_URL = "https://github.com/relc-dev/relc/issues"


def _emit(diagnostics: list[Diagnostic], texts: dict[str, str], fmt: str, quiet: bool = False) -> None:
    from .render import render_json, render_text, summary

    if fmt == "json":
        click.echo(render_json(diagnostics), nl=False)
        return
    if diagnostics:
        click.echo(render_text(diagnostics, texts, color=sys.stderr.isatty()), err=True, nl=False)
        if not quiet:
            click.echo(f"relc: {summary(diagnostics)}", err=True)


FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
                      help="How to print diagnostics: text with source carets (stderr), or JSON (stdout).")
PATHS = click.argument("paths", nargs=-1, required=True, type=click.Path())


# Commands that live in their own modules, imported only when invoked (or listed by --help).
LAZY_COMMANDS: dict[str, str] = {
    "pack": "relc.compiler.packs_doc:pack_group",
    "explain": "relc.compiler.explain:explain_command",
    "init": "relc.compiler.init:init_command",
}


class _LazyGroup(click.Group):
    """A group whose extra commands are imported on first use, so `relc check` loads none of them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            import importlib

            module, attr = LAZY_COMMANDS[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="relc")
def main() -> None:
    """relc: reliability as code.

    Describe services, SLIs, SLOs, alert policies, error-budget policies and runbooks once in .relc
    files; relc checks them like a compiler and generates artifacts for each monitoring stack.

    \b
    Exit status: 0 clean (warnings allowed), 1 the inputs have errors, 2 usage or internal error.
    """


@main.command()
@PATHS
@FORMAT
def check(paths: tuple[str, ...], fmt: str) -> None:
    """Parse and validate PATHS (files, or directories searched for *.relc) without writing anything.

    Fast enough for a pre-commit hook. Example: relc check examples/shop
    """
    from .pipeline import compile_paths

    result = compile_paths(list(paths))
    _emit(result.diagnostics, result.texts, fmt)
    if fmt == "text" and result.ok:
        slos = len(result.project.slos()) if result.project else 0
        click.echo(f"relc: ok: {len(result.texts)} file(s), {slos} SLO(s)", err=True)
    sys.exit(EXIT_OK if result.ok else EXIT_ERRORS)


@main.command()
@PATHS
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output directory; each target writes DIR/<target>/.")
@click.option("-t", "--target", "targets", multiple=True, metavar="NAME",
              help="Target to build (repeatable). Default: every built-in target. See `relc targets`.")
@click.option("--runbook-base-url", default="", metavar="URL",
              help="Base URL of the published runbooks; alert runbook_url links are built from it.")
@click.option("--dashboard-base-url", default="", metavar="URL",
              help="Base URL of Grafana; alert dashboard_url links are built from it.")
@click.option("-O", "--option", "settings", multiple=True, metavar="TARGET.KEY=VALUE",
              help="A target option (repeatable), e.g. -O prometheus.layout=operator. See `relc targets -v`.")
@FORMAT
def build(paths: tuple[str, ...], out_dir: str, targets: tuple[str, ...], runbook_base_url: str,
          dashboard_base_url: str, settings: tuple[str, ...], fmt: str) -> None:
    """Check PATHS and generate artifacts for each target under DIR/<target>/.

    Each target directory is written aside and swapped in whole, so a failed or interrupted
    build leaves the previous output untouched. A target asked for with --target turns what it
    cannot express into errors; in a default build those are warnings.

    Example: relc build examples/shop -o out --target prometheus
    """
    from . import build as builder
    from .pipeline import compile_paths
    from relc.targets import Options

    parsed, bad_settings = builder.parse_settings(settings)
    result = compile_paths(list(paths))
    diagnostics = list(result.diagnostics) + bad_settings
    outputs = None
    if result.ok and not bad_settings:
        options = Options(runbook_base_url=runbook_base_url, dashboard_base_url=dashboard_base_url,
                          settings=parsed)
        outputs, more = builder.generate(result.project, list(targets), options)
        diagnostics.extend(more)
    failed = dg.has_errors(diagnostics)
    _emit(sorted(diagnostics, key=dg.sort_key), result.texts, fmt)
    if failed or outputs is None:
        sys.exit(EXIT_ERRORS)
    try:
        written = builder.write(Path(out_dir), outputs)
    except OSError as err:
        reason = err.strerror or str(err)
        _emit([dg.make("RELC501", f"cannot write to {out_dir}: {reason}")], {}, fmt)
        sys.exit(EXIT_ERRORS)
    if fmt == "text":
        count = sum(len(a) for a in outputs.values())
        click.echo(f"relc: wrote {count} file(s) to {', '.join(str(p) for p in written)}", err=True)
    sys.exit(EXIT_OK)


@main.command("test")
@PATHS
@click.option("--keep", "keep_dir", type=click.Path(file_okay=False), default=None,
              help="Write the rules and generated tests to this directory and keep them (default: a temp dir).")
@FORMAT
def test_command(paths: tuple[str, ...], keep_dir: str | None, fmt: str) -> None:
    """Prove the alerts: generate promtool unit tests for every SLO and run them.

    For each SLO, relc writes synthetic series that burn its error budget at chosen rates and
    checks with `promtool test rules` that each alert tier fires no later than the SRE Workbook
    predicts, not before the data warrants it, and resolves after recovery. Needs promtool
    (Debian package `prometheus`). Example: relc test examples/shop
    """
    import tempfile

    from . import build as builder
    from .pipeline import compile_paths
    from .prooftest import promtool_path, run_promtool_tests
    from relc.targets import Options

    result = compile_paths(list(paths))
    if not result.ok:
        _emit(result.diagnostics, result.texts, fmt)
        sys.exit(EXIT_ERRORS)
    if promtool_path() is None:
        click.echo("relc: `relc test` needs promtool, which is not installed; install the Debian package "
                   "`prometheus` (apt-get install prometheus) or put promtool on PATH", err=True)
        sys.exit(EXIT_USAGE)
    options = Options(settings={"prometheus.tests": "true"})
    outputs, diagnostics = builder.generate(result.project, ["prometheus"], options)
    _emit(result.diagnostics + diagnostics, result.texts, fmt, quiet=True)
    if outputs is None or dg.has_errors(diagnostics):
        sys.exit(EXIT_ERRORS)
    with tempfile.TemporaryDirectory(prefix="relc-test-") as scratch:
        out = Path(keep_dir) if keep_dir else Path(scratch)
        builder.write(out, outputs)
        tests = sorted((out / "prometheus" / "tests").glob("*.test.yml"))
        if not tests:
            click.echo("relc: no SLO has a generated proof (see the warnings above)", err=True)
            sys.exit(EXIT_ERRORS)
        passed, output = run_promtool_tests(tests)
    click.echo(output, nl=False)
    click.echo(f"relc: {len(tests)} proof file(s) {'passed' if passed else 'FAILED'}", err=True)
    sys.exit(EXIT_OK if passed else EXIT_ERRORS)


@main.command("targets")
@click.option("-v", "--verbose", is_flag=True, help="Also list each target's -O options.")
def list_targets(verbose: bool) -> None:
    """List the available targets (built-in and installed plug-ins)."""
    from relc import targets as registry

    for name in registry.names():
        try:
            target = registry.load(name)
        except Exception as err:  # a broken plug-in must not hide the others
            click.echo(f"{name:12} (failed to load: {err})")
            continue
        click.echo(f"{name:12} {target.description}")
        for key, spec in getattr(target, "options", {}).items() if verbose else ():
            value = "|".join(spec.choices) if spec.choices else "VALUE"
            default = f" (default: {spec.default})" if spec.default else ""
            click.echo(f"  -O {name}.{key}={value}\n      {spec.help}{default}")


def run() -> None:
    """Entry point: never let a traceback reach the user."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("relc: interrupted", err=True)
        sys.exit(130)
    except Exception as err:  # noqa: BLE001 - the last line of defence
        click.echo(f"relc: internal error: {type(err).__name__}: {err}. This is a bug in relc; please report it "
                   f"at {BUG_URL} with the input that caused it.", err=True)
        sys.exit(EXIT_USAGE)
