"""A recording rule and a matcher set as relc writes them, shared by the SLO rules and the calendar rules."""
from __future__ import annotations

from relc.compiler.check.promql import quote


def record(name: str, expr: str, labels: dict[str, str]) -> dict:
    return {"record": name, "expr": expr, "labels": dict(labels)}


def matchers(labels: dict[str, str]) -> str:
    """`{a="x",b="y"}`: every label matched exactly, in the order given."""
    return "{" + ",".join(f"{name}={quote(value)}" for name, value in labels.items()) + "}"
