"""The -O datadog.* settings, parsed and checked before anything is generated (free-text ones are RELC403)."""
from __future__ import annotations

import re

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic
from relc.compiler.check.promql import LABEL_NAME, METRIC_NAME
from relc.targets import Options
from relc.targets.datadog.objects import Settings
from relc.targets.datadog.query import DD_METRIC, Mapping

HANDLE = re.compile(r"@[A-Za-z0-9][A-Za-z0-9_.@+-]*\Z")
TAG = re.compile(r"[a-z][a-z0-9_\-:./]*\Z")


def read_options(options: Options, diags: list[Diagnostic]) -> tuple[Mapping, Settings]:
    """Mapping for queries, Settings for objects; every malformed value is reported, not guessed at."""
    namespace = options.get("datadog.namespace")
    if namespace and not DD_METRIC.match(namespace):
        _bad(diags, "datadog.namespace", namespace, "a Datadog metric name prefix like `shop` or `shop.web`")
    env = options.get("datadog.env")
    if env and not TAG.match(env):
        _bad(diags, "datadog.env", env, "a lower-case tag value starting with a letter")
    mapping = Mapping(namespace=namespace, openmetrics=options.get("datadog.openmetrics", "true") == "true",
                      metric_map=_pairs(options, "metric_map", "=", _metric_pair, diags),
                      tag_map=_pairs(options, "tag_map", "=", _tag_pair, diags),
                      default_zero=options.get("datadog.default_zero", "true") == "true")
    handles: dict[str, tuple[str, ...]] = {}
    for severity, handle in _pair_list(options, "handles", ":", _handle_pair, diags):
        handles[severity] = handles.get(severity, ()) + (handle,)
    priorities = _pairs(options, "priorities", ":", _priority_pair, diags, "page:1,ticket:3")
    settings = Settings(env=env, handles=handles, priorities={k: int(v) for k, v in priorities.items()},
                        nearest_timeframe=options.get("datadog.timeframe", "exact") == "nearest")
    return mapping, settings


def _pairs(options: Options, key: str, sep: str, check, diags: list[Diagnostic], default: str = "") -> dict[str, str]:
    """Pairs as a dict, for settings where a key appears once."""
    return dict(_pair_list(options, key, sep, check, diags, default))


def _pair_list(options: Options, key: str, sep: str, check, diags: list[Diagnostic],
               default: str = "") -> list[tuple[str, str]]:
    """`a=b,c=d` -> [(a, b), (c, d)]; each pair is checked by `check`, which names what it expects."""
    out = []
    for item in filter(None, (i.strip() for i in options.get(f"datadog.{key}", default).split(","))):
        left, found, right = item.partition(sep)
        left, right = left.strip(), right.strip()
        expected = check(left, right) if found else f"pairs written LEFT{sep}RIGHT"
        if expected:
            _bad(diags, f"datadog.{key}", item, expected)
            continue
        out.append((left, right))
    return out


def _metric_pair(prom: str, datadog: str) -> str | None:
    """None when the pair is usable, else what was expected (the same contract for every checker)."""
    if METRIC_NAME.match(prom) and DD_METRIC.match(datadog):
        return None
    return "a Prometheus metric name, `=`, and a Datadog metric name (letters, digits, `_` and `.`)"


def _tag_pair(label: str, tag: str) -> str | None:
    """Tags are lower case in Datadog, so an upper-case target would never match."""
    if LABEL_NAME.match(label) and (tag == "" or TAG.match(tag)):
        return None
    return "a Prometheus label name, `=`, and a lower-case Datadog tag name (or nothing, to drop the matcher)"


def _handle_pair(severity: str, handle: str) -> str | None:
    """Handles are the only @-mentions a message may carry, so they must look like handles."""
    if severity and HANDLE.match(handle):
        return None
    return "a severity, `:`, and a notification handle such as @pagerduty-shop or @team@example.com"


def _priority_pair(severity: str, priority: str) -> str | None:
    """Datadog priorities run from 1 (P1) to 5."""
    if severity and priority in ("1", "2", "3", "4", "5"):
        return None
    return "a severity, `:`, and a priority from 1 (highest) to 5"


def _bad(diags: list[Diagnostic], key: str, value: str, expected: str) -> None:
    """RELC403 like other option errors, naming the key, the value and what would do."""
    diags.append(dg.make("RELC403", f"`{key}`: cannot use `{value}`", hint=f"expected {expected}"))
