"""jsonout.dumps is json.dumps(sort_keys=True, indent=2, ensure_ascii=False), byte for byte and error for error,
including for the parts it writes once and reuses (Frozen, Shape, Encoded)."""
from __future__ import annotations

import copy
import enum
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relc.targets import jsonout
from relc.targets.jsonout import Encoded, dumps

AWKWARD = st.sampled_from(['', '"', "\\", "\n", "\r\t", "\x00\x1f\x7f", "\u2028\u2029", "\ud800", "é€😀",
                           "${x}", "%{y}", "</script>", " ", "a\"b\\c"])
TEXT = st.one_of(st.text(), AWKWARD, st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7f)))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-2**80, max_value=2**80),
                    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.1, -0.0, 1e16, 1e-7, 5e-324]),
                    TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(TEXT, inner, max_size=5), st.tuples(inner, inner)), max_leaves=40)


def reference(value: object) -> str:
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)


@settings(max_examples=1500, deadline=None)
@given(VALUES)
def test_matches_json_dumps(value):
    assert dumps(value) == reference(value)


def outcome(write, value: object) -> object:
    """The text, or the refusal as (type, message)."""
    try:
        return write(value)
    except TypeError as err:
        return TypeError, str(err)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.one_of(st.integers(), st.floats(), st.booleans(), st.none(), TEXT), VALUES, max_size=4))
def test_keys_json_converts_or_refuses(value):
    document = {"outer": [value]}
    assert outcome(dumps, document) == outcome(reference, document)


class Level(enum.IntEnum):
    LOW = 1


class Text(str):
    pass


@pytest.mark.parametrize("value", [
    {"a": Level.LOW}, [Text("x")], {Text("k"): 1}, {"n": math.nan, "i": [-math.inf, math.inf]}, (1, [2, (3,)]),
    {"deep": [[[[{"x": [{}]}]]]], "e": [], "f": {}}, {"b": True, "c": False, "d": None, "z": 1.5, "y": 10**30},
])
def test_unusual_values_match(value):
    assert dumps(value) == reference(value)


@pytest.mark.parametrize("value", [{"a": object()}, [1, {"x": {1j: 2}}], {"a": 1, 2: "b"}, {"s": {1, 2}}])
def test_refusals_are_jsons_own(value):
    with pytest.raises(TypeError) as expected:
        reference(value)
    with pytest.raises(TypeError) as got:
        dumps(value)
    assert str(got.value) == str(expected.value)


def test_cycles_are_refused_as_json_refuses_them():
    cyclic: list = [1]
    cyclic.append({"again": cyclic})
    with pytest.raises(ValueError, match="Circular reference detected"):
        dumps(cyclic)


def test_nesting_too_deep_fails_as_json_fails():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(RecursionError):
        reference(deep)
    with pytest.raises(RecursionError):
        dumps(deep)


def test_shared_values_are_written_twice():
    shared = {"k": ["v"]}
    value = {"a": shared, "b": [shared, shared]}
    assert dumps(value) == reference(value)


@settings(max_examples=500, deadline=None)
@given(VALUES, VALUES)
def test_encoded_values_read_as_the_values_they_hold(inner, other):
    document = {"a": [other, {"b": inner}], "c": inner}
    placed = {"a": [other, {"b": Encoded(inner)}], "c": Encoded(inner, dumps(inner))}
    assert dumps(placed) == reference(document)


def test_encoded_values_survive_the_fallback_to_json():
    inner = {"x": ["y", 1.5]}
    assert dumps({1: Encoded(inner), 2: [Encoded(inner)]}) == reference({1: inner, 2: [inner]})
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        dumps({"e": Encoded(inner), "o": object()})


def any_outcome(write, value: object) -> object:
    """The text, or the exception's type and message: the writer must fail exactly as json.dumps does."""
    try:
        return write(value)
    except Exception as error:
        return type(error), str(error)


SHARED_AWKWARD = st.sampled_from(['"', "\\", "\n\r\t\b\f", "\x00\x1f\x7f", "\u2028\u2029", "\ud800", "é·中😀",
                           "</script>", "${slo} [[x]]", "", " ", "a\"b\\c}"])
STRINGS = SHARED_AWKWARD | st.text()
SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**70, max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -0.0, 1e16, 1e-7, 0.1, 14.4])
           | STRINGS)
KEYS = STRINGS | st.integers() | st.booleans() | st.none() | st.floats()
JSON_LIKE = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner)
                         | st.dictionaries(STRINGS, inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=3),
                         max_leaves=30)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(STRINGS, JSON_LIKE, max_size=4), st.dictionaries(STRINGS, JSON_LIKE, max_size=4), JSON_LIKE)
def test_json_writer_reuses_shared_parts_exactly(fixed: dict, holes: dict, value: object):
    """Frozen parts and Shapes (whose fixed items are written once) give json.dumps' text at every indent."""
    shaped, frozen = jsonout.Shape(**fixed)(**holes), jsonout.freeze(value)
    for document in (shaped, [shaped, {"a": [shaped]}], frozen, {"x": [frozen, {"y": frozen}], "z": shaped}):
        assert any_outcome(jsonout.dumps, document) == any_outcome(reference, document)
        assert any_outcome(jsonout.dumps, document) == any_outcome(reference, document)  # from the kept texts


def test_shared_parts_cannot_change():
    frozen = jsonout.freeze({"a": [{"b": 1}]})
    shaped = jsonout.Shape(fixed=1)(hole=2)
    for change in (lambda: frozen.update(a=2), lambda: frozen["a"].append(3), lambda: frozen["a"][0].pop("b"),
                   lambda: shaped.update(hole=3), lambda: shaped.__setitem__("fixed", 2)):
        with pytest.raises(TypeError):
            change()
    shaped["hole"] = 3  # holes may change (panel ids are bumped after a hash collision)
    assert jsonout.dumps(shaped) == reference({"fixed": 1, "hole": 3})
    assert copy.deepcopy(shaped) == {"fixed": 1, "hole": 3} and copy.deepcopy(frozen) is frozen


def test_json_writer_fails_as_json_dumps_does():
    cycle: list = []
    cycle.append(cycle)
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    class Sub(str):
        pass
    for value in (cycle, {"a": {"b": cycle}}, deep, {"x": object()}, {1: "a", "b": 2}, [float("nan"), Sub("s")],
                  {Sub("k"): (1, True)}, {True: 1, None: 2, 1.5: 3}):
        assert any_outcome(jsonout.dumps, value) == any_outcome(reference, value)
