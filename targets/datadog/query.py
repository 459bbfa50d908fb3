"""Selectors as Datadog metric queries: metric names, tag filters, and the matchers that have no exact form."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from relc.compiler.model import ir as ir
from relc.compiler.check.promql import quote

DD_METRIC = re.compile(r"[A-Za-z][A-Za-z0-9_.]*\Z")
_META = set(".^$*+?()[]{}|\\")


@dataclass(frozen=True)
class Mapping:
    """How Prometheus names reach Datadog: the -O datadog.* settings that shape every query."""

    namespace: str = ""
    openmetrics: bool = True
    metric_map: dict[str, str] = field(default_factory=dict)
    tag_map: dict[str, str] = field(default_factory=dict)
    default_zero: bool = True


class Untranslatable(Exception):
    """A construct with no exact Datadog form; `find` is a regex for the source line that wrote it."""

    def __init__(self, message: str, hint: str | None = None, find: str | None = None):
        super().__init__(message)
        self.message, self.hint, self.find = message, hint, find
        self.all: list[Untranslatable] = [self]


def gather(*steps) -> list:
    """Run every step; a failure raises one Untranslatable whose `all` lists them all, one diagnostic each."""
    results, failures = [], []
    for step in steps:
        try:
            results.append(step())
        except Untranslatable as err:
            failures.extend(err.all)
    if failures:
        first = failures[0]
        combined = Untranslatable(first.message, first.hint, first.find)
        combined.all = failures
        raise combined
    return results


HINT_BLOCK = 'add a `datadog { good|bad = "...", total = "..." }` block to the sli with the Datadog queries'


_NOT_TAG = re.compile(r"[^\w\-:./]")  # \w in a str pattern is exactly str.isalnum() or `_`
_TAGS: dict[str, str] = {}


def tag_text(text: str) -> str:
    """Datadog's own tag normalisation: lower case; anything but letters, digits and _-:./ becomes `_`."""
    tag = _TAGS.get(text)
    if tag is None:
        if len(_TAGS) > 50_000:  # names repeat across a project's objects; odd inputs do not pin memory
            _TAGS.clear()
        tag = _TAGS[text] = _NOT_TAG.sub("_", text.lower())
    return tag


def metric_name(prom: str, part: str, mapping: Mapping) -> str:
    """`http_requests_total` -> `<ns>.http_requests.count`, as the OpenMetrics v2 check names it.

    `part` is `counter`, `bucket` or `count` (the last two for histograms).
    """
    base = prom[:-len("_total")] if mapping.openmetrics and part == "counter" and prom.endswith("_total") else prom
    name = mapping.metric_map.get(prom) or mapping.metric_map.get(base) or base
    if mapping.namespace:
        name = f"{mapping.namespace}.{name}"
    if mapping.openmetrics:
        name += {"counter": ".count", "bucket": ".bucket", "count": ".count"}[part]
    name = re.sub(r"[^A-Za-z0-9_.]", "_", name)
    if not DD_METRIC.match(name):
        raise Untranslatable(f"metric `{prom}` becomes `{name}`, which is not a valid Datadog metric name",
                             "map it with -O datadog.metric_map=PROM_NAME=datadog.name", rf"\b{re.escape(prom)}\b")
    return name


@dataclass(frozen=True)
class Term:
    """One tag filter, in the symbolic form (`a:b`, `!a:b`) and the functional one (`NOT a:b`, `a IN (..)`)."""

    functional: str
    symbolic: str | None = None


def render_filter(terms: list[Term]) -> str:
    """Datadog forbids mixing `!`/`,` with AND/NOT/IN, so one IN switches the whole filter to words."""
    if not terms:
        return "*"
    if all(t.symbolic is not None for t in terms):
        return ",".join(t.symbolic for t in terms)  # type: ignore[misc]
    return " AND ".join(t.functional for t in terms)


