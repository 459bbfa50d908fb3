"""Generated outputs are golden: the good corpus under tests/golden, the shop example under examples/_gen."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from relc.compiler.commands.cli import main

from conftest import ROOT, compare_tree

GOOD = ROOT / "tests" / "good"
CASES = sorted(p for p in GOOD.iterdir() if p.suffix == ".relc" or p.is_dir())


def build(src: Path, out: Path, *extra: str) -> None:
    result = CliRunner().invoke(main, ["build", str(src.relative_to(ROOT)), "-o", str(out), *extra])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_good_corpus_matches_golden(case: Path, tmp_path: Path, update_golden: bool):
    build(case, tmp_path)
    compare_tree(ROOT / "tests" / "golden" / case.stem, tmp_path, update_golden)


SHOP_GEN_OPTIONS = ("-O", "prometheus.tests=true", "-O", "prometheus.alertmanager=true",
                    "-O", "datadog.namespace=shop", "-O", "datadog.tag_map=job=service")


def test_shop_example_matches_committed_gen(tmp_path: Path, update_golden: bool):
    """examples/_gen is what `relc build examples/shop -o examples/_gen -O prometheus.tests=true
    -O prometheus.alertmanager=true` writes, byte for byte (see examples/README.md)."""
    build(ROOT / "examples" / "shop", tmp_path, *SHOP_GEN_OPTIONS)
    compare_tree(ROOT / "examples" / "_gen", tmp_path, update_golden)


def test_build_is_deterministic(tmp_path: Path):
    build(ROOT / "examples" / "shop", tmp_path / "a")
    build(ROOT / "examples" / "shop", tmp_path / "b")
    compare_tree(tmp_path / "a", tmp_path / "b", update=False)
