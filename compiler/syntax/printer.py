"""Syntax tree to canonical .relc text: rows of code, then the comments placed on them, blank lines, alignment."""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from relc.compiler.syntax.literals import NAME_RE, name_text, quote, ref_text, scalar
from relc.compiler.syntax.tree import Attribute, Block, Import, MapEntry, Matcher, Module, SelectorLit, Value

INDENT = "  "
MAX_WIDTH = 99  # a list or map stays on one line while the line is shorter than 100 columns
COMMENT_GAP = 2  # spaces between code and a trailing comment, at least
MATCH_OPS = ("=", "!=", "=~", "!~")

Pos = tuple[int, int]
Anchor = tuple[int, int, int, int]  # line, col, end_line, end_col of something printed on a row


@dataclass(frozen=True)
class Comment:
    line: int
    col: int
    text: str
    own_line: bool  # nothing but whitespace before it on its line


@dataclass
class Row:
    """One line of code (more if it holds a multi-line raw string) and the source spans printed on it."""

    indent: int
    text: str
    anchors: list[Anchor]
    kind: str = "cont"  # item (starts a body item), entry (list/map entry), close, end (a block's `}`), cont
    opens: bool = False  # ends with `{` or `[`: no blank line may follow
    blank: bool = False  # the printer's own choice of a blank line before, used when there is no source
    before: list[Comment] = field(default_factory=list)
    trailing: Comment | None = None


def _anchor(span) -> Anchor | None:
    return None if span is None else (span.line, span.col, span.end_line, span.end_col)


def _point(line: int, col: int) -> Anchor:
    return (line, col, line, col + 1)


def _end_point(span) -> Anchor | None:
    """The closing bracket: the last character of a block's or container's span."""
    return None if span is None else _point(span.end_line, span.end_col - 1)


@dataclass
class SourceInfo:
    """What the tree forgets and the printer needs: comments, and how labels and strings were spelled."""

    comments: list[Comment]
    strings_by_start: dict[Pos, str]  # STRING and RAW_STRING token text by start position
    strings_by_end: dict[Pos, str]
    punctuation: dict[str, list[Pos]] = field(default_factory=dict)  # LBRACE and COMMA positions, in order

    def __post_init__(self) -> None:
        self._starts = [(c.line, c.col) for c in self.comments]

    def first(self, kind: str, start: Pos, end: Pos) -> Pos | None:
        """The first `{` or `,` in [start, end): code the tree has no node for, but comments sit around."""
        found = self.punctuation.get(kind, [])
        i = bisect_left(found, start)
        return found[i] if i < len(found) and found[i] < end else None

    def has_comment(self, start: Pos, end: Pos) -> bool:
        """Whether a comment starts in [start, end): such a container must break so the comment keeps its place."""
        i = bisect_left(self._starts, start)
        return i < len(self._starts) and self._starts[i] < end


