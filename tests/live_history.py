"""Synthetic history with known outages for the live commands' tests, and the figures it implies, computed here
from the counters themselves (exact sums over one-minute steps), independently of relc's PromQL."""
from __future__ import annotations

import time
from bisect import bisect_left
from dataclasses import dataclass

STEP = 60                       # seconds between samples
DAY = 86400
TOTAL_RATE = 10.0               # requests per second, always
BASE_ERRORS = 0.002             # errors per second outside outages
RECORDED_BAD = 0.02             # the recorded bad-event rate of legacy/gone: 0.2% of TOTAL_RATE


@dataclass(frozen=True)
class Outage:
    start: int
    end: int
    errors_per_s: float


class History:
    """36 days of an `api` service ending at `end` (a whole minute): two outages, a latency histogram, a stale
    series, a gauge, and the ALERTS series Prometheus would have written for the first outage."""

    def __init__(self, end: int | None = None):
        self.end = end if end is not None else int(time.time()) // STEP * STEP
        self.start = self.end - 36 * DAY
        self.outage_a = Outage(self.end - 20 * DAY, self.end - 20 * DAY + 1800, 5.0)     # 50% errors, 30m
        self.outage_b = Outage(self.end - 5 * DAY, self.end - 5 * DAY + 7200, 0.4)       # 4% errors, 2h
        self.alert = (self.outage_a.start + 120, self.outage_a.end + 240)                # ALERTS firing, [from, to)
        self.times = list(range(self.start, self.end + 1, STEP))
        self.bad = self._cumulative(self.error_rate)
        self.total = self._cumulative(lambda t: TOTAL_RATE)

    def error_rate(self, t: int) -> float:
        for outage in (self.outage_a, self.outage_b):
            if outage.start <= t < outage.end:
                return outage.errors_per_s
        return BASE_ERRORS

    def slow_rate(self, t: int) -> float:
        """Requests slower than 250ms per second: 0.5% normally, half of them during outage A."""
        return 5.0 if self.outage_a.start <= t < self.outage_a.end else 0.05

    def _cumulative(self, rate) -> list[float]:
        values, acc = [], 0.0
        for t in self.times:
            values.append(round(acc, 6))
            acc += rate(t) * STEP
        return values

    def at(self, values: list[float], t: float) -> float:
        """A counter's value at a sample time (t is on the one-minute grid)."""
        return values[bisect_left(self.times, t)]

    def ratio(self, lo: float, hi: float) -> float:
        """Error ratio over [lo, hi], from the counters."""
        return (self.at(self.bad, hi) - self.at(self.bad, lo)) / (self.at(self.total, hi) - self.at(self.total, lo))

    def series(self) -> list:
        """Every series, as promserver.backfill takes them."""
        job = {"job": "api", "instance": "api-1:8080"}
        cum_slow = self._cumulative(self.slow_rate)
        out = [("http_requests_total", job | {"code": "500"}, list(zip(self.times, self.bad))),
               ("http_requests_total", job | {"code": "200"},
                [(t, round(n - b, 6)) for t, n, b in zip(self.times, self.total, self.bad)])]
        buckets = {"0.1": 0.4, "2.5e-01": None, "1.0": 1.0, "+Inf": 1.0}  # bounds spelt as exporters do
        for le, share in buckets.items():
            values = ([round(n - s, 6) for n, s in zip(self.total, cum_slow)] if share is None
                      else [round(n * share, 6) for n in self.total])
            out.append(("http_request_duration_seconds_bucket", job | {"le": le}, list(zip(self.times, values))))
        out.append(("http_request_duration_seconds_count", job, list(zip(self.times, self.total))))
        stale_until = self.end - 1800
        out.append(("legacy_requests_total", {"job": "old"}, [(t, float(t - self.start)) for t in self.times
                                                               if t <= stale_until]))
        out.append(("inflight_requests", job, [(t, float((t // STEP) % 7)) for t in self.times]))
        recorded = {"service": "legacy", "slo": "gone"}  # relc's 5m series of an SLO whose raw metrics are gone
        out.append(("relc_slo:bad_events:rate5m", recorded, [(t, RECORDED_BAD) for t in self.times]))
        out.append(("relc_slo:total_events:rate5m", recorded, [(t, TOTAL_RATE) for t in self.times]))
        firing = {"alertname": "ApiAvailabilityBudgetBurn", "alertstate": "firing", "service": "api",
                  "slo": "availability", "severity": "page", "alert_tier": "page-fast"}
        out.append(("ALERTS", firing, [(t, 1.0) for t in range(self.alert[0], self.alert[1], STEP)]))
        return out

    TYPES = {"relc_slo:bad_events:rate5m": "gauge", "relc_slo:total_events:rate5m": "gauge",
             "http_request_duration_seconds_bucket": "unknown", "http_request_duration_seconds_count": "unknown",
             "inflight_requests": "gauge", "ALERTS": "gauge"}
