"""Fuzzing .relc projects end to end: a mutated file of the shop example gives diagnostics or a build whose
files parse in their consumers' parsers and stay inside the output directory; never a traceback or a hang."""
from __future__ import annotations

import re
import shutil

from hypothesis import given
from hypothesis import strategies as st

from relc.compiler.pipeline import compile_paths

from conftest import ROOT
from test_fuzz_yaml import FUZZ, HOSTILE_TEXT, _assert_diagnostics_are_sane, build_and_check

SHOP = ROOT / "examples" / "shop"
FILES = {p.name: p.read_text(encoding="utf-8") for p in sorted(SHOP.glob("*.relc"))}
TOKENS = ["{", "}", "[", "]", "=", ",", '"', "#", 'r#"', '"#', "%", "99.9", "5m", "\n", "\\", "=~", "!~", "import",
          "slo x {", "service y {", "sli events {", "alert_policy", "${params.x}", "$window", "{{", "}}", "\x00", "\t"]
STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


@st.composite
def mutated_project(draw) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(FILES)))
    text = FILES[name]
    strings = list(STRING.finditer(text))
    for _ in range(draw(st.integers(1, 3))):
        if strings and draw(st.booleans()):  # hostile text inside a string literal: must be escaped everywhere
            match = draw(st.sampled_from(strings))
            inner = draw(st.sampled_from(HOSTILE_TEXT)).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            text = text[:match.start()] + f'"{inner}"' + text[match.end():]
            strings = list(STRING.finditer(text))
            continue
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 30)):]
        strings = list(STRING.finditer(text))
    return name, text


@FUZZ
@given(change=mutated_project())
def test_mutated_projects_never_crash_and_build_only_inside_the_output(change, tmp_path_factory):
    name, text = change
    base = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(SHOP, base / "src")
    (base / "src" / name).write_text(text, encoding="utf-8")
    result = compile_paths([str(base / "src")])
    _assert_diagnostics_are_sane(result.diagnostics, max(FILES.values(), key=len) + text)
    if not result.ok:
        return
    build_and_check(result.project, base, max(FILES.values(), key=len) + text)
