"""The `relc` command line: check, build, test, targets. Only this module touches the output directory."""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click

from relc.compiler import __version__
from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic
from relc.compiler.render.text import terminal_safe

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
BUG_URL = "https://github.com/relc-dev/relc/issues"


def _emit(diagnostics: list[Diagnostic], texts: dict[str, str], fmt: str, quiet: bool = False,
          all_warnings: bool = False) -> None:
    from relc.compiler.render.text import collapse_similar, render_json, render_text, summary

    if fmt == "json":
        click.echo(render_json(diagnostics), nl=False)
        return
    if fmt == "sarif":
        click.echo(_sarif_renderer()(diagnostics, texts, __version__), nl=False)
        return
    if diagnostics:
        shown, hidden = (diagnostics, 0) if all_warnings else collapse_similar(diagnostics)
        click.echo(render_text(shown, texts, color=sys.stderr.isatty()), err=True, nl=False)
        if hidden:
            click.echo(f"relc: {hidden} more warning(s) like those above not shown (--all-warnings, --format json "
                       "or --format sarif lists every one)", err=True)
        if not quiet:
            click.echo(f"relc: {summary(diagnostics)}", err=True)


def _sarif_renderer():
    """compiler/render/sarif.py's render_sarif, imported only for --format sarif (looked up so tests can replace it)."""
    import importlib

    try:
        return importlib.import_module("relc.compiler.render.sarif").render_sarif
    except (ImportError, AttributeError) as err:
        raise click.UsageError(f"--format sarif is not available in this installation ({err})") from None


FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
                      show_default=True, help="How to print diagnostics: text with source carets (stderr), "
                                              "JSON or SARIF 2.1.0 for code scanning (stdout).")
ALL_WARNINGS = click.option("--all-warnings", is_flag=True,
                            help="Print every warning; by default, after five warnings that differ only in the "
                                 "names they quote, the rest of that kind are counted, not printed.")
FORMAT_TEXT_JSON = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                                show_default=True,
                                help="How to print diagnostics: text with source carets (stderr), or JSON (stdout).")
PATHS = click.argument("paths", nargs=-1, type=click.Path())


def CONFIG(command):
    """--config FILE and --no-config, shared by the commands that read relc.yaml."""
    command = click.option("--no-config", is_flag=True, help="Do not read relc.yaml.")(command)
    return click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
                        help="Project config to use instead of the nearest relc.yaml (looked for in the working "
                             "directory and its parents, up to the repository root).")(command)


def _config(config_path: str | None, no_config: bool, fmt: str):
    """The project's relc.yaml, or an empty Config; an invalid file ends the run with its diagnostics."""
    from relc.compiler.commands.config import Config, find_config, load_config

    if no_config and config_path:
        raise click.UsageError("--config and --no-config exclude each other")
    path = Path(config_path) if config_path else None if no_config else find_config(Path.cwd())
    if path is None:
        return Config()
    config, diags = load_config(path)
    if diags:
        _emit(diags, config.texts, fmt)
        sys.exit(EXIT_ERRORS)
    return config


def _sources(paths: tuple[str, ...], config) -> list[str]:
    """PATHS from the command line, else relc.yaml's `sources`."""
    if paths:
        return list(paths)
    if config.sources:
        return list(config.sources)
    where = f"{config.path} has no `sources`" if config.path else "no relc.yaml was found"
    raise click.UsageError(f"no PATH given, and {where}")


def _compile(sources: list[str], progress, exclude=None, imports=None):
    from relc.compiler.pipeline import compile_paths

    progress.stage("checking")
    return compile_paths(sources, exclude, freeze=True, imports=imports)

# Commands that live in their own modules, imported only when invoked (or listed by --help).
LAZY_COMMANDS: dict[str, str] = {
    "pack": "relc.compiler.commands.pack_doc:pack_group",
    "explain": "relc.compiler.commands.explain:explain_command",
    "init": "relc.compiler.commands.init:init_command",
    "import": "relc.compiler.commands.convert:import_command",
    "fmt": "relc.compiler.commands.fmt:fmt_command",
    "test": "relc.compiler.commands.prooftest:test_command",
    "doctor": "relc.compiler.commands.live:doctor_command",
    "report": "relc.compiler.commands.live:report_command",
    "gate": "relc.compiler.commands.live_decide:gate_command",
    "replay": "relc.compiler.commands.live_decide:replay_command",
    "lsp": "relc.compiler.commands.lsp:lsp_command",
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
@CONFIG
@FORMAT
@ALL_WARNINGS
def check(paths: tuple[str, ...], config_path: str | None, no_config: bool, fmt: str, all_warnings: bool) -> None:
    """Parse and validate PATHS (files, or directories searched for *.relc) without writing anything.

    Without PATHS, checks the `sources` listed in relc.yaml. Fast enough for a pre-commit hook.
    Example: relc check examples/shop
    """
    from relc.compiler.commands.progress import Progress

    config = _config(config_path, no_config, fmt)
    sources = _sources(paths, config)
    with Progress() as progress:
        result = _compile(sources, progress, config.exclusion, config.imports)
    _emit(result.diagnostics, {**config.texts, **result.texts}, fmt, all_warnings=all_warnings)
    if fmt == "text" and result.ok:
        slos = len(result.project.slos()) if result.project else 0
        click.echo(f"relc: ok: {len(result.texts)} file(s), {slos} SLO(s)", err=True)
    sys.exit(EXIT_OK if result.ok else EXIT_ERRORS)


@main.command()
@PATHS
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False),
              help="Output directory; each target writes DIR/<target>/. Default: `out` in relc.yaml.")
