"""The checked definitions and the IR stay in step, lowering keeps sharing, and `relc check` skips pydantic."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from relc.compiler.model import checked as checked

from relc.compiler.model import ir as ir
from relc.compiler.pipeline import compile_paths

ROOT = Path(__file__).resolve().parent.parent
CHECKED_CLASSES = [c for c in vars(checked).values() if dataclasses.is_dataclass(c) and c.__module__ == checked.__name__]


def _checked_fields(cls) -> dict[str, object]:
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = "<required>"
    return out


def _ir_fields(model: type[BaseModel]) -> dict[str, object]:
    return {name: "<required>" if info.default is PydanticUndefined else info.default
            for name, info in model.model_fields.items()}


def test_every_ir_node_has_a_checked_twin():
    ir_nodes = {name for name, c in vars(ir).items() if isinstance(c, type) and issubclass(c, ir.Node)
                and c is not ir.Node}
    assert ir_nodes == {c.__name__ for c in CHECKED_CLASSES}


@pytest.mark.parametrize("cls", CHECKED_CLASSES, ids=lambda c: c.__name__)
def test_checked_node_has_the_ir_fields_and_defaults(cls):
    assert _checked_fields(cls) == _ir_fields(getattr(ir, cls.__name__))


def test_lowering_keeps_values_and_shares_policies_and_runbooks():
    lowered = compile_paths(["examples/shop"]).project
    plain = compile_paths(["examples/shop"], to_ir=False).project
    assert isinstance(lowered, ir.Project) and isinstance(plain, checked.Project)
    assert [s.name for s in lowered.slos()] == [s.name for s in plain.slos()]
    for got, want in zip(lowered.slos(), plain.slos()):
        assert got.sli.kind == want.sli.kind and got.objective == want.objective
        assert got.alert_policy == (want.alert_policy and ir.AlertPolicy.model_validate(want.alert_policy,
                                                                                         from_attributes=True))
        if got.runbook is not None:
            assert any(got.runbook is r for r in lowered.runbooks)
        if got.budget_policy is not None:
            assert any(got.budget_policy is p for p in lowered.budget_policies)
    assert any(s.runbook for s in lowered.slos()) and any(s.budget_policy for s in lowered.slos())


PROBE = """
import sys
from relc.compiler.commands.cli import main
try:
    main(["check", "examples/shop"], standalone_mode=False)
except SystemExit as exit_:
    assert exit_.code == 0, exit_.code
print(sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "pydantic_core", "jinja2", "lark")
             or m.startswith(("relc.targets", "relc.compiler.model.ir", "relc.compiler.model.lower"))))
"""


def test_check_imports_neither_pydantic_nor_the_ir_nor_any_target():
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
