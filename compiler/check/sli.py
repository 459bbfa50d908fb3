"""SLI blocks: metric selectors and PromQL checked here, so every target can trust what it renders."""
from __future__ import annotations

import re
from decimal import Decimal

from relc.compiler import diagnostics as dg
from relc.compiler.model import ir
from relc.compiler.diagnostics import Diagnostic, Span
from relc.compiler.check.promql import (LABEL_NAME, METRIC_NAME, WINDOW_PLACEHOLDER, error_offset, render_selector, substitute_window,
                     syntax_error, unknown_placeholder)
from relc.compiler.check.reader import Reader, Shape, origin
from relc.compiler.syntax.tree import Block, Value

SLI_SHAPES = {
    "events": Shape(frozenset({"good", "bad", "total"}), frozenset({"datadog"}), label="named"),
    "latency": Shape(frozenset({"histogram", "native_histogram", "threshold", "le"}), frozenset({"datadog"}),
                     label="named"),
    "raw": Shape(frozenset({"error_ratio"}), frozenset({"datadog"}), label="named"),
    "timeslices": Shape(frozenset({"ratio", "histogram", "native_histogram", "slice", "good_if"}),
                        frozenset({"events", "datadog"}), label="named"),
}
DATADOG = Shape(frozenset({"good", "bad", "total"}))
QUERY_KINDS = ("selector", "ref", "raw", "string")
QUERY_EXPECTED = "a metric selector like http_requests_total{job=\"api\"} or a raw PromQL string"


def read_sli(block: Block, diags: list[Diagnostic]) -> ir.EventsSLI | ir.LatencySLI | ir.RawSLI | None:
    kind = block.label
    if kind not in SLI_SHAPES:
        hint = dg.did_you_mean(kind, SLI_SHAPES) if kind else None
        diags.append(dg.make("RELC312", f"unknown SLI kind `{kind}`" if kind else "the SLI kind is missing",
                             block.label_span or block.kind_span,
                             hint=hint or "write `sli events { ... }`, `sli latency { ... }`, `sli raw { ... }` or "
                                          "`sli timeslices { ... }`"))
        return None
    reader = Reader(block, SLI_SHAPES[kind], diags)
    return {"events": _events, "latency": _latency, "raw": _raw, "timeslices": _timeslices}[kind](reader, diags)


def read_datadog(sli_block: Block, diags: list[Diagnostic]) -> ir.DatadogQueries | None:
    """An optional `datadog { good|bad = "...", total = "..." }` inside the sli block: queries as Datadog reads them."""
    blocks = [b for b in sli_block.items if isinstance(b, Block) and b.kind == "datadog"]
    if not blocks:
        return None
    for extra in blocks[1:]:
        diags.append(dg.make("RELC314", "an SLI has at most one `datadog` block", extra.kind_span))
    reader = Reader(blocks[0], DATADOG, diags)
    good, bad = reader.string("good") or None, reader.string("bad") or None
    total = reader.string("total", required=True)
    if (good is None) == (bad is None):
        diags.append(dg.make("RELC304", "a datadog block needs exactly one of `good` or `bad`, plus `total`",
                             blocks[0].kind_span, hint='e.g. good = "sum:trace.http.request.hits{service:web,!http.status_class:5xx}.as_count()"'))
        return None
    if not total:
        return None
    return ir.DatadogQueries(good=good, bad=bad, total=total, origin=origin(blocks[0].span))


def _events(reader: Reader, diags: list[Diagnostic]) -> ir.EventsSLI | None:
    good = _query(reader, "good", diags)
    bad = _query(reader, "bad", diags)
    total = _query(reader, "total", diags, required=True)
    has_good, has_bad = "good" in reader.attrs, "bad" in reader.attrs
    if has_good == has_bad:
        diags.append(dg.make("RELC304", "an events SLI needs exactly one of `good` or `bad`",
                             reader.block.kind_span, hint="`bad` counts failed events, `good` successful ones"))
        return None
    if total is None or (good is None and bad is None):
        return None
    return ir.EventsSLI(good=good, bad=bad, total=total)


