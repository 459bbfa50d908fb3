"""Shared test helpers; `pytest --update-golden` rewrites expected files instead of comparing."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files (tests/golden, tests/bad/*.expected, examples/_gen) from current output")


@pytest.fixture
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    """Diagnostics print paths relative to the working directory; pin it so expected text is stable."""
    monkeypatch.chdir(ROOT)


def compare_or_update(path: Path, actual: str, update: bool) -> None:
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path}; run pytest --update-golden and review the diff"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path} differs; run pytest --update-golden and review the diff"


def compare_tree(golden: Path, built: Path, update: bool) -> None:
    """Byte-for-byte comparison of two directory trees (or replace the golden one)."""
    if update:
        if golden.exists():
            shutil.rmtree(golden)
        shutil.copytree(built, golden)
        return
    def files(base: Path) -> dict[str, bytes]:
        return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}
    want, got = files(golden), files(built)
    assert sorted(got) == sorted(want), "generated file set differs; run pytest --update-golden"
    for name in want:
        assert got[name] == want[name], f"{golden / name} differs; run pytest --update-golden and review the diff"


def checkout_copy(target: Path) -> Path:
    """This checkout's files as git sees them (tracked and new, not ignored) in a directory of their own: what a
    commit would hold, without a stale `build/` or other leftovers of earlier runs."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def require_tool(name: str) -> str:
    """In CI a missing ecosystem tool is a failure, locally a skip."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required in CI (see .ci/run)")
        pytest.skip(f"{name} not installed")
    return path


def promtool_unit(rule_file: Path, series: list[dict], checks: list[dict], tmp_path: Path) -> None:
    """Run promql_expr_test checks over synthetic 1m series with `promtool test rules`; fail with its output."""
    test = {"rule_files": [str(rule_file)], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": checks}]}
    path = tmp_path / "behaviour.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    proc = subprocess.run([require_tool("promtool"), "test", "rules", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def firing(alertname: str, tier: str, minute: int, expected: bool) -> dict:
    """A promql_expr_test that one alert tier is (or is not) firing at a minute."""
    expr = f'count(ALERTS{{alertname="{alertname}",alert_tier="{tier}",alertstate="firing"}})'
    return {"expr": expr, "eval_time": f"{minute}m",
            "exp_samples": [{"labels": "{}", "value": 1}] if expected else []}


def build_source(tmp_path: Path, text: str, *targets: str) -> Path:
    """`relc build` of one source file (src/api.relc) into tmp_path/out, as a user runs it; the output directory."""
    import subprocess

    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "api.relc").write_text(text)
    args = [a for t in targets for a in ("-t", t)]
    proc = subprocess.run(["relc", "build", str(tmp_path / "src"), "-o", str(tmp_path / "out"), *args],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "out"
