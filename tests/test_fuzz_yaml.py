"""Fuzzing the YAML front ends (Sloth, OpenSLO): any input gives diagnostics or valid output, never a traceback,
a hang, output that does not parse, or a file outside the output directory.

Seeds are the specs under tests/fuzz_seeds/ plus, when present, the peer corpora in ../shared/peers. Two kinds of
mutants: structural (a value replaced by a hostile one, a key dropped or renamed, a node nested deeply) and
textual (YAML syntax spliced into the text: anchors, aliases, tags, flow brackets, tabs, NULs).
"""
from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relc.compiler.output import build as builder
from relc.compiler import diagnostics as dg
from relc.compiler.resolve.importers import load_yaml_modules
from relc.compiler.pipeline import compile_paths
from relc.compiler.output.writer import write_targets
from relc.targets import Options

from conftest import ROOT

SEEDS = sorted((ROOT / "tests" / "fuzz_seeds").glob("*.y*ml"))
PEERS = ROOT.parent / "shared" / "peers"
PEER_SEEDS = sorted(p for p in PEERS.rglob("*.y*ml") if "_gen" not in p.parts and "_history" not in p.parts
                    and p.stat().st_size < 20_000)[:40] if PEERS.is_dir() else []
FUZZ = settings(max_examples=int(os.environ.get("RELC_FUZZ_EXAMPLES", "120")), deadline=timedelta(seconds=30),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])

HOSTILE_TEXT = [
    "", " ", "a\nb", "\"quoted\"", "'single'", "{{ .window }}", "{{ $labels.job }}", "$labels", "${params.x}",
    "<script>alert(1)</script>", "[link](javascript:alert(1))", "`code`", "| table |", "# heading",
    '"} or vector(1) #', "up{job=\"x\"} or on() vector(1)", "../../../etc/passwd", "/etc/passwd", "C:\\x",
    "\u202e\u0000nul", "ü日本", "x" * 5000, "99.9", "5m", "1h", "0d", "-1", "nan", "true", "null", "*", "&a",
]
HOSTILE_VALUES = HOSTILE_TEXT + [0, -1, 1, 99.9, 100, 100.5, 1e308, -1e308, float("inf"), float("nan"),
                                 2 ** 70, True, False, None, [], {}, [1, "a"], {"k": "v"}]
SPLICES = ["&a ", "*a", "*b", "<<: *a\n", "!!python/object/apply:os.system ['true']", "!!binary AAAA", "[", "]",
           "{", "}", ": ", "- ", "\t", "\x00", "%YAML 1.1\n", "---\n", "...\n", "? ", "|", ">", "'", '"', "#", "\n",
           "    ", "{{.window}}", "[" * 80, "{a: " * 40, "&x [*x, *x, *x]"]


def seed_texts() -> list[tuple[str, str]]:
    """The repository's seeds and the peer specs that compile: mutants of valid input reach the targets."""
    peers = [p for p in PEER_SEEDS if compile_paths([str(p)]).ok]
    return [(p.name, p.read_text(encoding="utf-8")) for p in [*SEEDS, *peers]]


SEED_TEXTS = seed_texts()


def test_seeds_compile():
    """The fuzzer starts from valid specs, so its mutants are near misses, not noise."""
    assert SEEDS, "no seeds in tests/fuzz_seeds"
    for seed in SEEDS:
        result = compile_paths([str(seed)])
        assert result.ok, [d.message for d in result.diagnostics]


def _paths(node, prefix=()):
    yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield from _paths(child, (*prefix, key))


def _get(data, path: tuple):
    for key in path:
        data = data[key]
    return data


def _mutate(data, path: tuple, op: str, value):
    """One structural change at path; returns the new document."""
    if not path:
        return value if op == "set" else data
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if op == "set":
        parent[key] = value
    elif op == "drop" and isinstance(parent, dict):
        del parent[key]
    elif op == "drop":
        parent.pop(key)
    elif op == "rename" and isinstance(parent, dict):
        parent[str(value)] = parent.pop(key)
    elif op == "nest":
        for _ in range(60):
            value = {"k": value} if isinstance(value, str) else [value]
        parent[key] = value
    elif op == "wrap":
        parent[key] = [parent[key], parent[key]]
    return data


