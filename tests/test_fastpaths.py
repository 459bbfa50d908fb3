"""relc's own parser and YAML writer stay equal to the libraries they stand in for (lark, PyYAML), on every
.relc input in the repository, the docs' examples, a generated project, mutants of all of these, every YAML
document the targets write and random awkward documents: benchmarks/check_fastpaths.py, bounded for CI.
docs/performance.md gives the figures that earn each copy its place."""
from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import check_fastpaths  # noqa: E402


def test_fast_parser_and_yaml_writer_agree_with_lark_and_pyyaml(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["check_fastpaths.py", "--mutants", "1500", "--seed", "20261205"])
    assert check_fastpaths.main() == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "parsed alike" in out and "written alike" in out
