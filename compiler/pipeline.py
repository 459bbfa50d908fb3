"""The stages wired together: resolve (which parses) -> check, which builds the model every target reads."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic
from relc.compiler.resolve.sources import Exclude, SourceSet, resolve, uses_packs
from relc.compiler.check.validate import validate

if TYPE_CHECKING:
    from relc.compiler.model import ir


@dataclass
class Compilation:
    """What a front-end run produced: the model when valid, every diagnostic, and source text for carets."""

    project: ir.Project | None
    diagnostics: list[Diagnostic]
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.project is not None and not dg.has_errors(self.diagnostics)


def compile_paths(paths: list[str], exclude: Exclude | None = None, *, freeze: bool = False,
                  imports=None, overlay=None) -> Compilation:
    """Run the front end; validation runs only when every file parsed, so errors do not cascade. `freeze=True`
    (the CLI, a short-lived process) leaves what it built out of cyclic garbage collection from then on;
    `imports` (ImportSettings) is what relc.yaml says about reading other tools' specs."""
    with gc_paused(freeze):
        sources, diags = resolve(paths, exclude, imports, overlay)
        if not diags and uses_packs(sources):
            from relc.compiler.resolve.packs_use import resolve_packs  # only projects that use packs pay for them

            diags.extend(resolve_packs(sources))
        project = None
        if not dg.has_errors(diags):
            project, more = compile_sources(sources)
            diags.extend(more)
        diags.sort(key=dg.sort_key)
    return Compilation(project, diags, sources.texts)


def compile_sources(sources: SourceSet) -> tuple[ir.Project | None, list[Diagnostic]]:
    """Check resolved sources into the model; no project when anything is wrong."""
    project, diags = validate(sources)
    if sources.pack_uses:  # only projects that use packs load the pack code
        from relc.compiler.resolve.packs_use import note_pack_uses

        diags = note_pack_uses(diags, sources.pack_uses)
    if project is None or dg.has_errors(diags):
        return None, diags
    return project, diags


@contextmanager
def gc_paused(freeze: bool = False):
    """No cycle collection inside: the front end and the targets build large trees without cycles, which
    the collector would otherwise scan again and again as they grow (half the front end's time).

    With `freeze`, everything alive on the way out goes to the permanent generation first: the first
    collection after the pause would otherwise walk every object the front end made (25-30 ms per 1 000
    SLOs). Frozen objects are still freed when unreferenced; only cycles among them would outlive a
    long-running process, so library callers leave this off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()
