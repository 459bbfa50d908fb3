"""Only `relc` (and its dist-info) may land in site-packages; the grammar ships as package data. The release
artefacts (`python -m build`: the sdist, and the wheel built from it) pass `twine check`, and that wheel installs
into a fresh venv where relc checks and builds the bundled examples.

The build and the venv are made once for the module (the venv install fetches relc's dependencies from the index)."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import relc.compiler
from conftest import ROOT, checkout_copy


@pytest.fixture(scope="module")
def direct_wheel(tmp_path_factory) -> Path:
    """The wheel pip builds straight from a copy of the checkout, with this environment's setuptools."""
    base = tmp_path_factory.mktemp("direct-wheel")
    source = checkout_copy(base / "src")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(base), str(source)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return next(base.glob("relc-*.whl"))


@dataclass(frozen=True)
class Release:
    sdist: Path
    wheel: Path


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Release:
    """`python -m build` as scripts/release.sh runs it: an isolated build of the sdist, then of the wheel from
    the unpacked sdist (so a file the sdist leaves out is missing from this wheel too)."""
    base = tmp_path_factory.mktemp("release")
    source = checkout_copy(base / "src")
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(base / "dist"), str(source)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    version = relc.compiler.__version__
    return Release(base / "dist" / f"relc-{version}.tar.gz", base / "dist" / f"relc-{version}-py3-none-any.whl")


@pytest.fixture(scope="module")
def venv(release: Release, tmp_path_factory) -> Path:
    """A fresh venv holding the release wheel and what pyproject.toml declares, nothing from this machine."""
    path = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    proc = subprocess.run([str(path / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           str(release.wheel)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return path


def test_wheel_installs_only_the_relc_namespace(direct_wheel: Path):
    wheel = direct_wheel
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


def test_a_fresh_install_with_only_the_declared_dependencies_builds_every_example(venv: Path, tmp_path: Path):
    """Imports that work here only because a test tool pulled a package in fail in the fresh venv."""
    for example in ("shop", "customer"):
        proc = subprocess.run([str(venv / "bin" / "relc"), "build", str(ROOT / "examples" / example),
                               "-o", str(tmp_path / example)], capture_output=True, text=True, cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "internal error" not in proc.stderr


def test_release_artefacts_are_named_for_the_version_and_pass_twine_check(release: Release):
    assert release.sdist.is_file() and release.wheel.is_file(), sorted(p.name for p in release.wheel.parent.iterdir())
    proc = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(release.sdist), str(release.wheel)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_wheel_built_from_the_sdist_holds_what_a_build_from_the_checkout_holds(release: Release,
                                                                                  direct_wheel: Path):
    """Everything a build from the checkout ships (modules, grammar, templates) is in the sdist too."""
    from_sdist = set(zipfile.ZipFile(release.wheel).namelist())
    from_checkout = set(zipfile.ZipFile(direct_wheel).namelist())
    assert from_sdist == from_checkout, (sorted(from_checkout - from_sdist), sorted(from_sdist - from_checkout))


def test_the_installed_wheel_checks_the_bundled_example_and_prints_its_version(venv: Path, tmp_path: Path):
    relc_command = str(venv / "bin" / "relc")
    proc = subprocess.run([relc_command, "check", str(ROOT / "examples" / "shop")], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = subprocess.run([str(venv / "bin" / "python"), "-I", "-c",
                                "import importlib.metadata; print(importlib.metadata.version('relc'))"],
                               capture_output=True, text=True, check=True, cwd=tmp_path).stdout.strip()
    assert installed == relc.compiler.__version__
    proc = subprocess.run([relc_command, "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, f"relc, version {installed}\n"), proc.stdout + proc.stderr


# Run by the venv's python in isolated mode (-I: not this checkout's relc.egg-info from the working directory):
# every top-level entry of site-packages, and which distribution's RECORD holds it.
_OWNERS = """
import importlib.metadata, json, sys, sysconfig
from pathlib import Path
site = Path(sysconfig.get_paths()["purelib"])
owners = {}
for dist in importlib.metadata.distributions(path=[str(site)]):
    for file in dist.files or ():
        top = file.parts[0]
        owners.setdefault(top, set()).add(dist.metadata["Name"])
entries = {p.name: sorted(owners.get(p.name, ())) for p in site.iterdir() if p.name != "__pycache__"}
relc_files = [str(f) for f in importlib.metadata.distribution("relc").files]
print(json.dumps({"entries": entries, "relc_files": relc_files}))
"""


def test_only_relc_lands_in_site_packages(venv: Path):
    """What the relc wheel installs is the relc package and its dist-info (and the `relc` script), and every
    other entry of site-packages belongs to a dependency (or to the venv's own pip and setuptools)."""
    found = json.loads(subprocess.run([str(venv / "bin" / "python"), "-I", "-c", _OWNERS], capture_output=True,
                                      text=True, check=True).stdout)
    dist_info = f"relc-{relc.compiler.__version__}.dist-info"
    assert {name for name, owners in found["entries"].items() if "relc" in owners} == {"relc", dist_info}
    assert [name for name, owners in found["entries"].items() if not owners] == []
    outside = [f for f in found["relc_files"] if f.split("/")[0] not in ("relc", dist_info)]
    assert [f.split("/")[-1] for f in outside] == ["relc"], outside  # the console script in bin/