def _latency(reader: Reader, diags: list[Diagnostic]) -> ir.LatencySLI | None:
    native = "native_histogram" in reader.attrs
    if native and "histogram" in reader.attrs:
        diags.append(dg.make("RELC304", "a latency SLI reads exactly one of `histogram` (classic buckets) or "
                             "`native_histogram`", reader.attrs["native_histogram"].key_span))
        return None
    if native and "le" in reader.attrs:
        diags.append(dg.make("RELC312", "`le` names a classic bucket; a native histogram has none",
                             reader.attrs["le"].key_span, hint="set `threshold` only"))
        return None
    key = "native_histogram" if native else "histogram"
    value = reader.value(key, ("selector", "ref"), "a histogram metric selector", required=True,
                         hint=f"e.g. {key} = http_request_duration_seconds{{job=\"api\"}}")
    le = reader.string("le") if "le" in reader.attrs else None
    threshold = reader.value("threshold", ("duration", "number"), "a duration like 300ms", required=le is None,
                             hint="the latency a request must beat, e.g. threshold = 300ms")
    histogram = _selector(value, diags) if value is not None else None
    if histogram is not None:
        histogram = _checked_histogram(histogram, value, diags)  # type: ignore[arg-type]
    seconds = _threshold_seconds(reader, threshold, le, diags)
    if seconds is None or histogram is None:
        return None
    return ir.LatencySLI(histogram=histogram, threshold_seconds=float(seconds), le=le,  # type: ignore[arg-type]
                         native=native)


def _threshold_seconds(reader: Reader, threshold: Value | None, le: str | None,
                       diags: list[Diagnostic]) -> Decimal | None:
    """The bucket bound in seconds, from `threshold`, from `le`, or from both when they agree."""
    le_seconds = None
    if le is not None:
        try:
            le_seconds = Decimal(le)
        except ArithmeticError:
            le_seconds = None
        if le_seconds is None or not le_seconds.is_finite():
            diags.append(dg.make("RELC312", f"`le` must be a number as the exporter writes it, got {le!r}",
                                 reader.attrs["le"].value.span))
            return None
    if threshold is None:
        return le_seconds
    if threshold.kind != "duration":  # `500` could be 500ms or 500s; a guess here pages at once or never
        diags.append(dg.make("RELC312", f"`threshold` needs a unit: `{threshold.text}ms` or `{threshold.text}s`?",
                             threshold.span, hint="histogram buckets are in seconds; write the latency as a "
                                                  "duration, e.g. `threshold = 300ms`"))
        return None
    seconds = Decimal(threshold.data) / 1000
    if seconds <= 0:  # type: ignore[operator]
        diags.append(dg.make("RELC312", "`threshold` must be positive", threshold.span))
        return None
    if le_seconds is not None and le_seconds != seconds:
        diags.append(dg.make("RELC312", f"`threshold` ({seconds}s) and `le` ({le}) disagree", threshold.span,
                             hint="histogram buckets are in seconds; set one of them, or make them equal"))
        return None
    return seconds  # type: ignore[return-value]


def _checked_histogram(selector: ir.Selector, value: Value, diags: list[Diagnostic]) -> ir.Selector | None:
    for suffix in ("_bucket", "_count", "_sum"):
        if selector.metric.endswith(suffix):
            diags.append(dg.make("RELC312", f"name the histogram without `{suffix}`", value.span,
                                 hint=f"histogram = {selector.metric[: -len(suffix)]}{{...}}: relc adds "
                                      "_bucket and _count itself"))
            return None
    if any(m.name == "le" for m in selector.matchers):
        diags.append(dg.make("RELC312", "do not match on `le`; set `threshold` (or `le`) instead", value.span))
        return None
    return selector


def _raw(reader: Reader, diags: list[Diagnostic]) -> ir.RawSLI | None:
    value = reader.value("error_ratio", ("raw", "string"), "a raw PromQL string", required=True,
                         hint='e.g. error_ratio = r#"sum(rate(errors[$window])) / sum(rate(total[$window]))"#')
    if value is None:
        return None
    promql = _checked_promql(value, diags)
    return ir.RawSLI(error_ratio=promql) if promql is not None else None


def _query(reader: Reader, key: str, diags: list[Diagnostic], required: bool = False):
    value = reader.value(key, QUERY_KINDS, QUERY_EXPECTED, required=required)
    if value is None:
        return None
    if value.kind in ("raw", "string"):
        promql = _checked_promql(value, diags, aggregated=True)
        return ir.RawQuery(promql=promql) if promql is not None else None
    return _selector(value, diags)