def matcher_terms(m: ir.LabelMatcher, mapping: Mapping) -> list[Term]:
    """The tag filters that select exactly what the matcher selects, or Untranslatable."""
    key = mapping.tag_map.get(m.name, m.name)
    if key == "":
        return []  # the user dropped this label (e.g. job, which only Prometheus adds)
    key = tag_text(key)
    if not key[:1].isalpha():
        raise Untranslatable(f"label `{m.name}` in `{_shown(m)}` cannot be a Datadog tag (tags start with a letter)",
                             "rename it with -O datadog.tag_map=LABEL=tag", _find(m))
    if m.op in ("=", "!="):
        if m.value == "":
            raise Untranslatable(f"`{_shown(m)}` tests whether the label exists, which a Datadog tag filter "
                                 "cannot say exactly", HINT_BLOCK, _find(m))
        value = tag_text(m.value)
        return [Term(f"{key}:{value}", f"{key}:{value}")] if m.op == "=" else \
            [Term(f"NOT {key}:{value}", f"!{key}:{value}")]
    return _regex_terms(key, m)


def _shown(m: ir.LabelMatcher) -> str:
    """The matcher as PromQL, for messages (built only when one is needed)."""
    return f"{m.name}{m.op}{quote(m.value)}"


def _find(m: ir.LabelMatcher) -> str:
    """A regex for the source line that wrote the matcher."""
    return rf"\b{re.escape(m.name)}\s*{re.escape(m.op)}" + ("(?!~)" if m.op in ("=", "!=") else "")


def _regex_terms(key: str, m: ir.LabelMatcher) -> list[Term]:
    """Regexes translate only where a wildcard or IN selects exactly the same values."""
    if m.value == ".*":
        if m.op == "=~":
            return []  # matches every series, with or without the label
        raise Untranslatable(f"`{_shown(m)}` matches no series at all", None, _find(m))
    alternatives = regex_alternatives(m.value)
    if alternatives is None:
        raise Untranslatable(
            f"regular expression `{_shown(m)}` has no exact Datadog tag filter",
            f"Datadog filters say `{key}:value`, `{key}:prefix*`, `{key}:*suffix` or `{key} IN (a,b)`; "
            f"alternatives of literals and a leading or trailing `.*` translate. Otherwise {HINT_BLOCK}", _find(m))
    patterns = list(dict.fromkeys(alternatives))
    if m.op == "!~":
        return [Term(f"NOT {key}:{p}", f"!{key}:{p}") for p in patterns]
    if len(patterns) == 1:
        return [Term(f"{key}:{patterns[0]}", f"{key}:{patterns[0]}")]
    if any("*" in p for p in patterns):
        raise Untranslatable(f"`{_shown(m)}` combines alternatives with wildcards, which Datadog's IN cannot say",
                             HINT_BLOCK, _find(m))
    return [Term(f"{key} IN ({','.join(patterns)})")]


def regex_alternatives(pattern: str) -> list[str] | None:
    """`a|b` -> [a, b]; `api-.*` -> [api-*]; None unless every alternative is a literal with edge `.*`."""
    pattern = _strip_group(pattern)
    out = []
    for alternative in pattern.split("|"):
        lead, trail = alternative.startswith(".*"), _ends_in_wildcard(alternative)
        core = alternative[2 if lead else 0: len(alternative) - (2 if trail else 0)]
        literal = _literal(core)
        if not literal:
            return None
        out.append(("*" if lead else "") + tag_text(literal) + ("*" if trail else ""))
    return out


def _ends_in_wildcard(alternative: str) -> bool:
    """A trailing `.*` whose dot is not escaped (`a\\.*` is `a` then any number of dots)."""
    if not alternative.endswith(".*") or len(alternative) < 2:
        return False
    backslashes = len(alternative[:-2]) - len(alternative[:-2].rstrip("\\"))
    return backslashes % 2 == 0


def _strip_group(pattern: str) -> str:
    """`(a|b)` and `(?:a|b)` -> `a|b`, when the group spans the whole pattern."""
    for opening in ("(?:", "("):
        if pattern.startswith(opening) and pattern.endswith(")") and not pattern.endswith("\\)"):
            inner = pattern[len(opening):-1]
            if not any(c in inner for c in "()"):
                return inner
    return pattern


def _literal(core: str) -> str | None:
    """The text a regex matches when it is a plain literal (escaped punctuation allowed), else None."""
    out, i = [], 0
    while i < len(core):
        c = core[i]
        if c == "\\":
            if i + 1 >= len(core) or core[i + 1].isalnum():
                return None  # \d, \w, \b ... are classes or anchors, not literals
            out.append(core[i + 1])
            i += 2
            continue
        if c in _META:
            return None
        out.append(c)
        i += 1
    text = "".join(out)
    return text if tag_text(text).strip("_") else None