class Printer:
    """Lays a tree out as rows; given the source, keeps its spellings and breaks containers that hold comments."""

    def __init__(self, source: "SourceInfo | None" = None):
        self.src = source
        self.rows: list[Row] = []

    def module(self, module: Module) -> list[Row]:
        self._items(module.items, 0)
        return self.rows

    def _row(self, indent: int, text: str, anchors: list, kind: str = "cont", opens: bool = False) -> None:
        self.rows.append(Row(indent, text, [a for a in anchors if a is not None], kind, opens))

    def _items(self, items, indent: int) -> None:
        prev = None
        for item in items:
            first = len(self.rows)
            self._item(item, indent)
            row = self.rows[first]
            row.kind = "item"
            row.blank = prev is not None and (type(prev) is not type(item)
                                              or isinstance(item, Block) and (item.has_body or bool(item.items)))
            prev = item

    def _item(self, item, indent: int) -> None:
        if isinstance(item, Import):
            self._row(indent, "import " + self._string(item.path, item.span), [_anchor(item.span)])
        elif isinstance(item, Attribute):
            key = name_text(item.key, "attribute key", keyword_ok=False)
            self._value(indent, f"{key} = ", item.value, "", [_anchor(item.key_span)])
        elif isinstance(item, Block):
            self._block(item, indent)
        else:
            raise ValueError(f"not a syntax tree item: {item!r}")

    def _block(self, block: Block, indent: int) -> None:
        head, anchors = name_text(block.kind, "block kind", keyword_ok=False), [_anchor(block.kind_span)]
        if block.label is not None:
            head += " " + self._label(block.label, block.label_span)
            anchors.append(_anchor(block.label_span))
        if not block.has_body:
            if block.items or block.label is None:
                raise ValueError(f"block `{block.kind}` without a body needs a label and no items")
            self._row(indent, head, anchors)
            return
        close = _end_point(block.span)
        if self.src is not None and close is not None and anchors[-1] is not None:
            brace = self.src.first("LBRACE", anchors[-1][2:], close[:2])
            anchors.append(brace and _point(*brace))
        if not block.items and not self._comment_inside(anchors, close):
            self._row(indent, head + " {}", anchors + [close])
            return
        self._row(indent, head + " {", anchors, opens=True)
        self._items(block.items, indent + 1)
        self._row(indent, "}", [close], kind="end")

    def _comment_inside(self, head: list, close: Anchor | None) -> bool:
        """Whether a comment sits between a block's header and its `}`, so `{}` must open up to hold it."""
        if self.src is None or close is None or head[-1] is None:
            return False
        return self.src.has_comment(head[-1][2:], close[:2])

    def _value(self, indent: int, prefix: str, value: Value, suffix: str, anchors: list) -> None:
        text = self._inline(value)
        if value.kind in ("list", "map") and self._breaks(indent, prefix + text + suffix, value):
            self._container(indent, prefix, value, suffix, anchors)
        else:
            self._row(indent, prefix + text + suffix, anchors + [_anchor(value.span)])

    def _breaks(self, indent: int, line: str, value: Value) -> bool:
        span = value.span
        if self.src is not None and span is not None and self.src.has_comment((span.line, span.col), (span.end_line, span.end_col)):
            return True
        return bool(value.data) and ("\n" in line or len(INDENT * indent + line) > MAX_WIDTH)

    def _container(self, indent: int, prefix: str, value: Value, suffix: str, anchors: list) -> None:
        opener, closer = ("[", "]") if value.kind == "list" else ("{", "}")
        start = None if value.span is None else _point(value.span.line, value.span.col)
        self._row(indent, prefix + opener, anchors + [start], opens=True)
        elements = list(value.data)  # type: ignore[arg-type]
        for i, element in enumerate(elements):
            first = len(self.rows)
            if isinstance(element, MapEntry):
                key = self._label(element.key, element.key_span)
                self._value(indent + 1, f"{key} = ", element.value, ",", [_anchor(element.key_span)])
            else:
                self._value(indent + 1, "", element, ",", [])
            self.rows[first].kind = "entry"
            self._comma(element, elements[i + 1] if i + 1 < len(elements) else None, value.span)
        self._row(indent, closer + suffix, [_end_point(value.span)], kind="close")

    def _comma(self, element, following, container) -> None:
        """Anchor the source's comma after an entry on the entry's last row, for comments written after it."""
        if self.src is None:
            return
        end = (element.value if isinstance(element, MapEntry) else element).span
        nxt = following.key_span if isinstance(following, MapEntry) else getattr(following, "span", None)
        limit = (nxt.line, nxt.col) if nxt is not None else _end_point(container)[:2]
        comma = self.src.first("COMMA", (end.end_line, end.end_col), limit)
        if comma is not None:
            self.rows[-1].anchors.append(_point(*comma))

    def _inline(self, value: Value) -> str:
        if value.kind == "list":
            return "[" + ", ".join(self._inline(v) for v in value.data) + "]"  # type: ignore[union-attr]
        if value.kind == "map":
            entries = [f"{self._label(e.key, e.key_span)} = {self._inline(e.value)}" for e in value.data]  # type: ignore
            return "{ " + ", ".join(entries) + " }" if entries else "{}"
        if value.kind == "selector":
            return self._selector(value.data)  # type: ignore[arg-type]
        if value.kind == "call":
            name, argument = value.data  # type: ignore[misc]
            return f"{ref_text((name,))}({self._inline(argument)})"
        return scalar(value)

    def _selector(self, sel: SelectorLit) -> str:
        metric = name_text(sel.metric, "metric name", bool_ok=False)
        return metric + "{" + ", ".join(self._matcher(m) for m in sel.matchers) + "}"

    def _matcher(self, m: Matcher) -> str:
        if m.op not in MATCH_OPS:
            raise ValueError(f"unknown matcher operator {m.op!r}")
        ref = getattr(m, "ref", None)  # `job=params.job` inside a pack
        value = ref_text(ref) if ref else self._string(m.value, m.span)
        return f"{name_text(m.label, 'label name')}{m.op}{value}"

    def _label(self, text: str, span) -> str:
        """A block label or map key: as the source wrote it (name or string), else a name when it is one."""
        if self.src is not None and span is not None:
            token = self.src.strings_by_start.get((span.line, span.col))
            if token is None:
                return text
            return token if token.startswith("r") else quote(text)
        return text if NAME_RE.fullmatch(text) else quote(text)

    def _string(self, text: str, span) -> str:
        """A string that ends where `span` ends (import path, matcher value): raw stays raw."""
        token = None
        if self.src is not None and span is not None:
            token = self.src.strings_by_end.get((span.end_line, span.end_col))
        return token if token is not None and token.startswith("r") else quote(text)


