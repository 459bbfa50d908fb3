"""JSON text for the Grafana and Datadog targets, written by orjson: indented by two, keys sorted, UTF-8 as is.

On relc's real output that is the text `json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)` gives,
byte for byte, 18 times faster (benchmarks/writers.py, docs/performance.md). Where the two differ, json
decides: values orjson refuses (keys that are not strings, integers beyond 64 bits, lone surrogates) are written
by json.dumps. Floats below 1e-4 are the one spelling that differs (orjson writes 0.00001 for json's 1e-05, the
same number); relc's targets write none. tests/test_jsonout.py holds both writers to this.

Shared dashboard parts are `Frozen` (dicts) and `FrozenList`s, which refuse changes, so a part used by
thousands of panels cannot be edited through one of them; a `Shape` makes dicts of one kind whose fixed items
are shared the same way and whose other items (the holes) alone may change.
"""
from __future__ import annotations

import copy
import json

import orjson

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def dumps(value: object) -> str:
    """The text json.dumps(indent=2, sort_keys=True, ensure_ascii=False) gives, or the exception it raises."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except (orjson.JSONEncodeError, TypeError):  # what orjson will not write: json decides, or refuses
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _read_only(self, *args, **kwargs):
    """A shared part changed in place would change every panel that holds it."""
    raise TypeError("a shared dashboard part cannot change; copy it (dict(x), list(x)) to change the copy")


class Frozen(dict):
    """A dict that cannot change (its values are frozen too), shared by every panel that holds it."""

    __slots__ = ()
    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _read_only

    def __reduce__(self):
        return (Frozen, (dict(self),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo: dict):
        return self


class FrozenList(list):
    """A list that cannot change (see Frozen)."""

    __slots__ = ()
    __setitem__ = __delitem__ = append = extend = insert = pop = remove = clear = sort = reverse = _read_only
    __iadd__ = __imul__ = _read_only

    def __reduce__(self):
        return (FrozenList, (list(self),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo: dict):
        return self


class Shape:
    """A kind of dict whose `fixed` items are always the same (and frozen); each dict made adds its holes."""

    __slots__ = ("fixed",)

    def __init__(self, **fixed: object) -> None:
        self.fixed = freeze(fixed)

    def __call__(self, **holes: object) -> Shaped:
        made = Shaped(self.fixed)
        dict.update(made, holes)
        made.holes = frozenset(holes)
        return made


class Shaped(dict):
    """A dict made by a Shape; only its holes may change (panel ids are bumped after a hash collision)."""

    __slots__ = ("holes",)
    __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _read_only

    def __setitem__(self, key: str, value: object) -> None:
        if key not in self.holes:
            _read_only(self)
        dict.__setitem__(self, key, value)

    def __reduce__(self):
        return (dict, (dict(self),))

    def __copy__(self):
        return dict(self)

    def __deepcopy__(self, memo: dict):
        return copy.deepcopy(dict(self), memo)


def freeze(value: object) -> object:
    """The value with every dict and list in it made Frozen/FrozenList."""
    if isinstance(value, dict):
        return value if type(value) is Frozen else Frozen({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return value if type(value) is FrozenList else FrozenList([freeze(v) for v in value])
    return value
