"""Policy packs are untrusted: malformed or hostile packs and references give located diagnostics (pointing into
the pack, with a note at the customer's `use`), never an internal error, and nothing outside the pack is read."""
from __future__ import annotations

import builtins
import io
import os
import random
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relc.compiler.commands.cli import main

from conftest import ROOT

EXAMPLE = ROOT / "examples" / "packs" / "acme-postgres"
SECRET = "LEAKED_SECRET_METRIC"


def _slo(body: str) -> str:
    return "service x { slo y { objective = 99% " + body + " } }\n"


def _edit(file: str, old: str, new: str):
    def apply(root: Path) -> None:
        path = root / file
        text = path.read_text()
        assert old in text, (file, old)
        path.write_text(text.replace(old, new, 1))
    return apply


def _write(file: str, text: str):
    return lambda root: (root / file).write_text(text)


def _link(file: str, target: str):
    return lambda root: os.symlink(target, root / file)


PACK_CASES = {
    "runbook-without-name": _write("extra.relc", "runbook {\n}\n"),
    "param-without-type": _edit("pack.relc", 'type = "string"\n    default = "acme-postgres"', 'default = "x"'),
    "param-empty-name": _edit("pack.relc", "param namespace {", 'param "" {'),
    "param-type-list": _edit("pack.relc", 'type = "string"', 'type = ["string"]'),
    "param-default-wrong-type": _edit("pack.relc", "default = 99.9%", 'default = "x"'),
    "param-default-a-param": _edit("pack.relc", 'default = "acme-postgres"', "default = params.cluster"),
    "raw-string-interpolation": _write("extra.relc", _slo('sli raw { error_ratio = r#"rate(${params.cluster}'
                                                          '[$window])"# }')),
    "plain-string-into-promql": _write("extra.relc", _slo('sli raw { error_ratio = "rate(${params.cluster}'
                                                          '[$window])" }')),
    "raw-string-in-bad-query": _write("extra.relc", _slo('sli events { bad = r#"sum(rate(x{j=\\"${params.cluster}'
                                                         '\\"}[$window]))"# total = t }')),
    "undeclared-param": _write("extra.relc", _slo("description = params.nope sli events { bad = e total = t }")),
    "undeclared-interpolation": _write("extra.relc", _slo('description = "${params.nope}" sli events { bad = e '
                                                          "total = t }")),
    "empty-interpolation": _write("extra.relc", _slo('description = "${params.} ${} $" sli events { bad = e '
                                                     "total = t }")),
    "param-as-objective": _write("extra.relc", _slo("window = params.cluster sli events { bad = e total = t }")),
    "param-as-query": _write("extra.relc", _slo("sli events { bad = params.cluster total = t }")),
    "duration-param-as-matcher": _write("extra.relc", _slo("sli events { bad = e{j=params.window} total = t }")),
    "dotted-param": _write("extra.relc", _slo("description = params.cluster.x sli events { bad = e total = t }")),
    "bare-params": _write("extra.relc", _slo("description = params sli events { bad = e total = t }")),
    "symlink-to-outside-file": _link("leak.relc", "../../outside/secret.relc"),
    "symlink-to-outside-dir": _link("sub", "../../outside"),
    "import-outside": _write("extra.relc", 'import "../../outside/secret.relc"\n'),
    "import-absolute": _write("extra.relc", 'import "/etc/passwd"\n'),
    "second-manifest": _write("extra.relc", 'pack other { version = "1.0.0" }\n'),
    "manifest-version-number": _edit("pack.relc", 'version = "1.3.0"', "version = 5"),
    "nested-use": _write("extra.relc", 'use "./x" { }\n'),
    "not-utf8": lambda root: (root / "bin.relc").write_bytes(b"\xff\xfe\x00"),
    "no-files": lambda root: [p.unlink() for p in root.glob("*.relc")],
    "unclosed-block": _write("extra.relc", "service x {\n  slo y {\n"),
}
REFERENCES = {"dotdot-etc": "../../../../../../../../etc", "absolute-etc": "/etc", "parent": "..", "self": ".",
              "empty": "", "blank": "   ", "root": "/", "backslash": "..\\\\outside", "long": "./" + "a" * 300,
              "unknown-name": "no-such-pack", "long-name": "a" * 300, "home": "~/packs"}
PARAMS = {"empty-key": '"" = 1, cluster = "m"', "wrong-type": "cluster = 5",
          "percent-as-text": 'cluster = "m", availability_objective = "99.9%"', "unknown": 'cluster = "m", nope = 1',
          "not-a-map": None}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.relc").write_text(_slo(f"sli events {{ bad = {SECRET} total = t }}"))
    (tmp_path / "project").mkdir()
    shutil.copytree(EXAMPLE, tmp_path / "project" / "pack")
    return tmp_path


