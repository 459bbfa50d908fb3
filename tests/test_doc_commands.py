"""Every shell block in README.md and docs/ runs as written, in order, in a fresh copy of the repository's
examples: a reader who pastes one sees what the page says, not an error.

The blocks share one directory, a reader's checkout plus what the pages assume a project has: `relc.yaml` as
docs/cli.md shows it (sources `slo/`, output `gen/`), `slo/` holding the shop example, a Sloth spec at
`slos/myservice.yml`, OpenSLO files under `openslo/`, two of Pyrra's examples under `pyrra/` and the example
pack under `packs/`.

A block that cannot run in a test (it installs system packages, calls a vendor's API, or runs this very test
suite) sits right under `<!-- sh: not run: REASON -->`, and the reason is required. A block that shows a
failing command on purpose says so with `<!-- sh: fails -->`: then its last command must exit non-zero.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, require_tool

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"<!-- sh: (not run: .+|fails) -->")


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    marker: str | None
    script: str


def _blocks() -> list[Block]:
    found = []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").split("\n")
        for i, line in enumerate(lines):
            if line.strip() == "```sh":
                end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), len(lines))
                above = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
                marker = MARKER.fullmatch(above.strip())
                indent = len(line) - len(line.lstrip())
                found.append(Block(page.relative_to(ROOT).as_posix(), i + 1, marker and marker.group(1),
                                   "\n".join(text[indent:] for text in lines[i + 1:end]) + "\n"))
    return found


BLOCKS = _blocks()


CONFIG = re.compile(r"```yaml\n(# yaml-language-server.*?\nsources: \[slo\].*?)```", re.S)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """A reader's checkout and project, in a directory of their own (the commands write there)."""
    base = tmp_path_factory.mktemp("docs-sh")
    for name in ("examples", "scripts", "docs", "tests", "benchmarks"):
        shutil.copytree(ROOT / name, base / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "examples" / "shop", base / "slo")
    shutil.copytree(ROOT / "examples" / "packs", base / "packs")
    (base / "slos").mkdir()
    shutil.copy(ROOT / "tests" / "fuzz_seeds" / "sloth.yml", base / "slos" / "myservice.yml")
    (base / "openslo").mkdir()
    shutil.copy(ROOT / "tests" / "fuzz_seeds" / "openslo.yaml", base / "openslo" / "search.yaml")
    (base / "pyrra").mkdir()
    for name in ("prometheus-http.yaml", "caddy-response-latency.yaml"):
        shutil.copy(ROOT / "tests" / "pyrra_compat" / "examples" / name, base / "pyrra" / name)
    (base / "relc.yaml").write_text(CONFIG.search((ROOT / "docs" / "cli.md").read_text()).group(1))
    return base


LIVE_PAGES = {"docs/live.md"}  # their blocks talk to a server: RELC_PROMETHEUS_URL points at one


@pytest.fixture(scope="module")
def shop_prometheus(tmp_path_factory):
    """A real Prometheus holding made-up shop traffic and the shop's rules (tests/shop_install.py)."""
    require_tool("prometheus")
    from shop_install import shop_server

    server = shop_server(tmp_path_factory.mktemp("shop-prometheus"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.mark.parametrize("block", BLOCKS, ids=[f"{b.page}:{b.line}" for b in BLOCKS])
def test_shell_block_runs_as_written(block: Block, sandbox: Path, request):
    if block.marker and block.marker.startswith("not run"):
        assert block.marker.split(":", 1)[1].strip(), "say why the block is not run"
        pytest.skip(f"{block.page}:{block.line}: {block.marker}")
    require_tool("promtool")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("RELC_")}
    if block.page in LIVE_PAGES:
        env["RELC_PROMETHEUS_URL"] = request.getfixturevalue("shop_prometheus")
    fails = block.marker == "fails"
    script = ("set -e\n" if not fails else "") + block.script
    done = subprocess.run(["bash", "-c", script], cwd=sandbox, capture_output=True, text=True, env=env,
                          timeout=300, stdin=subprocess.DEVNULL)
    output = done.stdout + done.stderr
    assert "Traceback (most recent call last)" not in output and "relc: internal error" not in output, output
    if fails:
        assert done.returncode != 0, f"{block.page}:{block.line} is marked as failing but passed:\n{output}"
    else:
        assert done.returncode == 0, f"{block.page}:{block.line} failed (exit {done.returncode}):\n{output}"
