"""Markdown that source text cannot break: escaping, code fences, links and anchors for the runbook pages.

Every `{{ value }}` in a runbook template passes through `md` (the environment's `finalize`), so text from
the .relc source is escaped unless it is an `Md`: Markdown that relc built itself from escaped parts.
"""
from __future__ import annotations

import re
from urllib.parse import quote

# Every ASCII punctuation character that means something to CommonMark, GFM (tables, strikethrough),
# math renderers (`$`), HTML (`<`, `&`) or a templating site generator (`{`).
SPECIAL = frozenset("\\`*_{}[]<>()#+-.!|~&$=")
# Text that means nothing to Markdown wherever it lands (starts with a letter or digit, no list marker,
# `.` only between digits, `_` only inside words) is written as is, so names and figures stay readable.
_HARMLESS = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 %/,-]|(?<=[0-9])\.(?=[0-9])|(?<=[A-Za-z0-9])_(?=[A-Za-z0-9]))*")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\t\v\f\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f]")
# Characters that change how the text around them is shown without being seen ("Trojan Source"): direction
# overrides, embeddings, isolates and marks, and zero-width characters. In text they are shown by name; in a
# command (a fenced block people copy) every invisible format character is, so the command shown is the one copied.
_HIDDEN_IN_TEXT = re.compile("[\u061c\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_HIDDEN_IN_CODE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _shown(match: re.Match) -> str:
    return f"<U+{ord(match.group()):04X}>"
_ANCHOR = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_RELATIVE = re.compile(r"(?:[A-Za-z0-9_][A-Za-z0-9_.-]*/|\.\./)*[A-Za-z0-9_][A-Za-z0-9_.-]*(?:#[A-Za-z0-9_-]+)?|#[A-Za-z0-9_-]+")
_SCHEMES = ("https://", "http://", "mailto:")
_URL_SAFE = "!#$%&'()*+,-./:;=?@[]^_{}~"  # everything else (`<`, `>`, `\`, `|`, quotes, spaces) is %-encoded
_LANG = re.compile(r"[A-Za-z0-9_+-]*")
_BACKTICKS = re.compile("`+")
_CR = re.compile(r"\r\n?")
MEMO_LIMIT = 50_000           # distinct texts `md` remembers; the memo restarts when full
_ESCAPED: dict[str, Md] = {}


class Md(str):
    """Markdown that relc assembled from escaped parts; `md` passes it through unchanged."""

    __slots__ = ()


def md(value: object) -> Md:
    """Escape a value for Markdown text or a table cell, unless it is already relc-built Markdown."""
    if type(value) is str:  # pages repeat the same names and figures thousands of times: escape each once
        escaped = _ESCAPED.get(value)
        if escaped is None:
            if len(_ESCAPED) >= MEMO_LIMIT:
                _ESCAPED.clear()
            escaped = _ESCAPED[value] = _escape(value)
        return escaped
    if isinstance(value, Md):
        return value
    text = "" if value is None else str(value)  # numbers (step numbers, counts), None, other str subclasses
    return md(text) if type(text) is str else _escape(text)


def _escape(text: str) -> Md:
    """`md` of plain text, without the memo."""
    text = _HIDDEN_IN_TEXT.sub(_shown, _CONTROL.sub("\ufffd", _LINE_BREAKS.sub(" ", text))).strip()
    if not text or _HARMLESS.fullmatch(text):
        return Md(text)
    return Md("".join("\\" + ch if ch in SPECIAL else ch for ch in text))


def code(value: object) -> Md:
    """An inline code span that no backtick run or line break in the text can close early (not for tables)."""
    text = _CONTROL.sub("\ufffd", _LINE_BREAKS.sub(" ", "" if value is None else str(value)))
    text = _HIDDEN_IN_CODE.sub(_shown, text)
    if not text:
        return Md("")
    ticks = "`" * (_longest_run(text) + 1)
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return Md(f"{ticks}{pad}{text}{pad}{ticks}")


def fence(value: object, lang: str = "", indent: int = 0) -> Md:
    """A fenced code block, its fence longer than any backtick run inside; `indent` nests it in a list item."""
    text = "" if value is None else str(value)
    text = (_CR.sub("\n", text) if "\r" in text else text).rstrip("\n")
    text = _HIDDEN_IN_CODE.sub(_shown, _CONTROL.sub("\ufffd", text))  # tabs, line feeds stay; the unseen is shown
    ticks = "`" * max(3, _longest_run(text) + 1)
    lang = lang if _LANG.fullmatch(lang) else ""
    pad = " " * max(0, min(int(indent), 16))
    if not pad:
        return Md(f"{ticks}{lang}\n{text}\n{ticks}" if text else f"{ticks}{lang}\n{ticks}")
    lines = [ticks + lang, *text.split("\n"), ticks] if text else [ticks + lang, ticks]
    return Md("\n".join(pad + line if line else line for line in lines))


def link(title: object, url: object) -> Md:
    """`[title](<url>)` for web, mail and relative links; any other scheme is shown, never linked."""
    label = md(title) or md(url)
    target = "" if url is None else str(url)
    if _RELATIVE.fullmatch(target):
        return Md(f"[{label}]({target})")
    if target.startswith(_SCHEMES):
        return Md(f"[{label}](<{quote(target, safe=_URL_SAFE)}>)")
    return Md(f"{label} ({code(target)})" if target else label)


def image(alt: object, path: object) -> Md:
    """An image next to the page; only relative file names qualify."""
    target = "" if path is None else str(path)
    if not _RELATIVE.fullmatch(target) or "#" in target:
        return md(alt)
    return Md(f"![{md(alt)}]({target})")


def anchor(name: object) -> Md:
    """An explicit HTML anchor, so links keep working whatever heading slugs a renderer makes."""
    text = "" if name is None else str(name)
    if not _ANCHOR.fullmatch(text):
        text = "x-" + re.sub(r"[^A-Za-z0-9_-]", "-", text)
    return Md(f'<a id="{text}"></a>')


def _longest_run(text: str) -> int:
    """Fences and code spans must be longer than the longest backtick run to be unclosable from inside."""
    if "`" not in text:
        return 0
    return max(len(run) for run in _BACKTICKS.findall(text))
