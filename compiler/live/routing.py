"""Where Alertmanager sends an alert: its route tree walked for a label set, and whether the receivers notify.

Alertmanager has no library relc could call; this follows its documented routing (first matching child wins
unless `continue`, a route with no matching child takes the alert itself, matchers anchored). tests/test_live_doctor
keeps it equal to `amtool config routes test` on the same configurations.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

_MATCHER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$')
NOTIFIERS_SUFFIX = "_configs"


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        have = labels.get(self.name, "")
        if self.op in ("=", "!="):
            return (have == self.value) == (self.op == "=")
        try:
            hit = re.fullmatch(self.value, have) is not None
        except re.error:
            hit = False
        return hit == (self.op == "=~")


def parse_matcher(text: str) -> Matcher | None:
    """`severity="page"`, `severity=page`, `team=~"a|b"` as Alertmanager reads them."""
    found = _MATCHER.match(text)
    if not found:
        return None
    name, op, value = found.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].encode().decode("unicode_escape") if "\\" in value else value[1:-1]
    return Matcher(name, op, value)


def route_matchers(route: dict) -> list[Matcher]:
    """A route's matchers, from `matchers` and the older `match` / `match_re`."""
    out = []
    for item in route.get("matchers") or []:
        for part in _split(str(item)):
            matcher = parse_matcher(part)
            if matcher:
                out.append(matcher)
    out += [Matcher(str(k), "=", str(v)) for k, v in (route.get("match") or {}).items()]
    out += [Matcher(str(k), "=~", str(v)) for k, v in (route.get("match_re") or {}).items()]
    return out


def _split(item: str) -> list[str]:
    """One `matchers` entry may hold several, comma-separated, inside braces."""
    item = item.strip()
    if item.startswith("{") and item.endswith("}"):
        return [p for p in re.split(r',(?=(?:[^"]*"[^"]*")*[^"]*$)', item[1:-1]) if p.strip()]
    return [item]


def receivers_for(route: dict, labels: dict[str, str]) -> list[str]:
    """The receivers an alert with these labels is sent to, in the order Alertmanager would notify them."""
    return _walk(route, labels, route.get("receiver", ""))


def _walk(route: dict, labels: dict[str, str], inherited: str) -> list[str]:
    receiver = route.get("receiver") or inherited
    found: list[str] = []
    for child in route.get("routes") or []:
        if all(m.matches(labels) for m in route_matchers(child)):
            found += _walk(child, labels, receiver)
            if not child.get("continue", False):
                break
    return found or [receiver]


@dataclass(frozen=True)
class Routing:
    """An Alertmanager configuration, read for routing only."""

    route: dict
    notifying: frozenset[str]   # receivers with at least one integration

    @classmethod
    def from_yaml(cls, text: str) -> "Routing":
        doc = yaml.safe_load(text) or {}
        receivers = doc.get("receivers") or []
        notifying = frozenset(r.get("name", "") for r in receivers
                              if any(k.endswith(NOTIFIERS_SUFFIX) and r.get(k) for k in r))
        return cls(doc.get("route") or {}, notifying)

    def silent_receivers(self, labels: dict[str, str]) -> list[str]:
        """The receivers this alert reaches that notify nobody; empty when one of them does notify."""
        reached = receivers_for(self.route, labels)
        return [] if any(r in self.notifying for r in reached) else reached
