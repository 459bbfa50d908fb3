"""`relc doctor`: will these SLOs work on this install? Each SLI selector and relc's rules checked on the server.

Queries are batched by metric (one query answers every selector of a metric: matched over the lookback, fresh now,
share of decreasing samples), run on a bounded thread pool, and every finding is an ordinary located diagnostic.
"""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Callable

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic, Span
from relc.compiler.live.client import NotServed, PrometheusAPI, QueryFailed
from relc.compiler.live.probes import ANY, COUNTER, HISTOGRAM, Probe, probes
from relc.compiler.model import ir
from relc.compiler.units import human_duration, prom_duration

STALE_AFTER_S = 300        # Prometheus' own lookback: a series without a sample for 5m drops out of instant queries
RESET_SHARE = 0.05         # a counter decreases only when its process restarts; a gauge does so all the time
POSITIVE = ("=", "=~")


@dataclass
class Doctor:
    """One doctor run's settings and what it found."""

    api: PrometheusAPI
    now: float
    lookback_s: int = 3600
    concurrency: int = 8
    tick: Callable[[str, int, int], None] = lambda label, done, total: None
    texts: dict[str, str] = field(default_factory=dict)   # source texts, to point at the selector itself
    found: list[Diagnostic] = field(default_factory=list)

    @property
    def start(self) -> float:
        return self.now - self.lookback_s

    def check_sources(self, project: ir.Project) -> None:
        """Every SLI selector against the series the server holds, batched by metric."""
        by_metric: dict[str, list[Probe]] = {}
        for slo in project.slos():
            for probe in probes(slo):
                by_metric.setdefault(probe.metric, []).append(probe)
        names = set(self.api.label_values("__name__", None, self.start, self.now))
        metadata = self.api.metadata()
        metrics = sorted(by_metric)
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency), thread_name_prefix="relc-doctor") as pool:
            jobs = [pool.submit(self._check_metric, metric, by_metric[metric], names, metadata) for metric in metrics]
            for done, job in enumerate(jobs, 1):
                self.found += job.result()
                self.tick("checking metrics", done, len(jobs))

    def _check_metric(self, metric: str, group: list[Probe], names: set[str], metadata: dict) -> list[Diagnostic]:
        if not metric:
            return []  # a selector without a name ({job="x"}) is checked through the rest of its query
        if metric not in names:
            hint = dg.did_you_mean(metric, names) or _few("metrics on this server", sorted(names))
            return [self._at(p, "RELC701", f"no series of `{metric}` in the last {human_duration(self.lookback_s)}"
                        f" ({p.role} of {_slo(p.slo)})", hint) for p in _unique(group)]
        labels = set(self.api.label_names(metric, self.start, self.now))
        out: list[Diagnostic] = []
        usable = []
        for probe in _unique(group):
            missing = [n for n, op, v in probe.matchers if op in POSITIVE and v != "" and n not in labels]
            if missing:
                out.append(self._at(probe, "RELC702",
                               f"label `{missing[0]}` never appears on `{metric}` ({probe.role} of {_slo(probe.slo)})",
                               dg.did_you_mean(missing[0], labels) or _few("its labels", sorted(labels))))
            else:
                usable.append(probe)
        if usable:
            out += self._check_series(metric, usable, metadata)
        return out

    def _check_series(self, metric: str, group: list[Probe], metadata: dict) -> list[Diagnostic]:
        window = prom_duration(self.lookback_s)
        parts = []
        for i, probe in enumerate(group):
            sel = probe.text
            parts += [_tag(f"count(last_over_time({sel}[{window}]))", f"m{i}"), _tag(f"count({sel})", f"f{i}")]
            if probe.expect == COUNTER:
                parts.append(_tag(f"max(resets({sel}[{window}]) / count_over_time({sel}[{window}]))", f"r{i}"))
        try:
            rows = self.api.query(" or ".join(parts), self.now)
        except QueryFailed as err:
            return [self._at(p, "RELC710", f"the server refused the query for `{metric}`: {err}") for p in group]
        values = {row.labels.get("relc_probe", ""): row.value for row in rows}
        out = []
        for i, probe in enumerate(group):
            if not values.get(f"m{i}"):
                out.append(self._no_match(probe))
            elif not values.get(f"f{i}"):
                out.append(self._at(probe, "RELC705", f"`{probe.text}` has series, but none has a sample in the last "
                                f"{human_duration(STALE_AFTER_S)} ({probe.role} of {_slo(probe.slo)})",
                                "the target may be down or no longer scraped; burn-rate alerts cannot see its errors"))
            else:
                out += self._check_kind(probe, metadata, values.get(f"r{i}"))
                if probe.metric.endswith("_bucket") and isinstance(probe.slo.sli, ir.LatencySLI):
                    out += self._check_bucket(probe)
        return out

    def _no_match(self, probe: Probe) -> Diagnostic:
        """A selector over an existing metric that matches nothing: which matcher, and the values that exist."""
        hint = None
        for name, op, value in probe.matchers:
            if op != "=":
                continue
            values = self.api.label_values(name, probe.metric, self.start, self.now)
            if value not in values:
                hint = (f"`{name}` on `{probe.metric}` is never {value!r}; "
                        + (dg.did_you_mean(value, values) or _few("values", sorted(values)) or "it has no values"))
                break
        return self._at(probe, "RELC701", f"`{probe.text}` matches no series in the last "
                   f"{human_duration(self.lookback_s)} ({probe.role} of {_slo(probe.slo)}); the SLO would look "
                   "perfect while measuring nothing", hint)

    def _check_kind(self, probe: Probe, metadata: dict, reset_share: float | None) -> list[Diagnostic]:
        """A counter by the metadata API's type, or, where the server keeps no metadata, by its samples."""
        if probe.expect == ANY:
            return []
        types = {entry.get("type") for entry in metadata.get(probe.family, [])} - {None, "", "unknown"}
        wanted = {"counter"} if probe.expect == COUNTER else {"histogram"}
        if types and not types & wanted:
            return [self._at(probe, "RELC703", f"`{probe.family}` is a {'/'.join(sorted(types))}, not a "
                        f"{'/'.join(sorted(wanted))} ({probe.role} of {_slo(probe.slo)}); rate() over it is meaningless",
                        "an events SLI counts with counters: use the counter the gauge is derived from")]
        if not types and reset_share is not None and reset_share > RESET_SHARE:
            return [self._at(probe, "RELC703", f"`{probe.text}` decreases in {reset_share:.0%} of its samples over "
                        f"the last {human_duration(self.lookback_s)}: it behaves like a gauge, not a counter "
                        f"({probe.role} of {_slo(probe.slo)})", "counters only go down when a process restarts",
                        severity=dg.Severity.WARNING)]
        return []

    def _check_bucket(self, probe: Probe) -> list[Diagnostic]:
        """The threshold must be a bucket bound, in whatever spelling the exporter writes (0.25, 2.5e-01)."""
        sli = probe.slo.sli
        assert isinstance(sli, ir.LatencySLI)
        wanted = Decimal(sli.le) if sli.le is not None else Decimal(repr(sli.threshold_seconds))
        raw = self.api.label_values("le", probe.text, self.start, self.now)
        bounds = sorted({_decimal(v) for v in raw} - {None})
        if wanted in bounds:
            return []
        finite = [b for b in bounds if b.is_finite()]
        nearest = min(finite, key=lambda b: abs(b - wanted), default=None)
        shown = ", ".join(_fmt(b) for b in bounds) or "none"
        return [self._at(probe, "RELC704", f"`{probe.metric}` has no bucket at the threshold {_fmt(wanted)}s "
                    f"({_slo(probe.slo)}): every request would count as too slow; its bounds are {shown}",
                    f"the nearest bound is {_fmt(nearest)}s: set the threshold to it, or add the bucket in the "
                    "service's histogram" if nearest is not None else None)]

    def _at(self, probe: Probe, code: str, message: str, hint: str | None = None,
            severity: dg.Severity = dg.Severity.ERROR) -> Diagnostic:
        """A finding at the selector's metric name in the source, else at the SLO."""
        span = selector_span(self.texts, probe.slo, probe.family if probe.expect == HISTOGRAM else probe.metric,
                             probe.role)
        return _at(probe.slo, code, message, hint, severity, span)

    def check_rules(self, project: ir.Project, expected: dict[str, list[dict]]) -> None:
        """relc's rule groups for these SLOs: loaded, healthy, and the same as this build would write."""
        from relc.compiler.live.rules_diff import compare_group

        try:
            loaded = {g.get("name"): g for g in self.api.rule_groups()}
        except NotServed as err:
            raise NotServed(f"{err}: it keeps no rules (the ruler may be a separate service); run doctor with "
                            "--no-rules, or point --prometheus at the API that serves /api/v1/rules") from None
        for slo in project.slos():
            name = f"relc-{slo.service}-{slo.name}"
            group = loaded.get(name)
            if group is None:
                self.found.append(_at(slo, "RELC706", f"rule group `{name}` is not loaded on the server",
                                      f"load {slo.service}.rules.yml from `relc build -t prometheus` into its "
                                      "rule_files (or the ruler), or run doctor with --no-rules before deploying"))
                continue
            bad = [r for r in group.get("rules", []) if r.get("health") == "err" or r.get("lastError")]
            if bad:
                first = bad[0]
                self.found.append(_at(slo, "RELC707", f"rule group `{name}`: {len(bad)} rule(s) fail to evaluate, "
                                      f"first `{first.get('name')}`: {first.get('lastError', '')[:300]}"))
            difference = compare_group(expected.get(name, []), group.get("rules", []))
            if difference:
                self.found.append(_at(slo, "RELC708", f"rule group `{name}` on the server differs from what this "
                                      f"source builds: {difference}",
                                      "deploy the output of `relc build -t prometheus` for this source"))


