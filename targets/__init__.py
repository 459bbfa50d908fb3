"""Target registry: built-ins by module path plus the `relc.targets` entry-point group, all loaded lazily."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Protocol

BUILTIN: dict[str, str] = {
    "prometheus": "relc.targets.prometheus:TARGET",
    "grafana": "relc.targets.grafana:TARGET",
    "runbook": "relc.targets.runbook:TARGET",
    "datadog": "relc.targets.datadog:TARGET",
    "openslo": "relc.targets.openslo:TARGET",
}
ENTRY_POINT_GROUP = "relc.targets"


@dataclass(frozen=True)
class Artifact:
    """One generated file: a path relative to the target's output directory, and its exact text."""

    path: str
    content: str


@dataclass(frozen=True)
class Options:
    """Settings every target may read; `settings` holds `-O target.key=value` pairs, keyed in full."""

    runbook_base_url: str = ""
    dashboard_base_url: str = ""
    settings: dict[str, str] = field(default_factory=dict)

    def get(self, key: str, default: str = "") -> str:
        return self.settings.get(key, default)

    def flag(self, key: str) -> bool:
        return self.settings.get(key, "false").lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class OptionSpec:
    """One `-O target.key=value` setting a target understands; `choices` empty means free text."""

    help: str
    choices: tuple[str, ...] = ()
    default: str = ""


class Target(Protocol):
    name: str
    description: str
    options: dict[str, OptionSpec]  # keys without the `target.` prefix
    generate: Callable  # (ir.Project, Options) -> (list[Artifact], list[Diagnostic])


def _entry_points() -> dict[str, object]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in BUILTIN}


def names() -> list[str]:
    """Every target name: built-ins first, then plug-ins, each group sorted."""
    return sorted(BUILTIN) + sorted(_entry_points())


def load(name: str) -> Target:
    """Import the target only now, so `relc check` never pays for generators it does not run."""
    if name in BUILTIN:
        module, attr = BUILTIN[name].split(":")
        return getattr(importlib.import_module(module), attr)
    plugins = _entry_points()
    if name in plugins:
        return plugins[name].load()  # type: ignore[attr-defined]
    raise KeyError(name)
