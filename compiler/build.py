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
    for name in names:
        diags.extend(check_settings(name, registry.load(name), options.settings))
    if dg.has_errors(diags):
        return None, diags
    outputs: dict[str, list] = {}
    for name in names:
        artifacts, target_diags = registry.load(name).generate(project, options)
        for diag in target_diags:
            diags.append(diag if explicit or diag.code != "RELC401" else diag.as_warning())
        outputs[name] = artifacts
    return outputs, diags


def check_settings(name: str, target, settings: dict[str, str]) -> list[Diagnostic]:
    """Unknown keys and values outside a target's choices are errors, before anything is generated."""
    specs = getattr(target, "options", {})
    diags = []
    for key, value in settings.items():
        prefix, _, option = key.partition(".")
        if prefix != name:
            continue
        spec = specs.get(option)
        if spec is None:
            known = [f"{name}.{k}" for k in specs]
            diags.append(dg.make("RELC403", f"unknown option `{key}`",
                                 hint=dg.did_you_mean(key, known) or f"{name} options: {', '.join(known) or 'none'}"))
        elif spec.choices and value not in spec.choices:
            diags.append(dg.make("RELC403", f"`{key}` must be one of {', '.join(spec.choices)}, got `{value}`"))
    return diags


def parse_settings(pairs: tuple[str, ...]) -> tuple[dict[str, str], list[Diagnostic]]:
    """`-O prometheus.layout=operator` pairs to a dict; malformed pairs are usage diagnostics."""
    settings: dict[str, str] = {}
    diags = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or "." not in key.strip():
            diags.append(dg.make("RELC403", f"option `{pair}` is not of the form target.key=value"))
            continue
        settings[key.strip()] = value.strip()
    return settings, diags


def write(out_dir: Path, outputs: dict[str, list]) -> list[Path]:
    from .writer import write_targets

    return write_targets(out_dir, outputs)
