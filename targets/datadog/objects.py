"""Datadog objects for one SLO: the metric-based SLO and its burn-rate monitors, as API payloads."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from urllib.parse import quote

from relc.compiler.model import ir as ir
from relc.compiler.units import fmt_number, fmt_percent, human_duration, human_percent
from relc.targets import Options
from relc.targets.datadog.query import Untranslatable, tag_text
from relc.targets.prometheus.rules import runbook_url

TIMEFRAMES = {7 * 86400: "7d", 30 * 86400: "30d", 90 * 86400: "90d"}
LONG_MIN_S, LONG_MAX_S = 3600, 48 * 3600
RECOMMENDED = ((3600, 300), (6 * 3600, 1800), (24 * 3600, 7200))  # Datadog's burn-rate table (long, short)
PLACEHOLDER = "<RELC_SLO_ID:{key}>"


@dataclass(frozen=True)
class Settings:
    """The non-query -O datadog.* settings: tags, notification handles, priorities, timeframe rule."""

    env: str = ""
    handles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    priorities: dict[str, int] = field(default_factory=lambda: {"page": 1, "ticket": 3})
    nearest_timeframe: bool = False


@dataclass(frozen=True)
class Tier:
    """An alert tier as Datadog will run it; `mapped` says relc moved it inside Datadog's limits."""

    source: ir.AlertTier
    long_s: int
    short_s: int
    factor: float
    mapped: bool


def timeframe(slo: ir.SLO, nearest: bool) -> tuple[str, bool]:
    """Datadog SLOs roll over 7, 30 or 90 days; (timeframe, exact)."""
    if slo.window_s in TIMEFRAMES:
        return TIMEFRAMES[slo.window_s], True
    if not nearest:
        raise Untranslatable(f"window {human_duration(slo.window_s)} is not a Datadog SLO timeframe (7d, 30d or 90d)",
                             "use one of them, or -O datadog.timeframe=nearest to round to the nearest",
                             r"\bwindow\s*=")
    best = min(TIMEFRAMES, key=lambda s: (abs(math.log(s / slo.window_s)), s))
    return TIMEFRAMES[best], False


def target_percent(slo: ir.SLO) -> Decimal:
    """The objective in percent; Datadog's metric SLOs take at most three decimal places."""
    target = Decimal(fmt_number(slo.objective * 100))
    if target.as_tuple().exponent < -3:  # type: ignore[operator]
        raise Untranslatable(f"objective {fmt_percent(slo.objective)} has more than three decimal places, "
                             "the most a Datadog metric SLO target takes", None, r"\bobjective\s*=")
    return target


def warning_percent(slo: ir.SLO, target: Decimal) -> Decimal | None:
    """Where the budget policy's first step begins: objective + remaining x budget, in percent."""
    policy = slo.budget_policy
    steps = [t.remaining for t in policy.thresholds if 0 < t.remaining < 1] if policy else []
    if not steps:
        return None
    objective = Decimal(fmt_number(slo.objective))
    value = (objective + Decimal(fmt_number(max(steps))) * (1 - objective)) * 100
    value = value.quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN).normalize()
    return value if target < value < 100 else None


def datadog_tiers(slo: ir.SLO) -> list[Tier]:
    """Each tier inside Datadog's limits; outside them, Datadog's nearest recommended window pair."""
    tiers = []
    for tier in slo.alert_policy.tiers if slo.alert_policy else ():
        if _within_limits(tier.long_window_s, tier.short_window_s):
            tiers.append(Tier(tier, tier.long_window_s, tier.short_window_s, tier.burn_rate, False))
            continue
        long_s, short_s = min(RECOMMENDED, key=lambda r: (abs(math.log(r[0] / tier.long_window_s)), r[0]))
        factor = float(fmt_number(tier.budget_consumed * slo.window_s / long_s))  # same share of budget
        tiers.append(Tier(tier, long_s, short_s, factor, True))
    return tiers


def _within_limits(long_s: int, short_s: int) -> bool:
    """Long window in whole hours from 1h to 48h; short window in whole minutes, shorter than the long."""
    return (long_s % 3600 == 0 and LONG_MIN_S <= long_s <= LONG_MAX_S and short_s % 60 == 0
            and 60 <= short_s < long_s)


def slo_payload(slo: ir.SLO, service: ir.Service, queries: tuple[str, str], tf: str, settings: Settings,
                options: Options) -> dict:
    """The body of POST /api/v1/slo for a metric-based SLO."""
    target = target_percent(slo)
    threshold: dict = {"timeframe": tf, "target": float(target)}
    body: dict = {"name": f"{slo.service}/{slo.name}", "type": "metric", "description": _slo_text(slo, options),
                  "query": {"numerator": queries[0], "denominator": queries[1]}, "thresholds": [threshold],
                  "timeframe": tf, "target_threshold": float(target), "tags": object_tags(slo, service, settings)}
    warning = warning_percent(slo, target)
    if warning is not None:
        threshold["warning"] = body["warning_threshold"] = float(warning)
    return body


def _slo_text(slo: ir.SLO, options: Options) -> str:
    """The description people read in Datadog: what the SLO means, where its runbook is, who owns the text."""
    lead = slo.description or f"{slo.service}/{slo.name}"
    return (f"{lead}\n\nRunbook: {runbook_page(slo, options)}\n\n"
            "Generated by relc; change the .relc source, not this SLO.")