def _selector(value: Value, diags: list[Diagnostic]) -> ir.Selector | None:
    """A selector literal (or a bare metric name) checked for names and regexes."""
    if value.kind == "ref":
        if len(value.data) != 1:  # type: ignore[arg-type]
            diags.append(dg.make("RELC307", f"`{value.text}` is not a valid metric name", value.span))
            return None
        metric, matchers = value.text, ()
    else:
        metric, matchers = value.data.metric, value.data.matchers  # type: ignore[union-attr]
    ok = True
    if not METRIC_NAME.match(metric):
        diags.append(dg.make("RELC307", f"`{metric}` is not a valid Prometheus metric name", value.span,
                             hint="metric names match [a-zA-Z_:][a-zA-Z0-9_:]*"))
        ok = False
    out = []
    for m in matchers:
        if m.ref is not None:
            diags.append(dg.make("RELC306", f"`{'.'.join(m.ref)}` is a pack parameter; parameters exist only "
                                 "inside a pack", m.span, hint="matcher values outside packs are strings"))
            ok = False
            continue
        if m.label == "__name__":
            diags.append(dg.make("RELC307", "do not match on `__name__`; write the metric name before the braces",
                                 m.span))
            ok = False
            continue
        if not LABEL_NAME.match(m.label):
            diags.append(dg.make("RELC307", f"`{m.label}` is not a valid Prometheus label name", m.span,
                                 hint="label names match [a-zA-Z_][a-zA-Z0-9_]*"))
            ok = False
            continue
        out.append(ir.LabelMatcher(name=m.label, op=m.op, value=m.value))
        if m.op in ("=~", "!~"):
            err = syntax_error(render_selector(ir.Selector(metric="m", matchers=(out[-1],))))
            if err:
                diags.append(dg.make("RELC308", f"invalid regular expression in `{m.label}{m.op}`: {err}", m.span))
                ok = False
    if not ok:
        return None
    selector = ir.Selector(metric=metric, matchers=tuple(out))
    # Names PromQL reads as numbers (`inf`, `nan`) fail here. The matchers were checked one by one above
    # (names by pattern, values quoted), so the name alone decides; the whole selector gives the message.
    err = syntax_error(f"rate({metric}[5m])") and syntax_error(f"rate({render_selector(selector)}[5m])")
    if err:
        diags.append(dg.make("RELC308", f"invalid selector: {err}", value.span))
        return None
    return selector


def _checked_promql(value: Value, diags: list[Diagnostic], aggregated: bool = False) -> str | None:
    """Raw PromQL with `$window`; event queries must also be instant vectors, which relc wraps in sum()."""
    promql = value.data.strip()  # type: ignore[union-attr]
    if value.tainted:
        diags.append(dg.make("RELC313", "pack params cannot be interpolated into PromQL", value.span,
                             hint="use a selector with the param as a matcher value, e.g. job=params.job, "
                                  "which relc quotes safely"))
        return None
    typo = unknown_placeholder(value.data)  # type: ignore[arg-type]
    if typo is not None:
        offset, name = typo
        diags.append(dg.make("RELC309", f"`{name}` is not a placeholder relc fills in", span_in(value, offset, len(name)),
                             hint=dg.did_you_mean(name, [WINDOW_PLACEHOLDER]) or
                             "`$window` is the one placeholder: relc substitutes each alert window"))
        return None
    if WINDOW_PLACEHOLDER not in promql:
        diags.append(dg.make("RELC309", "raw PromQL must use `$window` where the range goes", value.span,
                             hint="e.g. rate(my_errors_total[$window]); relc substitutes each alert window"))
        return None
    probe = substitute_window(promql, "5m")
    err = syntax_error(f"sum({probe})" if aggregated else probe)
    if err:
        hint = "an event query must return an instant vector; relc aggregates it with sum()" if aggregated else None
        offset = error_offset(value.data, err)  # type: ignore[arg-type]
        where = value.span if offset is None else span_in(value, offset, 1)
        diags.append(dg.make("RELC308", f"invalid PromQL: {err}", where, hint=hint))
        return None
    return promql


def span_in(value: Value, offset: int, width: int) -> Span:
    """The source span of characters offset..offset+width of a string value, when its text is written as is
    between its quotes (a raw string, or a plain one without escapes); else the whole value."""
    text, data = value.text, value.data
    start = next((len(q) for q in ('r#"', 'r"', '"') if text.startswith(q) and text[len(q):].startswith(data)), None)
    if start is None or value.span.line != value.span.end_line and "\n" not in text:
        return value.span
    before = text[:start + offset]
    line = value.span.line + before.count("\n")
    col = (value.span.col + len(before)) if "\n" not in before else len(before) - before.rfind("\n")
    return Span(value.span.path, line, col, line, col + max(width, 1))


