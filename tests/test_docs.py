"""docs/language.md cannot drift from the compiler: every ```relc example in it is run through `relc check`.

Each ```relc block sits right under a marker that says what it must do:

  <!-- check: ok -->                      passes (exit 0, warnings allowed)
  <!-- check: error RELC302,RELC304 as=typo.relc -->
                                          fails with exactly these codes; saved as typo.relc (default
                                          snippet.relc) so the paths in the quoted output match
  <!-- check: wrap threshold -->          a `# fragment`, checked inside the WRAPS template; must pass
  <!-- check: file project/main.relc -->  one file of a project, checked by a check-project line
  <!-- check-project: project/main.relc ok -->
  <!-- check-project: dup error RELC305 -->
                                          `relc check PATH` run over every `file` of the project named
                                          by PATH's first component

A ```text block right after an example or a check-project line (blank lines between are fine) is
its quoted output and must equal the real output byte for byte; an `error` example must quote it.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from relc.compiler.commands.cli import main

from conftest import ROOT

DOC = ROOT / "docs" / "language.md"
MARKER = re.compile(r"<!-- check: (.+) -->")
PROJECT = re.compile(r"<!-- check-project: (.+) -->")
WRAPS = {"threshold": "budget_policy wrap {\n  threshold {\n    remaining = 50%\n@@\n  }\n}\n"}


@dataclass(frozen=True)
class Example:
    """One checked thing in the doc: a ```relc block or a check-project line, named by its line."""

    line: int
    marker: str | None  # e.g. "ok", "file project/main.relc", "project dup error RELC305"; None if missing
    body: str = ""
    quoted: str | None = None  # the ```text block that follows, if any


def _text(lines: list[str]) -> str:
    """Lines back to file text, each ending in a newline as the compiler's output and files do."""
    return "".join(line + "\n" for line in lines)


def _quoted_after(lines: list[str], i: int) -> str | None:
    """The ```text block following line index i, with only blank lines in between."""
    j = i + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    if j < len(lines) and lines[j] == "```text":
        return _text(lines[j + 1:lines.index("```", j + 1)])
    return None


def _collect() -> list[Example]:
    """Every example, check-project line and stray marker in the doc, in order."""
    lines = DOC.read_text(encoding="utf-8").split("\n")
    found = []
    for i, line in enumerate(lines):
        if m := PROJECT.fullmatch(line):
            found.append(Example(i + 1, "project " + m.group(1), quoted=_quoted_after(lines, i)))
        elif line.startswith("```relc"):
            end = lines.index("```", i + 1)
            m = MARKER.fullmatch(lines[i - 1])
            found.append(Example(i + 1, m and m.group(1), _text(lines[i + 1:end]), _quoted_after(lines, end)))
        elif line.startswith("<!-- check") and not lines[i + 1].startswith("```relc"):
            found.append(Example(i + 1, "stray"))
    return found


EXAMPLES = _collect()
FILES = {e.marker.split()[1]: e.body for e in EXAMPLES if e.marker and e.marker.startswith("file ")}
PROJECTS = {e.marker.split()[1].split("/")[0] for e in EXAMPLES if e.marker and e.marker.startswith("project ")}


def _relc_check(cwd: Path, path: str, monkeypatch) -> tuple[int, str]:
    """Run `relc check` in-process from cwd, so diagnostics show paths as the doc does."""
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(main, ["check", path])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a crash is not "the input has errors"
    return result.exit_code, result.output  # `check` prints only to stderr; output holds it on click 8.1 and 8.2+


def _codes(output: str) -> list[str]:
    """The distinct error codes in rendered output: markers name codes, not counts or order."""
    return sorted(set(re.findall(r"error\[(RELC\d+)\]", output)))


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"line{e.line}" for e in EXAMPLES])
def test_doc_example(example: Example, tmp_path: Path, monkeypatch):
    """The example does what its marker says, so readers can trust what they copy from the doc."""
    where = f"docs/language.md:{example.line}"
    assert example.marker is not None, f"{where}: ```relc block without a <!-- check: ... --> marker above it"
    kind, *args = example.marker.split()
    assert kind != "stray", f"{where}: a check marker must sit on the line right above a ```relc block"
    assert kind in ("ok", "error", "wrap", "file", "project"), f"{where}: unknown marker {example.marker!r}"
    if kind == "file":
        assert args[0].split("/")[0] in PROJECTS, f"{where}: no check-project line checks {args[0]}"
        return
    if kind == "project":
        path, *expect = args
        for name, body in FILES.items():
            if name.split("/")[0] == path.split("/")[0]:
                (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / name).write_text(body, encoding="utf-8")
    else:
        body, expect = example.body, [kind, *(a for a in args if not a.startswith("as="))]
        if kind == "wrap":
            assert body.startswith("# fragment"), f"{where}: a wrapped example must say it is a fragment"
            body, expect = WRAPS[args[0]].replace("@@", body), ["ok"]
        path = next((a[3:] for a in args if a.startswith("as=")), "snippet.relc")
        (tmp_path / path).write_text(body, encoding="utf-8")
    code, output = _relc_check(tmp_path, path, monkeypatch)
    if expect == ["ok"]:
        assert code == 0 and not _codes(output), f"{where}: expected a clean check, got:\n{output}"
    else:
        want = sorted(set(expect[1].split(",")))
        assert (code, _codes(output)) == (1, want), f"{where}: expected errors {want}, got:\n{output}"
        assert example.quoted is not None, f"{where}: an error example must quote its output in a ```text block"
    if example.quoted is not None and example.quoted != output:
        diff = difflib.unified_diff(example.quoted.splitlines(keepends=True), output.splitlines(keepends=True),
                                    "quoted in the doc", "relc check")
        pytest.fail(f"{where}: the quoted output differs from the real output:\n{''.join(diff)}", pytrace=False)


def _commands(group, prefix: str = "relc"):
    """Every (full name, click command) the CLI offers, lazy commands and subgroups included."""
    import click

    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield f"{prefix} {name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")


def test_every_command_and_option_is_in_the_cli_docs():
    """docs/cli.md (and packs.md for `relc pack`) name every command, show it run, and name each long option."""
    import click

    from relc.compiler.commands.cli import main

    docs = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") + (ROOT / "docs" / "packs.md").read_text("utf-8")
    missing = []
    for name, command in _commands(main):
        if f"`{name}" not in docs:
            missing.append(f"{name}: no section or mention")
        if not isinstance(command, click.Group) and not re.search(rf"^\$? *{re.escape(name)}\b", docs, re.M):
            missing.append(f"{name}: no example command line")
        for param in command.params:
            longs = [o for o in getattr(param, "opts", []) if o.startswith("--")]
            if isinstance(param, click.Option) and longs and not any(o in docs for o in longs) and longs != ["--help"]:
                missing.append(f"{name}: option {longs[0]} undocumented")
    assert not missing, "\n".join(missing)
