"""`relc pack doc`: the Markdown reference a vendor publishes next to its pack (params, SLOs, policies)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Span


@click.group("pack")
def pack_group() -> None:
    """Work with policy packs (see docs/packs.md)."""


@pack_group.command("doc")
@click.argument("pack")
@click.option("-o", "--out", "out_file", type=click.Path(dir_okay=False), default=None,
              help="Write the Markdown here instead of standard output.")
def doc_command(pack: str, out_file: str | None) -> None:
    """Render a Markdown reference of PACK (a pack directory or an installed pack's name).

    Example: relc pack doc examples/packs/acme-postgres -o PACK.md
    """
    from relc.compiler.commands.cli import EXIT_ERRORS, _emit

    text, diagnostics, texts = render_pack_doc(pack)
    if text is None:
        _emit(diagnostics, texts, "text")
        sys.exit(EXIT_ERRORS)
    if out_file:
        from relc.compiler.resolve.files import write_atomically

        try:
            write_atomically(Path(out_file), text.encode("utf-8"))
        except OSError as err:
            _emit([dg.make("RELC501", f"cannot write {out_file}: {err.strerror or err}")], {}, "text")
            sys.exit(EXIT_ERRORS)
        click.echo(f"relc: wrote {out_file} ({len(text.splitlines())} lines, the reference of {pack})", err=True)
    else:
        click.echo(text, nl=False)


def render_pack_doc(reference: str) -> tuple[str | None, list, dict[str, str]]:
    """Load the pack with its defaults (and examples), validate it, and describe what it provides."""
    from relc.compiler.resolve.packs import load, locate
    from relc.compiler.resolve.packs_apply import apply_use
    from relc.compiler.pipeline import compile_sources
    from relc.compiler.resolve.sources import SourceSet
    from relc.compiler.syntax.tree import Block

    here = Span.point("<command line>", 1, 1)
    root, diags = locate(reference, Path.cwd() / "_", here)
    pack = None
    if root is not None:
        pack, loaded = load(root, here)
        diags += loaded
    if pack is None:
        return None, diags, {}
    use = Block("use", str(root), (), here, here, here)
    project, more = compile_sources(SourceSet(apply_use(use, pack, diags, examples=True), pack.texts))
    diags += more
    if project is None or dg.has_errors(diags):
        return None, diags, pack.texts
    return _markdown(pack, project), diags, pack.texts


def _markdown(pack, project) -> str:
    from relc.compiler.units import fmt_percent, human_duration
    from relc.targets.runbook.markdown import code, md

    lines = [f"# {md(pack.name)} {md(pack.version)}", "", md(pack.description), "",
             "## Parameters", "", "| Name | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for param in pack.params.values():
        default = code(param.default.text) if param.default is not None else "**required**"
        if param.default is None and param.example is not None:
            default += f" (e.g. {code(param.example.text)})"
        lines.append(f"| {code(param.name)} | {md(param.type)} | {default} | {md(param.doc)} |")
    lines += ["", "## SLOs (with default parameters)", "",
              "| Service | SLO | Objective | Window | SLI | Alert policy | Description |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for slo in project.slos():
        policy = slo.alert_policy.name if slo.alert_policy else "none"
        lines.append(f"| {md(slo.service)} | {md(slo.name)} | {md(fmt_percent(slo.objective))} | "
                     f"{md(slo.window_text if slo.calendar else human_duration(slo.window_s))} | "
                     f"{md(slo.sli.kind)} | {md(policy)} | "
                     f"{md(slo.description)} |")
    runbooks = [r.name for r in project.runbooks]
    policies = [p.name for p in project.budget_policies]
    lines += ["", "## Runbooks", ""] + [f"- {code(name)}" for name in runbooks]
    lines += ["", "## Error-budget policies", ""] + [f"- {code(name)}" for name in policies]
    lines += ["", "## Using it", "", "```relc", f'use "{pack.name}" {{',
              f'  version = ">={pack.version}"', "  params = { ... }", "}", "```", ""]
    return "\n".join(lines)