@click.option("-t", "--target", "targets", multiple=True, metavar="NAME",
              help="Target to build (repeatable). Default: `targets` in relc.yaml, else every built-in target. "
                   "See `relc targets`.")
@click.option("--runbook-base-url", default=None, metavar="URL",
              help="Base URL of the published runbooks; alert runbook_url links are built from it.")
@click.option("--dashboard-base-url", default=None, metavar="URL",
              help="Base URL of Grafana; alert dashboard_url links are built from it.")
@click.option("-O", "--option", "settings", multiple=True, metavar="TARGET.KEY=VALUE",
              help="A target option (repeatable), e.g. -O prometheus.layout=operator; overrides the same key in "
                   "relc.yaml. See `relc targets -v`.")
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; compare DIR with what this build would write and exit 1 listing stale, "
                   "missing and extra files (for CI).")
@click.option("--force", is_flag=True,
              help="Replace target directories even when they hold files relc did not generate (deleting them).")
@CONFIG
@FORMAT
@ALL_WARNINGS
def build(paths: tuple[str, ...], out_dir: str | None, targets: tuple[str, ...], runbook_base_url: str | None,
          dashboard_base_url: str | None, settings: tuple[str, ...], check_only: bool, force: bool,
          config_path: str | None, no_config: bool, fmt: str, all_warnings: bool) -> None:
    """Check PATHS and generate artifacts for each target under DIR/<target>/.

    Each target directory is written aside and swapped in whole, so a failed or interrupted
    build leaves the previous output untouched. DIR/.relc-manifest.json lists what relc wrote; a
    target directory holding other files is not replaced without --force. A target asked for with
    --target turns what it cannot express into errors; in a default build those are warnings.

    Example: relc build examples/shop -o out --target prometheus
    """
    from relc.compiler.commands.progress import Progress

    started = time.time()
    config = _config(config_path, no_config, fmt)
    sources, out = _sources(paths, config), _out_dir(out_dir, config)
    request = _build_request(config, targets, runbook_base_url, dashboard_base_url, settings)
    with Progress() as progress:
        staging = None if check_only else (out, started)
        outputs, diagnostics, texts = _generate(sources, request, progress, config.exclusion, staging,
                                                config.imports)
        texts.update(config.texts)
        tail, after = [], ""
        if outputs is not None:
            step = _compare_output if check_only else _write_output
            tail, after = step(out, outputs, texts, progress, force=force, started=started)
    notes: list[str] = []
    if fmt == "text" and not all_warnings and not request.requested:
        from relc.compiler.render.text import summarise_target_notes

        diagnostics, notes = summarise_target_notes(diagnostics)
    _emit(diagnostics + tail, texts, fmt, all_warnings=all_warnings)
    for note in notes:
        click.echo(f"relc: {note}", err=True)
    if fmt == "text" and after:
        click.echo(terminal_safe(after), err=True)
    sys.exit(EXIT_ERRORS if outputs is None or dg.has_errors(tail) else EXIT_OK)


def _out_dir(out_dir: str | None, config) -> Path:
    if out_dir or config.out:
        return Path(out_dir or config.out)
    where = f"{config.path} has no `out`" if config.path else "no relc.yaml was found"
    raise click.UsageError(f"missing option -o/--out, and {where}")


@dataclass(frozen=True)
class _BuildRequest:
    """Command-line flags over relc.yaml: target options, targets asked for, where config values were written."""

    options: object
    requested: list[str]
    spans: dict
    bad: list[Diagnostic]


