"""What the source text may hold: control characters, line endings, units on latency thresholds, and every
spelling of a histogram bucket bound the rules must match."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relc.compiler.pipeline import compile_paths
from relc.targets.shared.promql_sli import bound_pattern

SLO = 'slo x {{ objective = 99%  sli latency {{ histogram = h_seconds  threshold = {threshold} }} }}'


def check(tmp_path: Path, text: str | bytes, name: str = "a.relc"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return compile_paths([str(path)])


CONTROLS = [c for c in map(chr, [*range(0x20), 0x7F, *range(0x80, 0xA0)]) if c not in "\t\n\r"]


@pytest.mark.parametrize("char", CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("form", ["literal", "escape", "raw"])
def test_a_control_character_in_a_string_is_located_and_refused(tmp_path: Path, char: str, form: str):
    inside = {"literal": f'"ab{char}c"', "escape": f'"ab\\u{{{ord(char):x}}}c"', "raw": f'r#"a\nb{char}c"#'}[form]
    text = f"service a {{\n  owner = {inside}\n  {SLO.format(threshold='1s')}\n}}\n"
    result = check(tmp_path, text)
    assert not result.ok
    (diag,) = result.diagnostics
    assert diag.code == "RELC105" and f"U+{ord(char):04X}" in diag.message
    where = (3, 2) if form == "raw" else (2, 14)
    assert (diag.span.line, diag.span.col) == where


@pytest.mark.parametrize("escape", ["\\0", "\\r"])
def test_escapes_for_control_characters_are_refused_too(tmp_path: Path, escape: str):
    result = check(tmp_path, f'service a {{\n  owner = "x{escape}y"\n  {SLO.format(threshold="1s")}\n}}\n')
    assert [d.code for d in result.diagnostics] == ["RELC105"]


def test_tab_and_newline_are_fine(tmp_path: Path):
    result = check(tmp_path, f'service a {{\n  description = "a\\tb\\nc\tz"\n  {SLO.format(threshold="1s")}\n}}\n')
    assert result.ok, result.diagnostics


@pytest.mark.parametrize("newline", ["\r\n", "\r", "mixed"])
def test_every_line_ending_gives_the_same_slos_and_line_numbers(tmp_path: Path, newline: str):
    lines = ["service a {", '  description = r#"one', 'two"#', f"  {SLO.format(threshold='1s')}",
             "  slo y { objective = 150%  sli events { bad = e_total  total = t_total } }", "}", ""]
    unix = check(tmp_path, "\n".join(lines), "unix.relc")
    if newline == "mixed":
        text = "".join(line + ("\r\n", "\r", "\n")[i % 3] for i, line in enumerate(lines[:-1]))
    else:
        text = newline.join(lines)
    other = check(tmp_path, text, "other.relc")
    assert [(d.code, d.span.line, d.span.col) for d in other.diagnostics] == \
           [(d.code, d.span.line, d.span.col) for d in unix.diagnostics] == [("RELC301", 5, 23)]


def test_a_threshold_without_a_unit_is_refused_with_both_readings(tmp_path: Path):
    result = check(tmp_path, f"service a {{ {SLO.format(threshold='500')} }}\n")
    (diag,) = result.diagnostics
    assert diag.code == "RELC312" and "`500ms` or `500s`" in diag.message


# Spellings of one bound that exporters and Prometheus versions write (Go's %g, fixed decimals, Prometheus 3).
def spellings(value: Decimal) -> set[str]:
    number = float(value)
    shortest = Decimal(repr(number)).normalize()
    places = max(len(shortest.as_tuple().digits) - 1, 0)
    plain = format(shortest, "f")
    return {repr(number), plain, plain + ".0" if "." not in plain else plain + "00", _go(number),
            f"{number:.{places}e}", f"{number:.{places + 2}E}", f"{number:.{places}e}".replace("e+0", "e")}


def _go(number: float) -> str:
    """Go's strconv.FormatFloat(v, 'g', -1, 64): shortest digits, exponent form past 21 digits or below 1e-4."""
    digits = repr(number)
    mantissa, _, exp = f"{number:.17e}".partition("e")
    shortest = Decimal(digits).normalize()
    power = shortest.adjusted()
    if power < -4 or power >= 21:
        text = format(shortest.scaleb(-power), "f").rstrip("0").rstrip(".")
        return f"{text}e{'+' if power >= 0 else '-'}{abs(power):02d}"
    return format(shortest, "f")


BOUNDS = st.one_of(
    st.sampled_from(["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "0.3",
                     "1000000", "0.0001", "120", "1e-05"]),
    st.decimals(min_value=Decimal("1e-6"), max_value=Decimal("1e7"), places=None, allow_nan=False,
                allow_infinity=False).filter(lambda d: d > 0 and len(d.normalize().as_tuple().digits) <= 12),
)


@settings(max_examples=300, deadline=None)
@given(BOUNDS)
def test_the_bucket_pattern_matches_every_spelling_of_the_bound_and_no_other_number(bound):
    value = Decimal(bound)
    pattern = re.compile(f"(?:{bound_pattern(value)})\\Z")  # Prometheus anchors label regexes at both ends
    for text in spellings(value):
        assert pattern.match(text), (bound, text, bound_pattern(value))
    for other in (value * 10, value / 10, value + Decimal("0.001"), value * 2):
        for text in spellings(other):
            if Decimal(text) != value:
                assert not pattern.match(text), (bound, text)


def test_le_is_read_as_a_number_and_matched_in_every_spelling(tmp_path: Path):
    result = check(tmp_path, 'service a { slo x { objective = 99%  sli latency { histogram = h_seconds  le = "0.250" '
                             "} } }\n")
    assert result.ok, result.diagnostics
    (slo,) = result.project.slos()
    from relc.targets.shared.promql_sli import le_matcher

    matcher = le_matcher(slo.sli)
    assert matcher.op == "=~" and all(re.fullmatch(matcher.value, t) for t in ("0.25", "0.250", "2.5e-01"))
