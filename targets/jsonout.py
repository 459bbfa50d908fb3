"""JSON output that is `json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)` byte for byte, only faster.

With `indent`, the standard library encodes through its pure-Python generator, which yields every bracket,
comma and key on its own; that was most of the Grafana and Datadog targets' time. `dumps` walks dicts and
lists itself, joins each container's items in one `str.join`, encodes strings with json's own function
(`encode_basestring`, the C one where there is one) and numbers with json's own `repr`s. Three kinds of parts
are written once and reused: `Frozen` dicts and lists (what thousands of dashboard panels share), kept as text
per indent; the fixed items of a `Shape` (one per kind of panel or query), so each dict of the kind only
writes its own items into the gaps; and `Encoded` values, already written, re-indented where they sit.
Anything unusual (tuples, other subclasses, NaN and infinities, non-string keys, unencodable objects, cycles)
goes to `json.dumps` itself, so the result, or the exception, is json's own.
"""
from __future__ import annotations

import copy
import json
from json.encoder import encode_basestring

_INF = float("inf")
_int = int.__repr__
_float = float.__repr__
_MAX_KEYS = 8192  # bound on the key cache, so odd inputs do not pin memory; real documents use hundreds


class _Keys(dict):
    """`"key": ` per key, encoded once: dashboards and monitors repeat the same few hundred keys a million times."""

    def __missing__(self, key: str) -> str:
        encoded = self[key] = encode_basestring(key) + ": "  # TypeError for a non-str key: json.dumps decides
        return encoded


_keys = _Keys()


class Encoded:
    """A value and its `dumps` text, placed in a larger document as that text, re-indented to where it sits."""

    __slots__ = ("value", "text")

    def __init__(self, value: object, text: str | None = None):
        self.value = value
        self.text = dumps(value) if text is None else text


def _unwrap(value: object) -> object:
    """json.dumps' `default`: an Encoded value is its value; anything else is refused as json refuses it."""
    if type(value) is Encoded:
        return value.value
    return json.JSONEncoder().default(value)


def _read_only(self, *args, **kwargs):
    """Shared parts are written once and their text kept: changing one in place would leave the text stale."""
    raise TypeError("a shared dashboard part cannot change; copy it (dict(x), list(x)) to change the copy")


