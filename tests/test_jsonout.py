"""jsonout.dumps (orjson) writes what json.dumps(sort_keys=True, indent=2, ensure_ascii=False) writes, byte for
byte, for every value relc's targets can hand it, shared parts (Frozen, Shape) included; where orjson would
refuse, json.dumps writes or refuses as it always did. The one known difference, floats that need an exponent,
is pinned: the same number in another spelling, and no target writes one (goldens, docs/performance.md)."""
from __future__ import annotations

import copy
import enum
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relc.targets.shared import jsonout as jsonout
from relc.targets.shared.jsonout import dumps

AWKWARD = st.sampled_from(['', '"', "\\", "\n", "\r\t", "\x00\x1f\x7f", "\u2028\u2029", "é€😀", "${x}", "%{y}",
                           "</script>", " ", "a\"b\\c", "\ud800"])
TEXT = st.one_of(st.text(), AWKWARD, st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7f)))
# Floats as relc's targets write them: thresholds, factors, ratios and bounds, spelled without an exponent.
PLAIN_FLOATS = st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: "e" not in repr(f))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-2**80, max_value=2**80),
                    PLAIN_FLOATS, st.sampled_from([0.1, -0.0, 14.4, 0.999, 1e-4]), TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(TEXT, inner, max_size=5), st.tuples(inner, inner)), max_leaves=40)


def reference(value: object) -> str:
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)


def outcome(write, value: object) -> object:
    """The text, or the refusal as its type (json's messages are json's own either way)."""
    try:
        return write(value)
    except (TypeError, ValueError, RecursionError) as err:
        return type(err)


@settings(max_examples=1500, deadline=None)
@given(VALUES)
def test_matches_json_dumps(value):
    assert outcome(dumps, value) == outcome(reference, value)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.one_of(st.integers(), st.booleans(), st.none(), TEXT), VALUES, max_size=4))
def test_keys_json_converts_or_refuses(value):
    document = {"outer": [value]}
    assert outcome(dumps, document) == outcome(reference, document)


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_reads_back_as_itself(number: float):
    assert json.loads(dumps({"x": number}))["x"] == number


def test_small_floats_are_the_same_numbers_perhaps_spelled_otherwise():
    """orjson writes 1e-05 as 0.00001 (as 3.13 does; older ones spelled large exponents as 1e16 too)."""
    for number in (1e-05, 1e16, 1.5e300, 5e-324):
        assert json.loads(dumps(number)) == number


class Level(enum.IntEnum):
    LOW = 1


class Text(str):
    pass


@pytest.mark.parametrize("value", [Level.LOW, {"a": Text("b")}, {Text("k"): (1, True)}, (1, 2), [2**70, -2**64],
                                   {"a": {1: "x", "b": 2}}, "\ud800", {True: 1, None: 2}])
def test_unusual_values_match(value):
    assert outcome(dumps, value) == outcome(reference, value)


def test_refusals_are_jsons_own():
    cycle: list = []
    cycle.append(cycle)
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    for value in (cycle, {"a": {"b": cycle}}, deep, {"x": object()}, {1.5: 3}):
        assert outcome(dumps, value) == outcome(reference, value)


def test_not_a_number_is_never_written_as_json_cannot_read_it():
    assert json.loads(dumps([math.nan, math.inf])) in ([None, None], [math.nan, math.inf])


SHARED = st.dictionaries(st.text(max_size=8), VALUES, max_size=4)


@settings(max_examples=200, deadline=None)
@given(SHARED, SHARED, VALUES)
def test_shared_parts_are_written_as_plain_values(fixed: dict, holes: dict, value: object):
    shaped, frozen = jsonout.Shape(**fixed)(**holes), jsonout.freeze(value)
    for document in (shaped, [shaped, {"a": [shaped]}], frozen, {"x": [frozen, {"y": frozen}], "z": shaped}):
        assert outcome(dumps, document) == outcome(reference, document)


def test_shared_parts_cannot_change():
    frozen = jsonout.freeze({"a": [{"b": 1}]})
    shaped = jsonout.Shape(fixed=1)(hole=2)
    for change in (lambda: frozen.update(a=2), lambda: frozen["a"].append(3), lambda: frozen["a"][0].pop("b"),
                   lambda: shaped.update(hole=3), lambda: shaped.__setitem__("fixed", 2)):
        with pytest.raises(TypeError):
            change()
    shaped["hole"] = 3  # holes may change (panel ids are bumped after a hash collision)
    assert dumps(shaped) == reference({"fixed": 1, "hole": 3})
    assert copy.deepcopy(shaped) == {"fixed": 1, "hole": 3} and copy.deepcopy(frozen) is frozen
