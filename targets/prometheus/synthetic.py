"""Synthetic source series for generated proofs: label sets that satisfy (or dodge) an SLI's selectors,
counters in promtool's notation, and `Run`, a model of relc's rules on those counters.

Prometheus matches regular expressions with Go's RE2, fully anchored. Examples are built by walking
Python's parse tree of the pattern and then checked with `re.fullmatch` in ASCII mode (RE2's `\\d`,
`\\w`, `\\s` are ASCII); constructs Python cannot parse the RE2 way (`\\pL`, `\\z`, `(?U)`) raise
`NoProof`, and the SLO gets no generated proof rather than one built on a guess.
"""
from __future__ import annotations

import math
import re
import re._constants as sre  # noqa: PLC2701 - the parse tree is the only way to build a matching string
import re._parser as sre_parse
from dataclasses import dataclass, field

from relc.compiler.model import ir as ir
from relc.compiler.check.promql import quote
from relc.targets.prometheus.rules import BASE_WINDOW_S, DERIVED_FROM_S
from relc.targets.shared.promql_sli import le_matcher

STEP_S = 60                      # input resolution: 5 samples in every 5m rate, under either range semantics
EPS = 1e-9                       # relative margin below which the model calls a comparison undecided
PREFERRED = "0a1xA_-.b2"         # characters that make readable examples, tried first
PRINTABLE = [chr(c) for c in range(0x20, 0x7F)]
FALLBACK_VALUES = ("relc", "x", "0", "other", "relc-synthetic")
POSIX = {"alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7F", "blank": "\\t ", "cntrl": "\\x00-\\x1F\\x7F",
         "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~", "punct": "!-/:-@\\[-`{-~",
         "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z", "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f"}
CATEGORIES = {getattr(sre, f"CATEGORY_{name}"): re.compile(pattern, re.ASCII) for name, pattern in (
    ("DIGIT", r"\d"), ("NOT_DIGIT", r"\D"), ("SPACE", r"\s"), ("NOT_SPACE", r"\S"), ("WORD", r"\w"),
    ("NOT_WORD", r"\W"))}


class NoProof(Exception):
    """The SLI cannot be driven by synthetic series; the message says why."""


@dataclass(frozen=True)
class Series:
    """One synthetic counter: its metric, its labels and which share of the traffic it counts."""

    metric: str
    labels: tuple[tuple[str, str], ...]
    role: str  # "bad", "good" or "total": grows by bad events, good events or all events per step

    def text(self) -> str:
        inner = ",".join(f"{name}={quote(value)}" for name, value in self.labels)
        return f"{self.metric}{{{inner}}}" if inner else self.metric


def go_regex(pattern: str) -> str:
    """RE2 syntax to Python's: POSIX classes become ranges; anything else Python rejects is unsupported."""
    def posix(match: re.Match) -> str:
        if match.group(1) or match.group(2) not in POSIX:
            raise NoProof(f"regular expression `{pattern}` uses a POSIX class relc cannot translate")
        return POSIX[match.group(2)]
    text = re.sub(r"\[:(\^?)([a-z]+):\]", posix, pattern)
    try:
        re.compile(text, re.ASCII)
    except re.error as err:
        raise NoProof(f"regular expression `{pattern}` uses syntax relc cannot check ({err})") from None
    return text


def full_match(pattern: str, value: str) -> bool:
    """Prometheus semantics: the whole value must match."""
    return re.fullmatch(go_regex(pattern), value, re.ASCII) is not None


def regex_examples(pattern: str, count: int = 8) -> list[str]:
    """A few short strings the pattern fully matches, most readable first (may be empty if none is found)."""
    text = go_regex(pattern)
    tree = sre_parse.parse(text)
    found: list[str] = []
    for variant in range(count * 3):
        try:
            candidate = _generate(list(tree), variant, {})
        except NoProof:
            continue
        if candidate not in found and re.fullmatch(text, candidate, re.ASCII):
            found.append(candidate)
        if len(found) == count:
            break
    return found