def compile_customer(workspace: Path, reference: str = "./pack", params: str | None = 'cluster = "main"',
                     monkeypatch=None):
    project = workspace / "project"
    given = f"params = {{ {params} }}" if params is not None else 'params = "x"'
    quoted = reference.replace("\\", "\\\\").replace('"', '\\"')
    (project / "customer.relc").write_text(f'use "{quoted}" {{\n  {given}\n}}\n')
    read: list[str] = []
    if monkeypatch is not None:
        real_open = builtins.open

        def recording_open(file, *args, **kwargs):
            if isinstance(file, (str, os.PathLike)):
                read.append(os.path.realpath(file))
            return real_open(file, *args, **kwargs)
        monkeypatch.setattr(builtins, "open", recording_open)
        monkeypatch.setattr(io, "open", recording_open)
    result = CliRunner().invoke(main, ["build", str(project / "customer.relc"), "-o", str(workspace / "out")])
    if monkeypatch is not None:
        monkeypatch.undo()
    return result, read


def assert_clean(result, workspace: Path, read: list[str]) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "internal error" not in result.output and "Traceback" not in result.output, result.output
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        assert "error[RELC" in result.output and ":" in result.output.split("error[")[0], result.output
    assert SECRET not in result.output
    outside = str((workspace / "outside").resolve())
    assert not [p for p in read if p.startswith(outside)], "read outside the pack"
    for path in (workspace / "out").rglob("*") if (workspace / "out").exists() else ():
        assert not path.is_file() or SECRET not in path.read_text(errors="replace")


@pytest.mark.parametrize("case", sorted(PACK_CASES))
def test_a_malformed_or_hostile_pack_is_a_located_error(workspace: Path, case: str, monkeypatch):
    PACK_CASES[case](workspace / "project" / "pack")
    result, read = compile_customer(workspace, monkeypatch=monkeypatch)
    assert_clean(result, workspace, read)
    if case not in ("symlink-to-outside-dir", "empty-interpolation"):  # ignored, and literal text
        assert result.exit_code == 1, result.output
    if result.exit_code == 1 and "/pack/" in result.output.split("\n")[0]:
        assert "note: pack used here" in result.output, result.output


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_a_hostile_pack_reference_is_refused_without_reading_it(workspace: Path, name: str, monkeypatch):
    result, read = compile_customer(workspace, REFERENCES[name], monkeypatch=monkeypatch)
    assert_clean(result, workspace, read)
    assert result.exit_code == 1 and "customer.relc:1:5: error[RELC205]" in result.output, result.output
    assert not [p for p in read if p.startswith("/etc/")]


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_bad_parameter_values_are_located_at_the_customer(workspace: Path, name: str):
    result, _ = compile_customer(workspace, params=PARAMS[name])
    assert_clean(result, workspace, [])
    assert result.exit_code == 1 and "customer.relc:2:" in result.output, result.output


TOKENS = ["{", "}", "=", '"', "params.cluster", "params.", "${params.window}", "..", "../", "r#\"", "\"#", "[", "]",
          "99.9%", "1e999", "-", "param", "pack", "use", "import", "\n", "type", "default", ",", "sli", "$window"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False), st.integers(min_value=1, max_value=6))
def test_mutated_packs_never_crash(tmp_path_factory, rng: random.Random, edits: int):
    workspace = tmp_path_factory.mktemp("w")
    (workspace / "outside").mkdir()
    (workspace / "outside" / "secret.relc").write_text(_slo(f"sli events {{ bad = {SECRET} total = t }}"))
    (workspace / "project").mkdir()
    pack = workspace / "project" / "pack"
    shutil.copytree(EXAMPLE, pack)
    files = sorted(pack.glob("*.relc"))
    for _ in range(edits):
        path = rng.choice(files)
        words = path.read_text().split(" ")
        at = rng.randrange(len(words))
        action = rng.choice(["delete", "duplicate", "insert", "swap"])
        if action == "delete":
            del words[at]
        elif action == "duplicate":
            words.insert(at, words[at])
        elif action == "insert":
            words.insert(at, rng.choice(TOKENS))
        else:
            other = rng.randrange(len(words))
            words[at], words[other] = words[other], words[at]
        path.write_text(" ".join(words))
    result, _ = compile_customer(workspace)
    assert_clean(result, workspace, [])