def runbook_page(slo: ir.SLO, options: Options) -> str:
    """The runbook page itself (no tier anchor), for the SLO's description."""
    return runbook_url(slo, "", options).removesuffix("#")


def object_tags(slo: ir.SLO, service: ir.Service, settings: Settings, extra: dict[str, str] | None = None) -> list[str]:
    """service, slo, team (the owner), env and the SLO's labels, as normalised `key:value` tags."""
    pairs = {"service": slo.service, "slo": slo.name, "managed-by": "relc", **slo.labels, **(extra or {})}
    if service.owner:
        pairs["team"] = service.owner
    if settings.env:
        pairs["env"] = settings.env
    memo = _TAG_PAIRS
    if len(memo) > 50_000:  # pairs repeat across a project's objects; odd inputs do not pin memory
        memo.clear()
    tags = set()
    for pair in pairs.items():
        if pair[1]:
            tag = memo.get(pair)
            if tag is None:
                tag = memo[pair] = f"{tag_text(pair[0])}:{tag_text(pair[1])}"[:200]
            tags.add(tag)
    return sorted(tags)


_TAG_PAIRS: dict[tuple[str, str], str] = {}


def monitor_payload(slo: ir.SLO, service: ir.Service, tier: Tier, tf: str, key: str, settings: Settings,
                    options: Options) -> dict:
    """The body of POST /api/v1/monitor for one burn-rate tier; the SLO id is a placeholder."""
    source = tier.source
    policy = slo.alert_policy
    extra = {"severity": source.severity, "alert_tier": source.name, **(policy.labels if policy else {}),
             **source.labels}
    body: dict = {"name": f"{slo.service}/{slo.name}: error budget burn, tier {source.name} "
                          f"({literal(source.severity)})",
                  "type": "slo alert", "query": burn_query(PLACEHOLDER.format(key=key), tf, tier),
                  "message": burn_message(slo, tier, tf, settings, options),
                  "tags": object_tags(slo, service, settings, extra),
                  "options": {"thresholds": {"critical": tier.factor}}}
    if source.severity in settings.priorities:
        body["priority"] = settings.priorities[source.severity]
    return body


def burn_query(slo_id: str, tf: str, tier: Tier) -> str:
    """Datadog's documented form: burn_rate("id").over("30d").long_window("1h").short_window("5m") > 14.4."""
    return (f'burn_rate("{slo_id}").over("{tf}").long_window("{tier.long_s // 3600}h")'
            f'.short_window("{tier.short_s // 60}m") > {fmt_number(tier.factor)}')


def burn_message(slo: ir.SLO, tier: Tier, tf: str, settings: Settings, options: Options) -> str:
    """Monitor text: relc's summary, the SLO's description, the runbook, then the severity's handles."""
    source, policy = tier.source, slo.alert_policy
    notes = {**(policy.annotations if policy else {}), **source.annotations}
    long_h, short_h = human_duration(tier.long_s), human_duration(tier.short_s)
    summary = notes.pop("summary", f"{slo.service}/{slo.name} is burning its error budget too fast "
                                   f"({source.severity})")
    explained = (f"The {slo.service}/{slo.name} SLO ({fmt_percent(slo.objective)} over {tf}) is burning its "
                 f"error budget at {fmt_number(tier.factor)}x the sustainable rate or faster over the last "
                 f"{long_h} (and the last {short_h}): {human_percent(_consumed(slo, tier))} of the budget or more "
                 f"in {long_h}.")
    description = notes.pop("description", slo.description)
    link = notes.pop("runbook_url", runbook_url(slo, f"tier-{source.name}", options))
    lines = [literal(summary), "", explained]
    if description:
        lines += ["", literal(description)]
    lines += ["", f"Runbook: {safe_url(link)}"]
    lines += [f"{literal(k)}: {literal(v)}" for k, v in sorted(notes.items())]
    handles = settings.handles.get(source.severity, ())
    if handles:
        lines += ["", "Notify: " + " ".join(handles)]
    return "\n".join(lines)


def _consumed(slo: ir.SLO, tier: Tier) -> float:
    """Share of the SLO's budget a burn at the tier's factor spends in its long window."""
    return tier.factor * tier.long_s / slo.window_s


def literal(text: str) -> str:
    """Source text stays text: no `{{...}}` template variable and no `@handle` notification survives."""
    if "{{" in text or "}}" in text:  # without either, both substitutions would leave the text as it is
        text = re.sub(r"\{(?=\{)", "{ ", text)
        text = re.sub(r"\}(?=\})", "} ", text)
    return text.replace("@", "(at)")


_URL_SAFE = re.compile(r"[A-Za-z0-9:/?#&=%+,;~!$'*._-]*\Z")  # what quote() keeps, with the `safe` below


def safe_url(url: str) -> str:
    """A link Datadog neither templates nor notifies from: braces, `@` and spaces percent-encoded."""
    if _URL_SAFE.match(url):  # nothing to encode, as most links have
        return url
    return quote(url, safe=":/?#&=%+,;~!$'*-._")
