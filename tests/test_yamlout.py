"""targets/shared/yamlout.py writes what PyYAML would, byte for byte, only faster; these check its shortcuts."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from relc.targets.shared import yamlout as yamlout

AWKWARD = st.text(alphabet=st.sampled_from(list("aZ_/($ :#-'\"!{}[],&*?|>%@`\t\n.0129é") + ["\u2028", "\x85"]),
                  min_size=1, max_size=30)


@given(AWKWARD)
@settings(max_examples=3000)
def test_plain_check_is_the_plain_pattern(text: str):
    """`_plain` is the fast form of the `_PLAIN` pattern, which spells out the rule it implements."""
    assert yamlout._plain(text) == bool(yamlout._PLAIN.fullmatch(text))


@given(st.recursive(st.one_of(AWKWARD, st.integers(-10**6, 10**6), st.booleans(), st.none(), st.floats()),
                    lambda inner: st.one_of(st.lists(inner, max_size=4),
                                            st.dictionaries(AWKWARD, inner, max_size=4)), max_leaves=20))
@settings(max_examples=500)
def test_documents_are_written_as_pyyaml_writes_them(document):
    """Against PyYAML with yamlout's own settings (block scalars for multi-line text), without any shortcut."""
    assert yamlout.dump(document) == yamlout._pyyaml(document)


@given(st.floats() | st.sampled_from([1e16, 1e17, -1e-5, 0.1 + 0.2, 5e-324, 1.7976931348623157e308, -0.0]))
@settings(max_examples=2000)
def test_floats_are_written_as_pyyaml_writes_them(value: float):
    """Floats skip PyYAML (burn rates and objectives fill rule files); infinities and NaN still go through it."""
    assert yamlout.dump({"k": value, "l": [value]}) == yamlout._pyyaml({"k": value, "l": [value]})


ONE_LINE = st.text(alphabet=st.sampled_from(list(" 0123456789-+.:_eExXoObB'\"#aZ/(${}[],&*?|>%@`!~")), min_size=1, max_size=24)
SPECIAL = st.sampled_from(["1", "1.5", "1e3", "1_000", "0x1F", "0o17", "190:20:30", "2001-12-14", "2001-12-14 21:59:43.10 -5",
                           "1 - x", "99.9%", "30d", ".5", "1:", "1 #x", "1 ", " 1", "0", "-1", "+1", "~", "null", "yes",
                           "it's", "a: b", "<<", "=", ".inf", "1 - rate{a=\"b\"}[5m]"])


@given(ONE_LINE | SPECIAL)
@settings(max_examples=4000)
def test_one_line_text_is_written_as_pyyaml_writes_it(text: str):
    """Printable one-line text skips PyYAML: plain (also from a digit, when PyYAML's resolver reads it as
    text) or single-quoted; budget messages and `1 - ratio` expressions fill rule files."""
    assert yamlout.dump({"k": text, "l": [text]}) == yamlout._pyyaml({"k": text, "l": [text]})


def test_text_longer_than_the_width_is_left_to_pyyaml():
    """PyYAML breaks plain and quoted text at a space past its width (a million columns)."""
    for text in ["ab " * 400_000 + "x", "a: b " * 250_000 + "x", "1 - x " * 200_000 + "y"]:
        assert yamlout.dump({"k": text}) == yamlout._pyyaml({"k": text})
