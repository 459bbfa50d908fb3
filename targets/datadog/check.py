"""Offline checks of generated payloads against datadog-api-client's models and Datadog's documented limits.

The client deserialises leniently: unknown fields become additional properties and unknown enum values
are kept as "unparsed", both silently. So after a type-checked deserialisation this module walks the
result and reports those, plus what the models do not encode (burn-rate query form, window limits,
target precision). The client is imported only when a check runs.
"""
from __future__ import annotations

import re
from decimal import Decimal

BURN_RATE = re.compile(r'burn_rate\("(?P<slo>[^"\s]+)"\)\.over\("(?P<timeframe>7d|30d|90d)"\)'
                       r'\.long_window\("(?P<long>[1-9][0-9]*)h"\)\.short_window\("(?P<short>[1-9][0-9]*)m"\)'
                       r' > (?P<factor>[0-9]+(?:\.[0-9]+)?)\Z')
MODULES = {"ServiceLevelObjectiveRequest": "service_level_objective_request", "Monitor": "monitor"}


def model_problems(payload: dict, model_name: str) -> list[str]:
    """Deserialise `payload` as a datadog_api_client.v1 model with type checks; list what it let through."""
    from datadog_api_client import Configuration
    from datadog_api_client.exceptions import OpenApiException
    from datadog_api_client.model_utils import validate_and_convert_types

    model = _model_class(model_name)
    try:
        value = validate_and_convert_types(payload, (model,), [model_name], True, True, configuration=Configuration())
    except (OpenApiException, TypeError, ValueError) as err:
        return [f"{model_name}: {err}"]
    return _walk(value, model_name)


def _model_class(name: str):
    """Imported here, so only a check run pays for the client's thousands of model modules."""
    import importlib

    return getattr(importlib.import_module(f"datadog_api_client.v1.model.{MODULES[name]}"), name)


def _walk(value, path: str) -> list[str]:
    """Unknown fields, unknown enum values, unparsed objects and read-only fields, anywhere in the tree."""
    from datadog_api_client.model_utils import ModelSimple, OpenApiModel, UnparsedObject

    if isinstance(value, UnparsedObject):
        return [f"{path}: does not match its schema"]
    if isinstance(value, ModelSimple):
        return [f"{path}: `{value.value}` is not one of {sorted(value.allowed_values)}"] if value._unparsed else []
    problems = []
    if isinstance(value, OpenApiModel):
        for key, item in value._data_store.items():
            if key not in value.openapi_types:
                problems.append(f"{path}.{key}: unknown field")
            elif key in getattr(value, "read_only_vars", ()):
                problems.append(f"{path}.{key}: read-only field in a request")
            problems += _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems += _walk(item, f"{path}[{index}]")
    return problems


def slo_problems(payload: dict) -> list[str]:
    """A metric SLO request: the model, plus targets, warnings and timeframes that agree with each other."""
    problems = model_problems(payload, "ServiceLevelObjectiveRequest")
    if payload.get("type") != "metric" or not payload.get("query"):
        problems.append("not a metric-based SLO with a query")
    for threshold in payload.get("thresholds", ()):
        target, warning = Decimal(str(threshold["target"])), threshold.get("warning")
        if threshold["timeframe"] == "custom" or target.as_tuple().exponent < -3 or not 0 < target < 100:
            problems.append(f"threshold {threshold}: timeframe or target out of Datadog's range")
        if warning is not None and not target < Decimal(str(warning)) < 100:
            problems.append(f"threshold {threshold}: warning must lie between the target and 100")
    primary = [t for t in payload.get("thresholds", ()) if t["timeframe"] == payload.get("timeframe")]
    if not primary or primary[0]["target"] != payload.get("target_threshold") or \
            primary[0].get("warning") != payload.get("warning_threshold"):
        problems.append("timeframe/target_threshold/warning_threshold disagree with thresholds")
    return problems


def monitor_problems(payload: dict, target_percent: float | None = None) -> list[str]:
    """A burn-rate monitor: the model, the documented query form, Datadog's window and threshold limits."""
    problems = model_problems(payload, "Monitor")
    match = BURN_RATE.match(payload.get("query", ""))
    if payload.get("type") != "slo alert" or match is None:
        return problems + [f"not a burn-rate SLO alert: {payload.get('query')!r}"]
    long_h, short_m, factor = int(match["long"]), int(match["short"]), float(match["factor"])
    if not 1 <= long_h <= 48 or short_m >= long_h * 60:
        problems.append(f"windows {long_h}h/{short_m}m outside 1h..48h with a shorter short window")
    if factor != payload.get("options", {}).get("thresholds", {}).get("critical"):
        problems.append("the query's burn rate and options.thresholds.critical differ")
    if target_percent is not None and not 0 < factor <= 100 / (100 - target_percent):
        problems.append(f"burn rate {factor} above the maximum 1/(1 - target) for target {target_percent}")
    if payload.get("priority") is not None and payload["priority"] not in range(1, 6):
        problems.append("priority must be 1..5")
    return problems