GOOD_IF = re.compile(r"\s*(?:p(?P<q>\d+(?:\.\d+)?)\s+)?(?P<op><=|<)\s*(?P<value>\S+)\s*\Z")
MIN_SLICE_S, MAX_SLICE_S = 10, 3600


def _timeslices(reader: Reader, diags: list[Diagnostic]) -> ir.RawSLI | None:
    """`sli timeslices`: a slice is good when its error ratio (or latency quantile) is under `good_if`."""
    sources = [k for k in ("ratio", "histogram", "native_histogram") if k in reader.attrs] + \
        [b.kind for b in reader.blocks("events")]
    if len(sources) != 1:
        diags.append(dg.make("RELC304", "a timeslices SLI reads exactly one of `ratio` (an error ratio with "
                             "$window), an `events { }` block, or `histogram`/`native_histogram`",
                             reader.block.kind_span, hint='e.g. ratio = r#"sum(rate(errors[$window])) / '
                                                          'sum(rate(requests[$window]))"#, slice = 1m, '
                                                          'good_if = "< 1%"'))
        return None
    slice_s = reader.duration_s("slice", required=True)
    good_if = reader.value("good_if", ("string",), 'a condition like "< 1%" or "p99 < 300ms"', required=True)
    if slice_s is not None and not MIN_SLICE_S <= slice_s <= MAX_SLICE_S:
        diags.append(dg.make("RELC312", "`slice` must be between 10s and 1h", reader.attrs["slice"].value.span))
        slice_s = None
    latency = sources[0] != "ratio" and sources[0] != "events"
    condition = _good_if(good_if, latency, diags) if good_if is not None else None
    source = _slice_source(reader, sources[0], diags)
    if slice_s is None or condition is None or source is None:
        return None
    quantile, inclusive, threshold = condition
    return ir.RawSLI(kind="timeslices", slices=ir.TimeSlices(source=source, slice_s=slice_s, threshold=threshold,
                                                             quantile=quantile, inclusive=inclusive))


def _slice_source(reader: Reader, kind: str, diags: list[Diagnostic]):
    if kind == "events":
        block = reader.blocks("events")[0]
        return _events(Reader(block, SLI_SHAPES["events"], diags), diags)
    if kind == "ratio":
        value = reader.value("ratio", ("raw", "string"), "a raw PromQL string", required=True)
        promql = _checked_promql(value, diags) if value is not None else None
        return ir.RawQuery(promql=promql) if promql is not None else None
    value = reader.value(kind, ("selector", "ref"), "a histogram metric selector", required=True)
    selector = _selector(value, diags) if value is not None else None
    if selector is not None:
        selector = _checked_histogram(selector, value, diags)  # type: ignore[arg-type]
    if selector is None:
        return None
    return ir.LatencySLI(histogram=selector, threshold_seconds=0.0, native=kind == "native_histogram")


def _good_if(value: Value, latency: bool, diags: list[Diagnostic]) -> tuple[float | None, bool, float] | None:
    """(quantile, inclusive, threshold) from `"< 1%"` (a slice's error ratio) or `"p99 < 300ms"` (its latency)."""
    found = GOOD_IF.match(str(value.data))
    example = '"p99 < 300ms"' if latency else '"< 1%"'
    if found is None or (found["q"] is not None) != latency:
        diags.append(dg.make("RELC312", f"cannot read `good_if = {value.text}`", value.span,
                             hint=f"write {example}: a slice is good when its "
                                  f"{'latency quantile' if latency else 'error ratio'} is under the bound"))
        return None
    bound = found["value"]
    try:
        if latency:
            from relc.compiler.units import parse_duration_ms

            if not re.fullmatch(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h))+", bound):
                raise ValueError(bound)
            threshold = float(parse_duration_ms(bound)) / 1000
            quantile = float(found["q"]) / 100
            if not 0 < quantile < 1:
                raise ValueError(bound)
        else:
            if not bound.endswith("%"):
                raise ValueError(bound)
            threshold, quantile = float(Decimal(bound[:-1]) / 100), None
    except (ValueError, ArithmeticError):
        diags.append(dg.make("RELC312", f"cannot read the bound `{bound}` of `good_if`", value.span,
                             hint=f"write {example}"))
        return None
    if not 0 < threshold < (float("inf") if latency else 1):
        diags.append(dg.make("RELC312", f"the bound of `good_if` must be above 0{'' if latency else ' and under 100%'}",
                             value.span))
        return None
    return quantile, found["op"] == "<=", threshold