class Frozen(dict):
    """A dict that cannot change, so its text is written once per indent and reused (values: frozen too)."""

    __slots__ = ("texts",)
    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _read_only

    def __init__(self, *args, **kwargs) -> None:
        dict.__init__(self, *args, **kwargs)
        self.texts: dict[str, str] = {}

    def __reduce__(self):
        return (Frozen, (dict(self),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo: dict):
        return self


class FrozenList(list):
    """A list that cannot change (see Frozen)."""

    __slots__ = ("texts",)
    __setitem__ = __delitem__ = append = extend = insert = pop = remove = clear = sort = reverse = _read_only
    __iadd__ = __imul__ = _read_only

    def __init__(self, items=()) -> None:
        list.__init__(self, items)
        self.texts: dict[str, str] = {}

    def __reduce__(self):
        return (FrozenList, (list(self),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo: dict):
        return self


class Shape:
    """A kind of dict whose `fixed` items are always the same: the text around its other items (the holes) is
    made once per indent and set of holes, and each dict of the kind is written by filling the holes in."""

    __slots__ = ("fixed", "plans", "orders")

    def __init__(self, **fixed: object) -> None:
        self.fixed = freeze(fixed)
        self.plans: dict[tuple, tuple[str, list[tuple[str, str]]]] = {}
        self.orders: dict[tuple, tuple[str, ...]] = {}  # holes as given -> sorted, one tuple per set of holes

    def __call__(self, **holes: object) -> Shaped:
        made = Shaped(self.fixed)
        dict.update(made, holes)
        given = tuple(holes)
        order = self.orders.get(given)
        if order is None:
            order = self.orders[given] = tuple(sorted(given))
        made.shape, made.holes = self, order
        return made

    def plan(self, holes: tuple[str, ...], newline: str) -> tuple[str, list[tuple[str, str]]]:
        """The text before the first hole, then each hole's key and the text after it, as json writes them."""
        marks = {name: f"\0relc-hole-{index}\0" for index, name in enumerate(holes)}  # holes are sorted
        rest, after = _dict({**self.fixed, **marks}, newline), []
        for name in holes:
            before, found, rest = rest.partition(encode_basestring(marks[name]))
            if not found or marks[name] in rest:
                raise ValueError(f"a fixed value of this Shape contains the mark of hole {name!r}")
            after.append(before)
        plan = self.plans[(newline, holes)] = (after[0] if holes else rest, list(zip(holes, after[1:] + [rest])))
        return plan


class Shaped(dict):
    """A dict made by a Shape; only its holes may change (panel ids are bumped after a hash collision)."""

    __slots__ = ("shape", "holes")
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


def dumps(value: object) -> str:
    """The text json.dumps(indent=2, sort_keys=True, ensure_ascii=False) gives, or the exception it raises."""
    if len(_keys) > _MAX_KEYS:
        _keys.clear()
    try:
        return _value(value, "\n")
    except RecursionError:  # a cycle (json reports ValueError) or nesting deeper than this writer can follow
        return _json(value, "\n")


def _json(value: object, newline: str) -> str:
    """json.dumps itself for what the fast paths do not handle, re-indented to where the value sits."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=_unwrap)
    return text.replace("\n", newline) if newline != "\n" else text  # newlines in json output are all structure


def _value(value: object, newline: str) -> str:
    """One value whose line starts with `newline` (a newline plus its indent)."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is dict:
        return _dict(value, newline)  # type: ignore[arg-type]
    if kind is int:
        return _int(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if kind is list:
        return _list(value, newline)  # type: ignore[arg-type]
    if kind is Shaped:
        return _shaped(value, newline)  # type: ignore[arg-type]
    if kind is Frozen or kind is FrozenList:
        text = value.texts.get(newline)  # type: ignore[union-attr]
        if text is None:
            text = value.texts[newline] = (_dict if kind is Frozen else _list)(value, newline)  # type: ignore
        return text
    if kind is float and -_INF < value < _INF:  # type: ignore[operator]
        return _float(value)
    if kind is Encoded:
        return value.text if newline == "\n" else value.text.replace("\n", newline)  # type: ignore[attr-defined]
    return _json(value, newline)


def _dict(value: dict, newline: str) -> str:
    if not value:
        return "{}"
    inner, keys, text = newline + "  ", _keys, encode_basestring
    try:  # the common types inline: a call per item is most of the cost
        items = [keys[k] + (text(v) if (t := type(v := value[k])) is str else _dict(v, inner) if t is dict
                            else _int(v) if t is int else ("true" if v else "false") if t is bool
                            else v.texts.get(inner) or _value(v, inner) if t is Frozen or t is FrozenList
                            else _shaped(v, inner) if t is Shaped else _value(v, inner)) for k in sorted(value)]
    except TypeError:  # a key that is not a str, or something json.dumps must reject (it raises the same)
        return _json(value, newline)
    return "{" + inner + ("," + inner).join(items) + newline + "}"


def _list(value: list, newline: str) -> str:
    if not value:
        return "[]"
    inner, text = newline + "  ", encode_basestring
    items = [text(v) if (t := type(v)) is str else _shaped(v, inner) if t is Shaped else _dict(v, inner) if t is dict
             else _value(v, inner) for v in value]
    return "[" + inner + ("," + inner).join(items) + newline + "]"


def _shaped(value: Shaped, newline: str) -> str:
    """The shape's text with the holes filled in, each hole written as a dict item would be."""
    shape, holes = value.shape, value.holes
    try:
        head, plan = shape.plans.get((newline, holes)) or shape.plan(holes, newline)
    except (TypeError, ValueError):  # fixed items json.dumps must reject: let it (it raises at the first in order)
        return _json(value, newline)
    inner, text, get = newline + "  ", encode_basestring, dict.__getitem__
    return head + "".join([(text(v) if (t := type(v := get(value, name))) is str else _int(v) if t is int
                            else v.texts.get(inner) or _value(v, inner) if t is Frozen or t is FrozenList
                            else _value(v, inner)) + after for name, after in plan])
