"""Stage 4, lower: validate's checked definitions become the typed, frozen pydantic IR that targets read.

Each SLO is validated by pydantic in one call (its nested nodes read by attribute), which costs less
than building every IR node in Python. Budget policies and runbooks are lowered once and shared by
every SLO that refers to them, as in the checked tree.
"""
from __future__ import annotations

from dataclasses import fields

from relc.compiler.model import checked as checked

from relc.compiler.model import ir as ir

_SLO_FIELDS = tuple(f.name for f in fields(checked.SLO))
_SERVICE_FIELDS = tuple(f.name for f in fields(checked.Service))


def lower(project: checked.Project) -> ir.Project:
    shared: dict[int, ir.BudgetPolicy | ir.Runbook] = {}
    policies = tuple(_shared(shared, ir.BudgetPolicy, p) for p in project.budget_policies)
    runbooks = tuple(_shared(shared, ir.Runbook, r) for r in project.runbooks)
    services = tuple(_service(service, shared) for service in project.services)
    return ir.Project(services=services, budget_policies=policies, runbooks=runbooks)  # type: ignore[arg-type]


def _shared(shared: dict, model: type, node) -> ir.Node:
    lowered = shared[id(node)] = model.model_validate(node, from_attributes=True)
    return lowered


def _service(service: checked.Service, shared: dict) -> ir.Service:
    values = _values(service, _SERVICE_FIELDS)
    values["slos"] = tuple(_slo(slo, shared) for slo in service.slos)
    return ir.Service.model_validate(values, from_attributes=True)


def _slo(slo: checked.SLO, shared: dict) -> ir.SLO:
    values = _values(slo, _SLO_FIELDS)
    for name, model in (("budget_policy", ir.BudgetPolicy), ("runbook", ir.Runbook)):
        node = values[name]
        if node is not None:
            values[name] = shared.get(id(node)) or _shared(shared, model, node)
    return ir.SLO.model_validate(values, from_attributes=True)


def _values(node, names: tuple[str, ...]) -> dict:
    """Every field of a checked node, for pydantic to validate after a few are replaced by lowered ones."""
    return {name: getattr(node, name) for name in names}
