"""YAML output that is stable byte for byte: insertion order, no line folding, block style for multi-line text.

`dump` writes what `yaml.dump` with `_Dumper` writes, but walks dicts and lists itself: PyYAML's
representer and resolver run in Python for every node and were most of a large build's time. Only
scalars it cannot vouch for (quoting, odd characters, floats) are rendered by PyYAML, one at a
time and remembered; anything unusual (other types, a dict or list met twice, which PyYAML would
write as an anchor, text that PyYAML would spread over several lines outside a `|` block) makes the
whole document go through PyYAML.
"""
from __future__ import annotations

import re

import yaml

try:  # the C emitter is much faster on large outputs
    _Base = yaml.CSafeDumper  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeDumper


class _Dumper(_Base):  # type: ignore[misc, valid-type]
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value and not any(c in value for c in "\r\t") and value == value.strip(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)

_OPTIONS = dict(Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1_000_000, default_flow_style=False,
                indent=2)


def _pyyaml(data: object) -> str:
    return yaml.dump(data, **_OPTIONS)


def dump(data: object, header: str = "") -> str:
    if type(data) is dict and data:
        out: list[str] = []
        try:
            _mapping(data, "", out, set())
        except _Unusual:
            return header + _pyyaml(data)
        return header + "".join(out)
    return header + _pyyaml(data)


_LINE_BREAK = re.compile("[\r\n\x85\u2028\u2029]")  # what a YAML reader takes for a line break


def comment(lines: list[str]) -> str:
    """`# ` lines that stay comments whatever text they quote: a line break inside one would start YAML."""
    return "".join(f"# {_LINE_BREAK.sub(' ', line)}".rstrip() + "\n" for line in lines)


class _Unusual(Exception):
    pass


# Text PyYAML writes as it is (a plain scalar), key or value: printable ASCII starting with a letter,
# `_`, `/`, `(` or `$`, without `: ` or ` #` inside, not ending in a space or `:`, and not a word the
# YAML resolver would read as a boolean or null. Anything else is rendered by PyYAML.
_PLAIN = re.compile(r"[A-Za-z_/($](?:[!-9;-~]|:(?! )| (?!#))*(?<![ :])")
_PRINTABLE = re.compile(r"[A-Za-z_/($][ -~]*\Z")  # _PLAIN's characters, without a lookaround per character


def _plain(text: str) -> bool:
    """`_PLAIN.fullmatch(text)`, three to four times faster on long text (most of a cold build's YAML time)."""
    return _PRINTABLE.match(text) is not None and ": " not in text and " #" not in text and text[-1] not in " :"


_FOLDS_AT = 500_000  # half the emitter's width (1 000 000): well below any column it would break at
_ONE_LINE = re.compile(r"[ -~]+\Z")  # printable ASCII on one line: PyYAML writes it plain or in single quotes
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


def _plain_from_digit(text: str) -> bool:
    """Plain although it starts with a digit (`1 - ratio`): the plain rules hold, and PyYAML's own resolver
    does not read it as a number, a timestamp or anything else that would need quotes."""
    return (text[0] in "0123456789" and _plain("a" + text[1:])
            and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG)


def _never_plain(text: str) -> bool:
    """Text PyYAML's emitter cannot write plain whatever it means (it then single-quotes one-line ASCII):
    an indicator first, a space at either end, `: ` or ` #` inside, `:` last."""
    return (text[0] in _INDICATORS or text[0] == " " or text[-1] in " :" or ": " in text or " #" in text)


_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
_RESERVED = frozenset("yes Yes YES no No NO true True TRUE false False FALSE on On ON off Off OFF "
                      "null Null NULL".split())
# A `|-` block PyYAML writes line by line: lines of printable ASCII, none ending in a space, the
# first not starting with a space and the last not empty.
_LITERAL = re.compile(r"[!-~](?:[ -~]*[!-~])?(?:\n(?:[ -~]*[!-~])?)*(?<=[!-~])")
_BREAKS = "\x85\u2028\u2029"  # line breaks to YAML besides \n: PyYAML would indent after them
# Rendered keys and values, by (type, value): a line of text, or for a `|` block a tuple of its
# header and lines. Emptied when large, so a long-lived process does not keep every string.
_KEYS: dict[object, str] = {}
_TEXTS: dict[object, object] = {}
_MEMO_LIMIT = 200_000


