"""Only `relc` (and its dist-info) may land in site-packages; the grammar ships as package data."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT, checkout_copy


def test_wheel_installs_only_the_relc_namespace(tmp_path: Path):
    source = checkout_copy(tmp_path / "src")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(source)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wheel = next(tmp_path.glob("relc-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {"relc", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    assert "relc/grammar/relc.lark" in names
    assert "relc/targets/runbook/templates/slo.md.j2" in names, "runbook templates ship as package data"
    for package in ("compiler", "grammar", "targets", "compiler/syntax", "compiler/resolve", "compiler/resolve/importers",
                    "compiler/check", "compiler/model", "compiler/render", "compiler/output", "compiler/commands",
                    "targets/prometheus", "targets/grafana", "targets/datadog", "targets/runbook", "targets/openslo",
                    "targets/shared"):
        assert f"relc/{package}/__init__.py" in names, f"relc/{package} is missing from the wheel"
    assert not any(n.startswith("relc/__init__") for n in names), "relc stays a namespace for its subpackages"
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "relc = relc.compiler.entry:run" in entry_points


def test_grammar_loads_from_package_data():
    from relc.compiler.syntax.parser import grammar_parser

    assert grammar_parser().options.parser == "lalr"


def test_every_third_party_import_is_declared_and_every_dependency_used():
    """deptry reads pyproject.toml and every import under compiler/, grammar/ and targets/."""
    proc = subprocess.run([sys.executable, "-m", "deptry", "."], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_fresh_install_with_only_the_declared_dependencies_builds_every_example(tmp_path: Path):
    """A venv holding relc and what pyproject.toml declares, nothing from this machine: imports that work
    here only because a test tool pulled a package in fail here."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    proc = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           str(checkout_copy(tmp_path / "src"))], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for example in ("shop", "customer"):
        proc = subprocess.run([str(venv / "bin" / "relc"), "build", str(ROOT / "examples" / example),
                               "-o", str(tmp_path / example)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "internal error" not in proc.stderr
