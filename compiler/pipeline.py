"""The stages wired together: resolve (which parses) -> validate (which builds the IR) -> generate."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field

from . import diagnostics as dg
from . import ir
from .diagnostics import Diagnostic
from .resolver import Exclude, resolve
from .validate import validate


@dataclass
class Compilation:
    """What a front-end run produced: the IR when valid, every diagnostic, and source text for carets."""

    project: ir.Project | None
    diagnostics: list[Diagnostic]
    texts: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.project is not None and not dg.has_errors(self.diagnostics)


def compile_paths(paths: list[str], exclude: Exclude | None = None) -> Compilation:
    """Run the front end; validation runs only when every file parsed, so errors do not cascade."""
    with gc_paused():
        sources, diags = resolve(paths, exclude)
        project = None
        if not dg.has_errors(diags):
            project, more = validate(sources)
            diags.extend(more)
        diags.sort(key=dg.sort_key)
    return Compilation(project if not dg.has_errors(diags) else None, diags, sources.texts)


@contextmanager
def gc_paused():
    """No cycle collection inside: the front end and the targets build large trees without cycles, which
    the collector would otherwise scan again and again as they grow (half the front end's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
