"""Generation across targets: which to run, how their diagnostics count, and the atomic write."""
from __future__ import annotations

from pathlib import Path

from . import diagnostics as dg
from . import ir
from .diagnostics import Diagnostic


def generate(project: ir.Project, requested: list[str], options) -> tuple[dict[str, list] | None, list[Diagnostic]]:
    """Run each target; unsupported constructs are errors only for targets the user asked for by name."""
    from relc import targets as registry

    available = registry.names()
    explicit = bool(requested)
    names = list(dict.fromkeys(requested)) if explicit else sorted(registry.BUILTIN)
    diags: list[Diagnostic] = []
    unknown = [n for n in names if n not in available]
    for name in unknown:
        diags.append(dg.make("RELC402", f"unknown target `{name}`",
                             hint=dg.did_you_mean(name, available) or f"targets: {', '.join(available)}"))
    if unknown:
        return None, diags
    outputs: dict[str, list] = {}
    for name in names:
        artifacts, target_diags = registry.load(name).generate(project, options)
        for diag in target_diags:
            diags.append(diag if explicit or diag.code != "RELC401" else diag.as_warning())
        outputs[name] = artifacts
    return outputs, diags


def write(out_dir: Path, outputs: dict[str, list]) -> list[Path]:
    from .writer import write_targets

    return write_targets(out_dir, outputs)
