"""Every bad input gets exactly the rendered diagnostics in its .expected file, and exit status 1."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from relc.compiler.commands.cli import main
from relc.compiler.pipeline import compile_paths
from relc.compiler.render.text import render_text

from conftest import ROOT, compare_or_update

BAD = ROOT / "tests" / "bad"
CASES = sorted(p for p in BAD.iterdir() if p.suffix == ".relc" or p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_bad_input_has_expected_diagnostics(case: Path, update_golden: bool):
    rel = str(case.relative_to(ROOT))
    result = compile_paths([rel])
    assert not result.ok
    assert result.diagnostics, "a bad input must produce diagnostics"
    text = render_text(result.diagnostics, result.texts)
    compare_or_update(case.with_suffix(".expected") if case.is_file() else BAD / f"{case.name}.expected",
                      text, update_golden)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_bad_input_exits_1_without_traceback(case: Path):
    result = CliRunner().invoke(main, ["check", str(case.relative_to(ROOT))])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "error[RELC" in result.output


def test_every_error_code_in_registry_is_exercised_or_documented():
    """Codes the corpus triggers are registered; the docs list every registered code."""
    from relc.compiler.diagnostics import CODES

    seen = set()
    for expected in BAD.glob("*.expected"):
        seen.update(word[6:13] for word in expected.read_text().split() if word.startswith("error[RELC"))
    assert seen <= set(CODES)
    docs = (ROOT / "docs" / "language.md").read_text()
    missing = [code for code in CODES if code not in docs]
    assert not missing, f"codes not documented in docs/language.md: {missing}"