@st.composite
def structural_mutant(draw) -> str:
    _name, text = draw(st.sampled_from(SEED_TEXTS))
    docs = list(yaml.safe_load_all(text))
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        index = draw(st.integers(0, len(docs) - 1))
        paths = list(_paths(docs[index]))
        texts = [p for p in paths if p and isinstance(_get(docs[index], p), str)]
        if texts and draw(st.booleans()):  # free text (descriptions, labels, queries) is where injection hides
            docs[index] = _mutate(docs[index], draw(st.sampled_from(texts)), "set",
                                  _get(docs[index], draw(st.sampled_from(texts))) + draw(st.sampled_from(HOSTILE_TEXT))
                                  if draw(st.booleans()) else draw(st.sampled_from(HOSTILE_TEXT)))
            continue
        op = draw(st.sampled_from(["set", "set", "set", "drop", "rename", "nest", "wrap"]))
        docs[index] = _mutate(docs[index], draw(st.sampled_from(paths)), op, draw(st.sampled_from(HOSTILE_VALUES)))
    return yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True)


@st.composite
def textual_mutant(draw) -> str:
    _name, text = draw(st.sampled_from(SEED_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(st.sampled_from(SPLICES)) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
    return text


def _assert_diagnostics_are_sane(diags: list, text: str) -> None:
    lines = text.count("\n") + 2
    for diag in diags:
        assert diag.code in dg.CODES
        if diag.span is not None:
            assert 1 <= diag.span.line <= lines, diag


def _assert_outputs_parse(outputs: dict[str, list]) -> None:
    """What relc writes loads in the consumer's parser: injection shows up as a parse failure here."""
    from promql_parser import parse as parse_promql

    for target, artifacts in outputs.items():
        for artifact in artifacts:
            if artifact.path.endswith(".json"):
                json.loads(artifact.content)
            elif artifact.path.endswith((".yml", ".yaml")):
                for doc in yaml.safe_load_all(artifact.content):
                    if target == "prometheus" and isinstance(doc, dict):
                        for group in doc.get("groups", []):
                            for rule in group["rules"]:
                                parse_promql(rule["expr"])


@FUZZ
@given(text=st.one_of(structural_mutant(), textual_mutant()))
def test_mutated_specs_never_crash_and_build_only_inside_the_output(text: str, tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    spec = base / "src" / "spec.yaml"
    spec.parent.mkdir()
    spec.write_text(text, encoding="utf-8", errors="surrogatepass")
    result = compile_paths([str(spec)])
    _assert_diagnostics_are_sane(result.diagnostics, text)
    if not result.ok:
        return
    build_and_check(result.project, base, text)


def build_and_check(project, base: Path, text: str) -> None:
    """Every target's output parses in its consumer's parser and lands only in base/out (beside base/src)."""
    outputs, diags = builder.generate(project, [], Options())
    _assert_diagnostics_are_sane(diags, text)
    if outputs is None:
        return
    _assert_outputs_parse(outputs)
    write_targets(base / "out", outputs)
    assert sorted(p.name for p in base.iterdir()) == ["out", "src"]
    for written in (base / "out").rglob("*"):
        assert written.resolve().is_relative_to((base / "out").resolve())


@FUZZ
@given(text=textual_mutant())
def test_importers_take_any_text_in_memory(text: str):
    """The importers alone, on text no file system would hand them (NULs, lone surrogates stay out)."""
    modules, diags = load_yaml_modules([("spec.yaml", text)])
    _assert_diagnostics_are_sane(diags, text)
    assert set(modules) <= {"spec.yaml"}


@pytest.mark.parametrize("depth", [200, 5000])
def test_deeply_nested_and_aliased_yaml_is_refused_quickly(depth: int, tmp_path: Path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi"))
    for text in ("version: prometheus/v1\nservice: s\nslos: " + "[" * depth + "]" * depth + "\n",
                 "version: prometheus/v1\nservice: s\n" + bomb + "slos: *i\n"):
        spec = tmp_path / "spec.yml"
        spec.write_text(text)
        result = compile_paths([str(spec)])
        assert not result.ok and result.diagnostics