def _build_request(config, targets, runbook_base_url, dashboard_base_url, settings) -> _BuildRequest:
    from relc.targets import Options

    from relc.compiler.output import build as builder

    parsed, bad = builder.parse_settings(settings)
    options = Options(
        runbook_base_url=runbook_base_url if runbook_base_url is not None else config.runbook_base_url or "",
        dashboard_base_url=dashboard_base_url if dashboard_base_url is not None else config.dashboard_base_url or "",
        settings={**config.options, **parsed})
    spans = {key: span for key, span in config.spans.items()  # only for values that came from the file
             if (key in config.options and key not in parsed) or (not targets and key in config.targets)}
    return _BuildRequest(options, list(targets or config.targets), spans, bad)


def _generate(sources: list[str], request: _BuildRequest, progress, exclude=None, staging=None, imports=None):
    """Compile and run the targets: (outputs or None on errors, sorted diagnostics, source texts).

    With `staging` (out_dir, start time) each target's files are written aside as soon as it is generated, in
    the worker that generated it; outputs then hold writer.Staged values, for _write_output to swap in."""
    from relc.compiler.output import build as builder

    result = _compile(sources, progress, exclude, imports)
    diagnostics = list(result.diagnostics) + request.bad
    outputs = None
    if result.ok and not request.bad:
        created = bool(staging) and not os.path.lexists(staging[0])
        outputs, more = _run_targets(result.project, request, progress, staging)
        diagnostics += more
        if outputs is not None and dg.has_errors(diagnostics):
            builder.Stager.discard(outputs)
            outputs = None
        if outputs is None and created:
            _remove_if_empty(Path(staging[0]))  # a failed first build leaves no trace, not even an empty directory
    return outputs, sorted(diagnostics, key=dg.sort_key), dict(result.texts)


def _run_targets(project, request: _BuildRequest, progress, staging):
    """builder.generate, staging files when asked; a directory that cannot be written is RELC501."""
    from relc.compiler.output import build as builder

    def tick(target: str, done: int, total: int) -> None:
        progress.count(f"writing {target}", done, total)

    out = staging[0] if staging else None
    try:
        finish = builder.Stager(out, staging[1], tick) if staging else None
        outputs, diags = builder.generate(project, request.requested, request.options, spans=request.spans,
                                          finish=finish, on_target=lambda name, i, n: progress.stage(
                                              f"generating {name} ({i}/{n})"))
    except OSError as err:
        outputs, diags = None, [dg.make("RELC501", f"cannot write to {out}: {err.strerror or err}")]
    return outputs, diags


def _remove_if_empty(path: Path) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass


def _write_output(out: Path, outputs: dict, texts, progress, *, force: bool, started: float):
    """Swap the staged build in (or write and swap artifacts not staged yet): (diagnostics, closing line)."""
    from relc.compiler.output import build as builder
    from relc.compiler.output.writer import ForeignFiles, Staged, commit_staged

    progress.stage("writing")
    try:
        if all(isinstance(each, Staged) for each in outputs.values()):
            written = commit_staged(out, outputs, force=force)
        else:
            written = builder.write(out, outputs, force=force, started=started)
    except ForeignFiles as refused:
        return builder.foreign_diagnostics(out, refused.found), ""
    except OSError as err:
        return [dg.make("RELC501", f"cannot write to {out}: {err.strerror or err}")], ""
    count = sum(len(each) for each in outputs.values())
    return [], f"relc: wrote {count} file(s) to {', '.join(str(p) for p in written)}"


def _compare_output(out: Path, outputs: dict[str, list], texts, progress, **_):
    """`build --check`: (one diagnostic per file that differs, closing line); writes nothing."""
    from relc.compiler.output import build as builder

    progress.stage("comparing")
    diags, stale_texts = builder.compare(out, outputs)
    texts.update(stale_texts)
    count = sum(len(a) for a in outputs.values())
    if not diags:
        return [], f"relc: {out} is up to date ({count} file(s))"
    kinds = [d.code for d in diags]
    return diags, (f"relc: {out} is out of date: {kinds.count('RELC503')} stale, {kinds.count('RELC504')} missing, "
                   f"{kinds.count('RELC505')} extra; run the same `relc build` without --check to update it")


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
        main(standalone_mode=False)
    except SystemExit:
        raise
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("relc: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as err:  # usage errors quote paths and values: print them terminal-safe
        if err.ctx is not None:
            click.echo(terminal_safe(err.ctx.get_usage()), err=True)
            click.echo(f"Try '{err.ctx.command_path} -h' for help.", err=True)
        click.echo(terminal_safe(f"Error: {err.format_message()}"), err=True)
        sys.exit(err.exit_code)
    except Exception as err:  # noqa: BLE001 - the last line of defence
        click.echo(terminal_safe(f"relc: internal error: {type(err).__name__}: {err}. This is a bug in relc; please "
                                 f"report it at {BUG_URL} with the input that caused it."), err=True)
        sys.exit(EXIT_USAGE)