# ---- comments and blank lines ----

@dataclass
class _Line:
    indent: int
    code: str
    comment: str | None = None
    align: bool = False  # a plain code line, whose trailing comment lines up with its neighbours'


def render(rows: list[Row], tail: list[Comment], newline: str = "\n", by_source: bool = True) -> str:
    """Rows (with their comments) to text; blank lines come from the source (at most one) or the printer."""
    lines = _layout(rows, tail, by_source)
    return newline.join(_align(lines)) + newline if lines else ""


class _Cursor:
    """Where the layout is, in source lines, to decide where one blank line is kept."""

    def __init__(self, by_source: bool):
        self.by_source, self.last, self.opens = by_source, None, True

    def blank(self, first: int, allowed: bool, chosen: bool) -> bool:
        if not allowed or self.opens:
            return False
        return (self.last is not None and first > self.last + 1) if self.by_source else chosen

    def advance(self, last: int, opens: bool) -> None:
        self.last = last if self.last is None else max(self.last, last)
        self.opens = opens


def _layout(rows: list[Row], tail: list[Comment], by_source: bool) -> list[_Line | None]:
    out: list[_Line | None] = []
    cur = _Cursor(by_source)
    for row in rows:
        closing = row.kind in ("close", "end")
        for c in row.before:
            if cur.blank(c.line, row.kind in ("item", "end"), False):
                out.append(None)
            out.append(_Line(row.indent + int(closing), "", c.text))
            cur.advance(c.line, False)
        first = min((a[0] for a in row.anchors), default=0)
        last = max([a[2] for a in row.anchors] + ([row.trailing.line] if row.trailing else []), default=0)
        if cur.blank(first, row.kind == "item", row.blank):
            out.append(None)
        align = not row.opens and row.kind not in ("close", "end")
        out.append(_Line(row.indent, row.text, row.trailing.text if row.trailing else None, align))
        cur.advance(last, row.opens)
    for c in tail:
        if cur.blank(c.line, True, False):
            out.append(None)
        out.append(_Line(0, "", c.text))
        cur.advance(c.line, False)
    return out


def _align(lines: list[_Line | None]) -> list[str]:
    """Text lines; trailing comments on consecutive code lines of one indent start in one column."""
    col: dict[int, int] = {}
    group: list[int] = []
    for i, line in enumerate(lines + [None]):
        alignable = line is not None and line.align and line.comment is not None and "\n" not in line.code
        if group and (not alignable or line.indent != lines[group[0]].indent):  # type: ignore[union-attr]
            width = max(len(lines[j].code) for j in group) + COMMENT_GAP  # type: ignore[union-attr]
            col.update((j, width) for j in group)
            group = []
        if alignable:
            group.append(i)
    return [_text(line, col.get(i)) for i, line in enumerate(lines)]


def _text(line: _Line | None, column: int | None) -> str:
    if line is None:
        return ""
    pad = INDENT * line.indent
    if line.comment is None:
        return pad + line.code
    if not line.code:
        return pad + line.comment
    gap = " " * (column - len(line.code)) if column else " " * COMMENT_GAP
    return pad + line.code + gap + line.comment


def format_module(module: Module) -> str:
    """Print a tree built by code (an importer, a generator) as canonical .relc; raises ValueError if unprintable."""
    return render(Printer(None).module(module), [], by_source=False)
