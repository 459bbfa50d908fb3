"""A made-up install for any project: series that every SLI selector of the project matches, as counters (or
gauges, for raw queries), so `relc doctor` finds nothing and report, gate and replay have history to read.

Used by the docs' live examples (the shop) and benchmarks/live.py (1 000 SLOs). Regular-expression matchers
get a value they match; negative matchers leave the label out; bad events are 0.02% of the total, so no
burn-rate tier of an SLO up to 99.95% fires.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from relc.compiler.live.probes import ANY, probes  # noqa: E402
from relc.compiler.model import ir  # noqa: E402

TOTAL_PER_S, BAD_SHARE = 10.0, 0.0002  # bad events at a fifth of the tightest budget (99.95%)


def matching_value(pattern: str) -> str | None:
    """A value a Prometheus regular expression matches (its first alternative, `.` read as `0`), or None."""
    first = pattern.split("|")[0]
    classes = re.sub(r"\[([^]\\^])[^]]*]", r"\1", re.sub(r"\\d", "0", first))
    for candidate in (classes.replace(".", "0"), first.replace(".", "0"), first):
        plain = candidate.replace("\\", "")
        try:
            if re.fullmatch(pattern, plain):
                return plain
        except re.error:
            return None
    return None


def labels_for(matchers) -> dict[str, str]:
    out = {}
    for name, op, value in matchers:
        if op == "=" and value:
            out[name] = value
        elif op == "=~":
            chosen = matching_value(value)
            if chosen:
                out[name] = chosen
    return out


def other_value(name: str, value: str) -> str:
    """A value of the same label that a bad (or good) selector does not match."""
    return {"code": "200", "outcome": "failure", "result": "fresh"}.get(name, f"not-{value}" if value else "other")


def series_for(project: ir.Project, start: int, end: int, step: int = 60) -> list:
    """Every series the project's SLIs read, from start to end (unix seconds), one sample per step."""
    found: dict[tuple, tuple] = {}

    def counter(name: str, labels: dict, rate: float) -> None:
        key = (name, tuple(sorted(labels.items())))
        if key not in found:
            found[key] = (name, labels, [(t, round((t - start) * rate, 6)) for t in range(start, end + 1, step)])

    for slo in project.slos():
        chosen = probes(slo)
        if isinstance(slo.sli, ir.LatencySLI):
            _histogram(slo.sli, labels_for(chosen[0].matchers), counter)
            continue
        for probe in chosen:
            labels = labels_for(probe.matchers)
            if probe.expect == ANY:
                key = (probe.metric, tuple(sorted(labels.items())))
                found.setdefault(key, (probe.metric, labels, [(t, 30.0) for t in range(start, end + 1, step)]))
            elif probe.role in ("bad", "good"):
                share = BAD_SHARE if probe.role == "bad" else 1 - BAD_SHARE
                counter(probe.metric, labels, TOTAL_PER_S * share)
                total = next((p for p in chosen if p.role == "total"), None)
                extra = {k: v for k, v in labels.items() if total is None or k not in labels_for(total.matchers)}
                counter(probe.metric, {**labels, **{k: other_value(k, v) for k, v in extra.items()}},
                        TOTAL_PER_S * (1 - share))
    return list(found.values())


def _histogram(sli: ir.LatencySLI, labels: dict, counter) -> None:
    threshold = float(sli.le) if sli.le is not None else sli.threshold_seconds
    name = sli.histogram.metric
    for le, share in ((threshold / 2, 0.9), (threshold, 1 - BAD_SHARE), (threshold * 4, 1.0)):
        counter(f"{name}_bucket", {**labels, "le": repr(le)}, TOTAL_PER_S * share)
    counter(f"{name}_bucket", {**labels, "le": "+Inf"}, TOTAL_PER_S)
    counter(f"{name}_count", labels, TOTAL_PER_S)


def types_for(series: list) -> dict[str, str]:
    """OpenMetrics types promserver.openmetrics needs: histogram parts and gauges by their own names."""
    out = {}
    for name, _labels, samples in series:
        if name.endswith(("_bucket", "_count")) or not name.endswith("_total"):
            out[name] = "unknown" if name.endswith(("_bucket", "_count")) else "gauge"
    return out