def _tag(expr: str, tag: str) -> str:
    return f'label_replace({expr}, "relc_probe", "{tag}", "", "")'


def _unique(group: list[Probe]) -> list[Probe]:
    """One probe per SLO and selector (an SLO may read the same selector twice, e.g. for _count and bad)."""
    seen, out = set(), []
    for probe in group:
        key = (id(probe.slo), probe.text)
        if key not in seen:
            seen.add(key)
            out.append(probe)
    return out


def _slo(slo: ir.SLO) -> str:
    return f"SLO {slo.service}/{slo.name}"


def _at(slo: ir.SLO, code: str, message: str, hint: str | None = None,
        severity: dg.Severity = dg.Severity.ERROR, span: Span | None = None) -> Diagnostic:
    """A finding at `span`, else at the SLO's definition."""
    span = span or Span.point(slo.origin.path, slo.origin.line, slo.origin.col, len("slo"))
    return dg.make(code, message, span, hint=hint, severity=severity)


_NEXT_SLO = re.compile(r"^\s*slo\s")


def selector_span(texts: dict[str, str], slo: ir.SLO, metric: str, role: str = "") -> Span | None:
    """Where the SLO's text names the metric, on its `role =` line if there is one: the model keeps no position
    per selector, so the SLO's lines are searched up to the next `slo`; None when the name is not written there
    (a pack's parameter, say)."""
    text = texts.get(slo.origin.path)
    if not text or not metric:
        return None
    pattern = re.compile(r"(?<![A-Za-z0-9_:])" + re.escape(metric) + r"(?![A-Za-z0-9_:])")
    assigned = re.compile(r"^\s*" + re.escape(role) + r"\s*=") if role else None
    lines, first = text.splitlines(), None
    for index in range(slo.origin.line - 1, min(len(lines), slo.origin.line + 400)):
        if index > slo.origin.line - 1 and _NEXT_SLO.match(lines[index]):
            break
        found = pattern.search(lines[index])
        if found:
            span = Span(slo.origin.path, index + 1, found.start() + 1, index + 1, found.end() + 1)
            if assigned is None or assigned.match(lines[index]):
                return span
            first = first or span
    return first