def selector_query(sel: ir.Selector, part: str, mapping: Mapping, extra: tuple[Term, ...] = ()) -> str:
    """`sum:<metric>{<filters>}.as_count()`: SLO queries must sum counts, never average them."""
    *per_matcher, name = gather(*(lambda m=m: matcher_terms(m, mapping) for m in sel.matchers),
                                lambda: metric_name(sel.metric, part, mapping))
    terms = [t for found in per_matcher for t in found] + list(extra)
    return f"sum:{name}{{{render_filter(terms)}}}.as_count()"


def upper_bound(sli: ir.LatencySLI) -> str:
    """The OpenMetrics check tags buckets `upper_bound:str(float(le))`: 0.3 -> 0.3, 1 -> 1.0."""
    value = float(sli.le) if sli.le is not None else float(sli.threshold_seconds)
    return tag_text(str(value or 0.0))


def sli_queries(slo: ir.SLO, mapping: Mapping) -> tuple[str, str]:
    """(numerator, denominator): good events and all events, as Datadog metric-based SLOs want them."""
    if slo.datadog is not None:
        given = slo.datadog
        good = given.good if given.good is not None else minus(given.total, given.bad or "", mapping)
        return good, given.total
    sli = slo.sli
    if isinstance(sli, ir.RawSLI):
        if sli.slices is not None:
            raise Untranslatable("a time-slice SLI is not translated to Datadog's time-slice SLOs yet", HINT_BLOCK,
                                 r"\bsli\s+timeslices\b")
        raise Untranslatable("a raw PromQL error ratio has no Datadog translation", HINT_BLOCK, r"\bsli\s+raw\b")
    if isinstance(sli, ir.LatencySLI):
        return _latency(sli, mapping)
    role, part = ("good", sli.good) if sli.good is not None else ("bad", sli.bad)
    counted, total = gather(lambda: _events_query(part, role, mapping),  # type: ignore[arg-type]
                            lambda: _events_query(sli.total, "total", mapping))
    return (counted, total) if role == "good" else (minus(total, counted, mapping), total)


def _events_query(query: ir.Selector | ir.RawQuery, role: str, mapping: Mapping) -> str:
    """Counters only: PromQL strings have no Datadog reading."""
    if isinstance(query, ir.RawQuery):
        raise Untranslatable(f"`{role}` is a PromQL string, which has no Datadog translation", HINT_BLOCK,
                             rf"\b{role}\s*=")
    return selector_query(query, "counter", mapping)


def _latency(sli: ir.LatencySLI, mapping: Mapping) -> tuple[str, str]:
    """Good = the cumulative bucket at the threshold, total = the histogram's count."""
    if sli.native:
        raise Untranslatable("a Prometheus native histogram has no Datadog metric relc can name", HINT_BLOCK,
                             r"\bnative_histogram\s*=")
    if not mapping.openmetrics:
        raise Untranslatable("a latency SLI reads histogram buckets, which relc can name only for the "
                             "OpenMetrics check (-O datadog.openmetrics=true)", HINT_BLOCK, r"\bsli\s+latency\b")
    bound = Term(f"upper_bound:{upper_bound(sli)}", f"upper_bound:{upper_bound(sli)}")
    good = selector_query(sli.histogram, "bucket", mapping, (bound,))  # the count query has the same problems
    return good, selector_query(sli.histogram, "count", mapping)


def minus(total: str, bad: str, mapping: Mapping) -> str:
    """Good = total - bad; default_zero() keeps intervals without a single failure from losing the total."""
    if mapping.default_zero:
        return f"{total} - default_zero({bad})"
    return f"{total} - ({bad})" if _has_operator(bad) else f"{total} - {bad}"


def _has_operator(query: str) -> bool:
    """An arithmetic operator outside braces and parentheses, where it would change `total - bad`."""
    depth = 0
    for c in query:
        depth += c in "({"
        depth -= c in ")}"
        if depth == 0 and c in "+-*/":
            return True
    return False