def _key(key: object) -> str:
    memo = key if type(key) is str else (type(key), key)
    if memo in _KEYS:
        return _KEYS[memo]
    if type(key) is str and len(key) < 128 and _plain(key) and key not in _RESERVED:
        text = key
    elif type(key) in (str, int, bool):
        text = _pyyaml({key: 0})
        if not text.endswith(": 0\n") or "\n" in text[:-4] or text.startswith("? ") or any(c in text for c in _BREAKS):
            raise _Unusual
        text = text[:-4]
    else:
        raise _Unusual
    if len(_KEYS) >= _MEMO_LIMIT:
        _KEYS.clear()
    _KEYS[memo] = text
    return text


def _scalar(value: object) -> object:
    kind = type(value)
    if kind is float and value - value == 0.0:  # finite: PyYAML's float representer, spelt out (not
        text = repr(value).lower()              # remembered by value, as -0.0 == 0.0)
        return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text
    memo = value if kind is str else (kind, value)
    if memo in _TEXTS:
        return _TEXTS[memo]
    line = kind is str and len(value) < _FOLDS_AT  # PyYAML folds longer plain and quoted text at a space
    if line and _plain(value) and value not in _RESERVED:
        text: object = value
    elif line and _ONE_LINE.match(value) and _plain_from_digit(value):
        text = value
    elif line and _ONE_LINE.match(value) and _never_plain(value):
        text = "'" + value.replace("'", "''") + "'"
    elif kind is str and "\n" in value and _LITERAL.fullmatch(value):
        text = ("|-",) + tuple(value.split("\n"))
    elif kind is int:
        text = str(value)
    elif kind is bool:
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif kind is str or kind is float:
        dumped = _pyyaml({"k": value})
        if any(c in dumped for c in _BREAKS):
            raise _Unusual
        if dumped.startswith("k: |"):
            lines = dumped[3:-1].split("\n")
            if "+" in lines[0] or any(line and not line.startswith("  ") for line in lines[1:]):
                raise _Unusual
            text = (lines[0],) + tuple(line[2:] for line in lines[1:])
        elif dumped.count("\n") == 1 and dumped.startswith("k: "):
            text = dumped[3:-1]
        else:
            raise _Unusual
    else:
        raise _Unusual
    if len(_TEXTS) >= _MEMO_LIMIT:
        _TEXTS.clear()
    _TEXTS[memo] = text
    return text


def _mapping(data: dict, indent: str, out: list[str], seen: set[int], first: str | None = None) -> None:
    """Write a block mapping whose keys start at `indent`; `first` replaces the first key's indent
    (`- ` when the mapping is a sequence item)."""
    if id(data) in seen:
        raise _Unusual
    seen.add(id(data))
    lead = indent if first is None else first
    keys, texts = _KEYS, _TEXTS
    for key, value in data.items():
        name = keys.get(key) if type(key) is str else None
        if name is None:
            name = _key(key)
        kind = type(value)
        if kind is dict or kind is list:
            if not value:
                out.append(f"{lead}{name}: {{}}\n" if kind is dict else f"{lead}{name}: []\n")
            elif kind is dict:
                out.append(f"{lead}{name}:\n")
                _mapping(value, indent + "  ", out, seen)
            else:
                out.append(f"{lead}{name}:\n")
                _sequence(value, indent, out, seen)
        else:
            text = texts.get(value) if kind is str else None
            if text is None:
                text = _scalar(value)
            if type(text) is str:
                out.append(f"{lead}{name}: {text}\n")
            else:  # a `|` block: the header, then each line two spaces in, empty lines left empty
                inner = indent + "  "
                out.append(f"{lead}{name}: {text[0]}\n" + "".join(inner + line + "\n" if line else "\n"
                                                                   for line in text[1:]))
        lead = indent


def _sequence(items: list, indent: str, out: list[str], seen: set[int]) -> None:
    """Write a block sequence, dashes at `indent` (PyYAML does not indent a sequence in a mapping)."""
    if id(items) in seen:
        raise _Unusual
    seen.add(id(items))
    for item in items:
        kind = type(item)
        if kind is dict:
            if item:
                _mapping(item, indent + "  ", out, seen, first=indent + "- ")
            else:
                out.append(indent + "- {}\n")
        elif kind is list:
            raise _Unusual
        else:
            text = _scalar(item)
            if type(text) is not str:
                raise _Unusual
            out.append(indent + "- " + text + "\n")
