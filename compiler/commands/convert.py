"""`relc import sloth|openslo|pyrra FILE...`: YAML specs to .relc source, checked by the validator before it is printed."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic
from relc.compiler.resolve.files import Unreadable, read_regular, shown_name
from relc.compiler.resolve.sources import SourceSet, display_path
from relc.compiler.syntax.tree import Module
from relc.compiler.resolve.importers import load_yaml_modules, yamlpos

FORMATS = {"sloth": ("Sloth", ("prometheus/v1", "sloth.slok.dev/v1", "openslo/v1alpha")),
           "openslo": ("OpenSLO", ("openslo/v1", "openslo/v1alpha")),
           "pyrra": ("Pyrra", ("pyrra.dev/v1alpha1", "v1alpha1"))}


def format_module(module: Module) -> str:
    """Canonical .relc text for an imported tree, by the same printer as `relc fmt`."""
    from relc.compiler.commands.fmt import format_module as canonical

    return canonical(module)


def convert(path: str, text: str) -> tuple[str | None, list[Diagnostic]]:
    """One YAML file as .relc source; None when it has errors (the source would not compile)."""
    return convert_files([(path, text)])


def convert_files(files: list[tuple[str, str]], settings=None) -> tuple[str | None, list[Diagnostic]]:
    """Several YAML files as one .relc source, references resolved across them; None on errors."""
    from relc.compiler.check.validate import validate
    from relc.compiler.resolve.import_settings import DEFAULT

    modules, diags = load_yaml_modules(files, settings or DEFAULT)
    if not dg.has_errors(diags):
        _, more = validate(SourceSet(list(modules.values()), dict(files)))
        diags.extend(more)
    diags.sort(key=dg.sort_key)
    if dg.has_errors(diags):
        return None, diags
    names = ", ".join(path for path, _ in files)
    header = (f"# Imported by `relc import` from {names}.\n"
              "# Check it with `relc check`; edit it as your source of truth.\n\n")
    body = "\n".join(format_module(modules[path]) for path, _ in files if modules.get(path) and modules[path].items)
    return header + body, diags


def _wrong_format(files: list[tuple[str, str]], fmt: str) -> list[Diagnostic]:
    """A file whose documents are not the format named on the command line, so the user picks the right command."""
    name, versions = FORMATS[fmt]
    out = []
    for path, text in files:
        documents, problems = yamlpos.load_documents(path, text)
        if problems:
            continue
        for doc in documents:
            for node in (doc.items if doc is not None and doc.kind == "seq" else (doc,)):
                version = _version(node)
                if version and not any(version == v for v in versions):
                    other = ("openslo" if version.startswith("openslo") else
                             "pyrra" if version in FORMATS["pyrra"][1] else "sloth")
                    out.append(dg.make("RELC603", f"this is not a {name} document ({version})", _where(node, path),
                                       hint=f"use `relc import {other}`"))
    return out


def _version(node) -> str:
    if node is None or node.kind != "map":
        return ""
    found = node.get("apiVersion") or node.get("version")
    return found.text if found is not None and found.kind == "scalar" else ""


def _where(node, path: str):
    found = node.get("apiVersion") or node.get("version")
    return found.span if found is not None else dg.Span.point(path, 1, 1)


def _run(fmt: str, files: tuple[str, ...], out: str | None, diag_format: str, settings=None) -> None:
    from relc.compiler.render.text import render_json, render_text, summary

    read, diags = [], []
    for name in files:
        try:
            read.append((display_path(Path(name)), read_regular(Path(name)).decode("utf-8-sig")))
        except Unreadable as err:
            diags.append(dg.make("RELC201", f"cannot read {shown_name(name)}: {err}"))
        except UnicodeDecodeError as err:
            diags.append(dg.make("RELC201", f"cannot read {shown_name(name)}: not UTF-8 (byte {err.start})"))
    diags.extend(_wrong_format(read, fmt))
    source = None
    if not dg.has_errors(diags):
        source, more = convert_files(read, settings)
        diags.extend(more)
    if diag_format == "json":
        click.echo(render_json(diags), nl=False, err=out is None)
    elif diags:
        click.echo(render_text(diags, dict(read), color=sys.stderr.isatty()), err=True, nl=False)
        click.echo(f"relc: {summary(diags)}", err=True)
    if source is None:
        sys.exit(1)
    _write(source, out)


def _write(source: str, out: str | None) -> None:
    if out is None:
        click.echo(source, nl=False)
        return
    from relc.compiler.resolve.files import write_atomically

    try:
        write_atomically(Path(out), source.encode("utf-8"))
    except OSError as err:
        click.echo(f"relc: error[RELC501]: cannot write {out}: {err.strerror or err}", err=True)
        sys.exit(1)
    click.echo(f"relc: wrote {out}", err=True)


OUT = click.option("-o", "--out", default=None, type=click.Path(dir_okay=False),
                   help="Write the .relc source to FILE instead of standard output.")
FORMAT = click.option("--format", "diag_format", type=click.Choice(["text", "json"]), default="text",
                      show_default=True, help="How to print diagnostics.")
FILES = click.argument("files", nargs=-1, required=True, type=click.Path())


@click.group("import")
def import_command() -> None:
    """Convert Sloth or OpenSLO YAML specs to .relc source.

    relc can also build the YAML directly; import when you want .relc files as your source from
    now on. The output is checked like `relc check` before it is written. See docs/interop.md.
    """


@import_command.command("sloth")
@FILES
@OUT
@FORMAT
@click.option("--default-slo-period", "period", metavar="DURATION", default="30d", show_default=True,
              help="Sloth's --default-slo-period: the window of every SLO, e.g. 28d.")
@click.option("--sloth-labels", is_flag=True, help="Keep Sloth's labels (sloth_id, sloth_service, sloth_slo, "
                                                   "sloth_severity) so routes written for Sloth keep matching.")
def import_sloth(files: tuple[str, ...], out: str | None, diag_format: str, period: str, sloth_labels: bool) -> None:
    """Sloth specs (prometheus/v1, PrometheusServiceLevel, AlertWindows; OpenSLO v1alpha as Sloth reads it).

    Example: relc import sloth slos/myservice.yml --default-slo-period 28d -o myservice.relc
    """
    from relc.compiler.resolve.import_settings import sloth_settings

    try:
        settings = sloth_settings(period, sloth_labels)
    except ValueError:
        raise click.BadParameter(f"{period!r} is not a duration like 28d", param_hint="--default-slo-period") \
            from None
    _run("sloth", files, out, diag_format, settings)


@import_command.command("openslo")
@FILES
@OUT
@FORMAT
def import_openslo(files: tuple[str, ...], out: str | None, diag_format: str) -> None:
    """OpenSLO documents (openslo/v1, openslo/v1alpha); give every file that objects refer to.

    Example: relc import openslo openslo/*.yaml -o slos.relc
    """
    _run("openslo", files, out, diag_format)


@import_command.command("pyrra")
@FILES
@OUT
@FORMAT
def import_pyrra(files: tuple[str, ...], out: str | None, diag_format: str) -> None:
    """Pyrra ServiceLevelObjectives (pyrra.dev/v1alpha1); alerts use relc's built-in `pyrra` policy.

    Example: relc import pyrra slos/*.yaml -o slos.relc
    """
    _run("pyrra", files, out, diag_format)
