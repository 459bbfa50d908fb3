"""The pre-commit hooks as a customer runs them: real `pre-commit try-repo` against this repository.

try-repo builds the hook environment by pip-installing the repository (network to PyPI), so the
first run takes a while; every run here shares one PRE_COMMIT_HOME and one commit, so it happens once.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from relc.compiler.commands.fmt import format_source

from conftest import ROOT, checkout_copy


def _pre_commit() -> list[str] | None:
    if importlib.util.find_spec("pre_commit") is not None:
        return [sys.executable, "-m", "pre_commit"]
    found = shutil.which("pre-commit")
    return [found] if found else None


PRE_COMMIT = _pre_commit()
needs_pre_commit = pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed (pip install pre-commit)")
GIT = ["git", "-c", "user.name=relc tests", "-c", "user.email=tests@relc.invalid", "-c", "commit.gpgsign=false",
       "-c", "init.defaultBranch=main", "-c", "core.hooksPath=/dev/null"]

POLICIES = "budget_policy standard {\n  threshold {\n    remaining = 0%\n    actions = [\"Freeze launches\"]\n  }\n}\n"
UGLY = "service web {owner=\"team\"   # who\nlabels={tier=\"1\"}}\n"
SERVICE = ("service api {\n  slo availability {\n    objective = 99.9%\n    budget_policy = standard\n"
           "    sli events {\n      bad = http_errors_total\n      total = http_requests_total\n    }\n  }\n}\n")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory) -> Path:
    """This working tree (tracked and new files, as they will be committed) as a one-commit repository."""
    src = checkout_copy(tmp_path_factory.mktemp("relc-src"))
    git(src, "init", "-q")
    git(src, "add", "-A")
    git(src, "commit", "-q", "-m", "relc under test")
    return src


@pytest.fixture(scope="module")
def runs(hooks_repo: Path, tmp_path_factory) -> dict[str, subprocess.CompletedProcess | Path]:
    """Two commits' worth of hook runs in a sample spec repository (each try-repo installs relc afresh)."""
    repo = tmp_path_factory.mktemp("specs")
    git(repo, "init", "-q")
    (repo / "slo").mkdir()
    (repo / "slo" / "policies.relc").write_text(POLICIES)
    (repo / "slo" / "service.relc").write_text(SERVICE)
    (repo / "slo" / "web.relc").write_text(UGLY)
    (repo / "relc.yaml").write_text("sources: [slo]\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "specs")
    first = try_repo(repo, hooks_repo, "--all-files")
    # Next commit: only policies.relc is staged, with a rename that leaves service.relc's reference dangling.
    git(repo, "add", "slo/web.relc")
    git(repo, "commit", "-q", "-m", "formatted")
    (repo / "slo" / "policies.relc").write_text(POLICIES.replace("standard", "strict"))
    git(repo, "add", "slo/policies.relc")
    second = try_repo(repo, hooks_repo)
    return {"repo": repo, "first": first, "second": second}


def try_repo(sample: Path, hooks_repo: Path, *extra: str) -> subprocess.CompletedProcess:
    """All hooks of the repository under test, as `pre-commit try-repo` runs them."""
    env = {**os.environ, "PRE_COMMIT_COLOR": "never"}
    return subprocess.run([*PRE_COMMIT, "try-repo", str(hooks_repo), *extra], cwd=sample, env=env,
                          capture_output=True, text=True, timeout=600)


def hook_result(run: subprocess.CompletedProcess, name: str) -> str:
    found = re.search(rf"^{re.escape(name)}\.+(Passed|Failed)$", run.stdout, re.M)
    assert found, run.stdout + run.stderr
    return found.group(1)


@needs_pre_commit
def test_good_project_passes_check_and_fmt_rewrites_unformatted_file(runs):
    first = runs["first"]
    assert first.returncode == 1, first.stdout + first.stderr
    assert hook_result(first, "relc check") == "Passed"
    assert hook_result(first, "relc fmt") == "Failed"
    assert "files were modified by this hook" in first.stdout and "relc: reformatted slo/web.relc" in first.stdout
    assert (runs["repo"] / "slo" / "web.relc").read_text() == format_source(UGLY)[0]


@needs_pre_commit
def test_check_reports_what_a_staged_file_breaks_in_another_file(runs):
    """Only policies.relc is staged, but the reference it breaks is in service.relc: the project is checked."""
    second = runs["second"]
    assert second.returncode == 1, second.stdout + second.stderr
    assert hook_result(second, "relc check") == "Failed"
    assert "slo/service.relc:4:21: error[RELC306]: unknown budget policy `standard`" in second.stdout
    assert hook_result(second, "relc fmt") == "Passed"
    assert (runs["repo"] / "slo" / "service.relc").read_text() == SERVICE


def test_hook_manifest():
    """relc-check sees the whole project (no filenames); relc-fmt gets the staged files; both install relc."""
    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"relc-check", "relc-fmt"}
    check, fmt = hooks["relc-check"], hooks["relc-fmt"]
    assert (check["entry"], check["pass_filenames"], check.get("args", [])) == ("relc check", False, [])
    assert re.search(check["files"], "slo/checkout.relc") and re.search(check["files"], "relc.yaml")
    assert not re.search(check["files"], "docs/relc.yaml.md")
    assert (fmt["entry"], fmt["pass_filenames"]) == ("relc fmt", True)
    assert re.search(fmt["files"], "a/b.relc") and not re.search(fmt["files"], "relc.yaml")
    assert {hook["language"] for hook in hooks.values()} == {"python"}


def test_relc_init_config_names_existing_hooks():
    from relc.compiler.commands.init import files_for

    config = yaml.safe_load(files_for("svc")[".pre-commit-config.yaml"])
    manifest = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert {hook["id"] for repo in config["repos"] for hook in repo["hooks"]} <= manifest