def _generate(items: list, variant: int, groups: dict) -> str:
    """Walk the parse tree; `variant` rotates branch and character choices to get different examples."""
    out = []
    for op, arg in items:
        if op is sre.LITERAL:
            out.append(chr(arg))
        elif op is sre.NOT_LITERAL:
            out.append(_pick(lambda c, a=arg: ord(c) != a, variant))
        elif op is sre.ANY:
            out.append(_pick(lambda c: c != "\n", variant))
        elif op is sre.IN:
            hints = [] if arg[0][0] is sre.NEGATE else [chr(a[0] if op is sre.RANGE else a) for op, a in arg
                                                          if op in (sre.LITERAL, sre.RANGE)]  # [0-9] -> 0
            out.append(_pick(lambda c, a=arg: _in_set(c, a), variant, hints))
        elif op is sre.CATEGORY:
            out.append(_pick(lambda c, a=arg: _in_category(c, a), variant))
        elif op is sre.BRANCH:
            alternatives = arg[1]
            out.append(_generate(alternatives[variant % len(alternatives)], variant // len(alternatives), groups))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)):
            low, high, sub = arg
            times = low if variant % 2 == 0 or high == low else low + 1
            out.append("".join(_generate(list(sub), variant // 2, groups) for _ in range(times)))
        elif op is sre.SUBPATTERN:
            text = _generate(list(arg[3]), variant, groups)
            if arg[0]:
                groups[arg[0]] = text
            out.append(text)
        elif op is sre.GROUPREF:
            out.append(groups.get(arg, ""))
        elif op is not sre.AT:  # anchors add nothing: Prometheus anchors the whole pattern anyway
            raise NoProof(f"unsupported regular expression construct {op}")
    return "".join(out)


def _pick(accept, variant: int, hints: list[str] = ()) -> str:  # type: ignore[assignment]
    order = list(hints) + list(PREFERRED)
    shift = variant % len(order)
    for char in order[shift:] + order[:shift] + PRINTABLE:
        if accept(char):
            return char
    raise NoProof("no printable character fits")


def _in_set(char: str, items: list) -> bool:
    negate = bool(items) and items[0][0] is sre.NEGATE
    hit = False
    for op, arg in items:
        if op is sre.LITERAL:
            hit |= ord(char) == arg
        elif op is sre.RANGE:
            hit |= arg[0] <= ord(char) <= arg[1]
        elif op is sre.CATEGORY:
            hit |= _in_category(char, arg)
    return hit != negate


def _in_category(char: str, category) -> bool:
    if category not in CATEGORIES:
        raise NoProof(f"unsupported character class {category}")
    return CATEGORIES[category].fullmatch(char) is not None


def matcher_ok(matcher: ir.LabelMatcher, value: str) -> bool:
    """Does a label value (\"\" when the label is absent) satisfy one matcher?"""
    if matcher.op == "=":
        return value == matcher.value
    if matcher.op == "!=":
        return value != matcher.value
    return full_match(matcher.value, value) == (matcher.op == "=~")


def label_set(matchers: tuple[ir.LabelMatcher, ...]) -> dict[str, str] | None:
    """Labels satisfying every matcher: `=` values, regex examples, and absent labels for negative ones."""
    labels: dict[str, str] = {}
    for name in dict.fromkeys(m.name for m in matchers):
        value = _value_for([m for m in matchers if m.name == name])
        if value is None:
            return None
        if value:
            labels[name] = value
    return labels


def _value_for(matchers: list[ir.LabelMatcher]) -> str | None:
    candidates: list[str] = []
    for m in matchers:
        if m.op == "=":
            candidates.append(m.value)
        elif m.op == "=~":
            candidates += regex_examples(m.value)
    if all(m.op in ("!=", "!~") for m in matchers):
        candidates.insert(0, "")  # a negative matcher is best met by leaving the label out
    candidates += list(FALLBACK_VALUES) + [m.value + "x" for m in matchers]
    return next((c for c in candidates if all(matcher_ok(m, c) for m in matchers)), None)


def selects(selector: ir.Selector, metric: str, labels: dict[str, str], suffix: str = "",
            extra: tuple[ir.LabelMatcher, ...] = ()) -> bool:
    """Would `selector` (with a metric suffix and extra matchers, as the rules render it) pick this series?"""
    if metric != selector.metric + suffix:
        return False
    return all(matcher_ok(m, labels.get(m.name, "")) for m in selector.matchers + extra)


def _dodge(labels: dict[str, str], keep: ir.Selector, avoid: ir.Selector) -> dict[str, str] | None:
    """Change one label so the series still matches `keep` but no longer `avoid` (good vs bad requests)."""
    if not selects(avoid, keep.metric, labels):
        return labels
    for m in avoid.matchers:
        for value in ("", *FALLBACK_VALUES, m.value + "x"):
            changed = {k: v for k, v in labels.items() if k != m.name}
            if value:
                changed[m.name] = value
            if selects(keep, keep.metric, changed) and not selects(avoid, keep.metric, changed):
                return changed
    return None


def _pair(part: ir.Selector, total: ir.Selector, part_role: str, rest_role: str) -> list[Series] | None:
    """One series in part and total plus one in total only; or, if that cannot be, one in each alone."""
    both = label_set(part.matchers + total.matchers) if part.metric == total.metric else None
    if both is not None and selects(part, part.metric, both) and selects(total, total.metric, both):
        rest = _dodge(label_set(total.matchers) or {}, total, part)
        if rest is not None and selects(total, total.metric, rest):
            return [_series(part.metric, both, part_role), _series(total.metric, rest, rest_role)]
    alone, rest = label_set(part.matchers), label_set(total.matchers)
    if alone is None or rest is None:
        return None
    alone, rest = _dodge(alone, part, total), _dodge(rest, total, part)
    if alone is None or rest is None:
        return None
    return [_series(part.metric, alone, part_role), _series(total.metric, rest, "total")]


def _series(metric: str, labels: dict[str, str], role: str) -> Series:
    return Series(metric, tuple(labels.items()), role)


def source_series(sli: ir.SLI) -> list[Series]:
    """Series that drive an SLI's real selectors; raises NoProof when none can (raw PromQL, contradictions)."""
    if isinstance(sli, ir.RawSLI):
        raise NoProof("its SLI is made of time slices, which relc's proofs do not model yet" if sli.slices
                      else "its SLI is raw PromQL, which relc cannot feed synthetic series")
    if isinstance(sli, ir.LatencySLI):
        labels = label_set(sli.histogram.matchers + (le_matcher(sli),))
        if labels is None:
            raise NoProof("no label set satisfies its histogram selector and the threshold bucket")
        count = {k: v for k, v in labels.items() if k != "le"}
        series = [_series(sli.histogram.metric + "_count", count, "total"),
                  _series(sli.histogram.metric + "_bucket", labels, "good")]
    else:
        part, role = (sli.bad, "bad") if sli.bad is not None else (sli.good, "good")
        if not isinstance(part, ir.Selector) or not isinstance(sli.total, ir.Selector):
            raise NoProof("its events SLI uses raw PromQL queries, which relc cannot feed synthetic series")
        found = _pair(part, sli.total, role, "good" if role == "bad" else "bad")
        if found is None:
            raise NoProof("no label sets satisfy its selectors (a series must match total, and one must "
                          f"match total but not {role})")
        series = found
    check_roles(sli, series)
    return series


def check_roles(sli: ir.SLI, series: list[Series]) -> None:
    """Verify by counting: with b bad events of n, the SLI's selectors must see exactly b bad and n total."""
    for bad, total in ((1, 10), (3, 10)):
        grow = {"bad": bad, "good": total - bad, "total": total}
        def seen(selector: ir.Selector, suffix: str = "", extra: tuple = ()) -> int:
            return sum(grow[s.role] for s in series if selects(selector, s.metric, dict(s.labels), suffix, extra))
        if isinstance(sli, ir.LatencySLI):
            ok = (seen(sli.histogram, "_count") == total
                  and seen(sli.histogram, "_bucket", (le_matcher(sli),)) == total - bad)
        else:
            part = seen(sli.bad) if sli.bad is not None else total - seen(sli.good)  # type: ignore[arg-type]
            ok = seen(sli.total) == total and part == bad  # type: ignore[arg-type]
        if not ok:
            raise NoProof("the synthetic series would not produce the intended error ratio")


@dataclass(frozen=True)
class Run:
    """A scenario's traffic, and a model of relc's rules on it under Prometheus 2 ([T-W, T]) and 3 ((T-W, T])."""

    n: int                                  # events per input step
    bad: tuple[tuple[int, int, int], ...]   # (from_s, to_s, bad per step) for steps ending in (from, to]
    eval_s: int
    end_s: int
    good_form: bool                         # bad = total - good, as good-based and latency SLIs compute it
    budget: float
    step_s: int = STEP_S                    # input resolution; finer when a window is under 4 steps
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    def count(self, role: str, t: int) -> int:
        """A counter's value at time t: n events per input step, of which the bad phases' share are bad."""
        bad = sum(b * (min(stop, t) - start) // self.step_s for start, stop, b in self.bad if t > start)
        return {"bad": bad, "good": self.n * (t // self.step_s) - bad, "total": self.n * (t // self.step_s)}[role]

    def values(self, role: str) -> str:
        """The counter in promtool's expanding notation (`a+bxn` is n+1 values), one run per phase."""
        cuts = sorted({0, self.end_s} | {min(x, self.end_s) for start, stop, _ in self.bad for x in (start, stop)})
        parts = []
        for a, b in zip(cuts, cuts[1:]):
            steps = (b - a) // self.step_s
            inc = (self.count(role, b) - self.count(role, a)) // steps
            first = self.count(role, a) + (inc if parts else 0)
            parts.append(f"{first}+{inc}x{steps if not parts else steps - 1}")
        return " ".join(parts)

    def rate(self, role: str, t: int, window: int, open_left: bool) -> float | None:
        """Prometheus' extrapolatedRate on the synthetic samples."""
        lo = t - window
        first = max(0, -(-lo // self.step_s) * self.step_s)
        first += self.step_s if open_left and first == lo else 0
        last = min(t, self.end_s) // self.step_s * self.step_s
        if last - first < self.step_s:
            return None
        v0, v1 = self.count(role, first), self.count(role, last)
        result, sampled = v1 - v0, last - first
        average = sampled / ((last - first) // self.step_s)
        to_start, to_end = first - lo, t - last
        if result > 0 and v0 >= 0:
            to_start = min(to_start, sampled * v0 / result)
        limit = average * 1.1
        span = sampled + (to_start if to_start < limit else average / 2) + (to_end if to_end < limit else average / 2)
        return result * span / sampled / window

    def bad_rate(self, t: int, window: int, open_left: bool) -> float | None:
        """As the rules write it: `bad or vector(0)`, or `total - (good or vector(0))`."""
        if self.good_form:
            total = self.rate("total", t, window, open_left)
            return None if total is None else total - (self.rate("good", t, window, open_left) or 0.0)
        return self.rate("bad", t, window, open_left) or 0.0

    def ratio(self, t: int, window: int, open_left: bool) -> float | None:
        """An error-ratio window: raw rates below a day, sums of the recorded 5m rates from a day on."""
        if window >= DERIVED_FROM_S:
            bad, total = self._sums(open_left)
            lo = t - window
            k0 = max(0, -(-lo // self.eval_s))
            k0 += 1 if open_left and k0 * self.eval_s == lo else 0
            k1 = t // self.eval_s + 1
            den = total[k1] - total[k0]
            return None if den <= 0 else (bad[k1] - bad[k0]) / den
        total, bad = self.rate("total", t, window, open_left), self.bad_rate(t, window, open_left)
        return None if not total or bad is None else bad / total

    def _sums(self, open_left: bool) -> tuple[list[float], list[float]]:
        """Prefix sums of the recorded 5m bad and total rates, one per evaluation, for day-plus windows."""
        if open_left not in self.cache:
            bad, total = [0.0], [0.0]
            for s in range(0, self.end_s + 1, self.eval_s):
                bad.append(bad[-1] + (self.bad_rate(s, BASE_WINDOW_S, open_left) or 0.0))
                total.append(total[-1] + (self.rate("total", s, BASE_WINDOW_S, open_left) or 0.0))
            self.cache[open_left] = (bad, total)
        return self.cache[open_left]

    def states(self, tier) -> list[str]:
        """Per evaluation: "fire" or "quiet" when both semantics agree with a margin, else "?"."""
        out = []
        for t in range(0, self.end_s + 1, self.eval_s):
            margins = [self._margin(tier, t, open_left) for open_left in (False, True)]
            out.append("fire" if min(margins) > EPS else "quiet" if max(margins) < -EPS else "?")
        return out

    def _margin(self, tier, t: int, open_left: bool) -> float:
        """How far (relative to the factor) the weaker of the tier's two windows is above its threshold."""
        factor, worst = float(tier.factor), math.inf
        for window in (tier.long, tier.short):
            ratio = self.ratio(t, window, open_left)
            if ratio is None:
                return -math.inf
            worst = min(worst, (ratio / self.budget - factor) / factor)
        return worst