def _few(what: str, items: list[str], limit: int = 8) -> str | None:
    if not items:
        return None
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return f"{what}: {', '.join(items[:limit])}{more}"


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip()) if text.strip().lower() not in ("+inf", "inf") else Decimal("Infinity")
    except InvalidOperation:
        return None


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return "?"
    if value.is_infinite():
        return "+Inf"
    return format(value.normalize(), "f")


def check_routing(found: list[Diagnostic], project: ir.Project, expected: dict[str, list[dict]], routing) -> None:
    """Every alert relc would raise for these SLOs must reach a receiver that notifies someone."""
    for slo in project.slos():
        silent: dict[str, tuple[list[str], list[str]]] = {}
        for rule in expected.get(f"relc-{slo.service}-{slo.name}", []):
            if "alert" not in rule:
                continue
            labels = {"alertname": rule["alert"], **rule.get("labels", {})}
            receivers = routing.silent_receivers(labels)
            if receivers:
                tiers, _ = silent.setdefault(labels.get("severity", ""), ([], receivers))
                tiers.append(labels.get("alert_tier", rule["alert"]))
        for severity, (tiers, receivers) in sorted(silent.items()):
            found.append(_at(slo, "RELC709", f"{_slo(slo)}: alerts of severity `{severity}` ({', '.join(tiers)}) "
                             f"reach only receiver(s) {', '.join(f'`{r}`' for r in receivers)}, which notify nobody",
                             f"add a route matching severity=\"{severity}\" to a receiver with an integration"))
