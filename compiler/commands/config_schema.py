"""The relc.yaml schema, and a small validator for the keywords it uses so `relc check` never imports jsonschema.

SCHEMA is the one source: schemas/relc-config.schema.json is its published copy (a test keeps them
equal and checks that jsonschema agrees with `errors` below).
"""
from __future__ import annotations

import re
from typing import Any, Iterator, NamedTuple

SCHEMA_URL = "https://raw.githubusercontent.com/relc-dev/relc/main/schemas/relc-config.schema.json"
OPTION_KEY = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+$"

_PATH = {"type": "string", "minLength": 1}
_URL = {"type": "string", "format": "uri"}

_FILE = {"type": "string", "minLength": 1}
_SERVER: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "url": {**_URL, "description": "The server's root URL (for Mimir, including its /prometheus prefix)."},
        "headers": {"type": "object", "additionalProperties": {"type": "string"},
                    "description": "HTTP headers sent with every request, e.g. Mimir's X-Scope-OrgID. Values are "
                                   "never printed."},
        "bearer_token_file": {**_FILE, "description": "A file holding a bearer token, relative to this file."},
        "basic_auth": {"type": "object", "additionalProperties": False, "description": "HTTP basic authentication.",
                       "properties": {"username": {"type": "string", "description": "The user name."},
                                      "password_file": {**_FILE, "description": "A file holding the password, "
                                                                                "relative to this file."}}},
        "tls_ca_file": {**_FILE, "description": "A PEM file of the CA that signed the server's certificate."},
        "tls_insecure_skip_verify": {"type": "boolean",
                                     "description": "Do not verify the server's certificate (tests only)."},
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_URL,
    "title": "relc project configuration (relc.yaml)",
    "description": "Defaults for `relc check`, `relc build`, `relc test` and the live commands in this project. Paths are "
                   "relative to the directory of this file; command-line flags override every key.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string", "description": "The schema this file follows, for editors; relc ignores it."},
        "sources": {
            "description": "Files or directories (searched recursively for *.relc) to read when no PATH is "
                           "given on the command line.",
            "type": "array", "minItems": 1, "uniqueItems": True,
            "items": {**_PATH, "description": "A .relc file or a directory, relative to this file."},
            "examples": [["slo/"]],
        },
        "exclude": {
            "description": "Glob patterns, relative to this file, for files and directories that searching a "
                           "source directory skips (`*` matches across `/`; a pattern ending in `/` names "
                           "directories). A file named explicitly is always read.",
            "type": "array", "minItems": 1, "uniqueItems": True,
            "items": {**_PATH, "description": "A glob pattern, e.g. `slo/drafts/` or `**/*-wip.relc`."},
            "examples": [["slo/drafts/", "**/*-wip.relc"]],
        },
        "out": {**_PATH, "description": "Output directory of `relc build` when -o is not given; each target "
                                        "writes OUT/<target>/.", "examples": ["gen"]},
        "targets": {
            "description": "Targets `relc build` generates when no --target is given (default: every built-in "
                           "target). Targets named here turn unsupported constructs into errors, as --target does.",
            "type": "array", "minItems": 1, "uniqueItems": True,
            "items": {"type": "string", "minLength": 1, "description": "A name listed by `relc targets`."},
            "examples": [["prometheus", "grafana"]],
        },
        "runbook_base_url": {**_URL, "description": "Base URL of the published runbooks; alert runbook_url "
                                                    "links are built from it (--runbook-base-url)."},
        "dashboard_base_url": {**_URL, "description": "Base URL of Grafana; alert dashboard_url links are built "
                                                      "from it (--dashboard-base-url)."},
        "prometheus": {
            "description": "The Prometheus-compatible HTTP API (Prometheus, Thanos Query, Mimir, Cortex, VictoriaMetrics) "
                           "that `relc doctor`, `report`, `gate` and `replay` read; --prometheus and "
                           "RELC_PROMETHEUS_URL override `url` and keep the credentials given here.",
            **_SERVER,
            "examples": [{"url": "https://mimir.example.com/prometheus",
                          "headers": {"X-Scope-OrgID": "tenant-1"}, "bearer_token_file": "secrets/token"}],
        },
        "alertmanager": {
            "description": "The Alertmanager whose routing `relc doctor` checks (--alertmanager and "
                           "RELC_ALERTMANAGER_URL override `url`).",
            **_SERVER,
            "examples": [{"url": "http://alertmanager:9093"}],
        },
        "sloth": {
            "description": "How to read Sloth specs where Sloth leaves it to its command line.",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "default_slo_period": {"type": "string", "pattern": "^([0-9]+(ms|s|m|h|d|w|y))+$",
                                       "description": "Sloth's --default-slo-period: the window of every Sloth "
                                                      "SLO (30d when absent), e.g. 28d."},
                "labels": {"type": "boolean",
                           "description": "Keep Sloth's labels: sloth_id, sloth_service, sloth_slo on every series "
                                          "and alert, sloth_severity on alerts, so routes and dashboards written "
                                          "for Sloth's rules keep matching (false when absent)."},
            },
            "examples": [{"default_slo_period": "28d", "labels": True}],
        },
        "options": {
            "description": "Target options, as -O TARGET.KEY=VALUE; `relc targets -v` lists them. -O on the "
                           "command line overrides a key set here.",
            "type": "object",
            "propertyNames": {"pattern": OPTION_KEY, "description": "TARGET.KEY, e.g. prometheus.layout."},
            "additionalProperties": {"type": ["string", "number", "boolean"],
                                     "description": "The option's value; numbers and booleans are passed as "
                                                    "text (true, false)."},
            "examples": [{"prometheus.layout": "operator", "prometheus.tests": True}],
        },
    },
}

# Every keyword SCHEMA may use; `errors` implements the ones that constrain (a test enforces the list).
KEYWORDS = {"$schema", "$id", "title", "description", "examples", "format",
            "type", "properties", "additionalProperties", "propertyNames", "items", "minItems",
            "uniqueItems", "minLength", "pattern"}


class SchemaError(NamedTuple):
    """One violation: where (keys and indexes into the document), which keyword, and a readable message."""

    path: tuple[str | int, ...]
    keyword: str
    message: str
    at_key: bool = False  # the message is about the key at `path`, not its value


def kind(value: Any) -> str:
    """A value's type in the words a YAML author uses."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "list", dict: "mapping"}.get(type(value), type(value).__name__)


_JSON_TYPES = {"string": "string", "array": "list", "object": "mapping", "number": "number", "boolean": "boolean",
               "null": "null"}


def errors(value: Any, schema: dict = SCHEMA, path: tuple = ()) -> Iterator[SchemaError]:
    """Every violation of `schema` by `value`, in document order."""
    types = schema.get("type")
    if types is not None:
        allowed = [types] if isinstance(types, str) else types
        if kind(value) not in {_JSON_TYPES[t] for t in allowed}:
            wanted = " or ".join(f"a {_JSON_TYPES[t]}" for t in allowed)
            yield SchemaError(path, "type", f"must be {wanted}, not a {kind(value)}")
            return
    if isinstance(value, str):
        yield from _string(value, schema, path)
    elif isinstance(value, list):
        yield from _array(value, schema, path)
    elif isinstance(value, dict):
        yield from _object(value, schema, path)


def _string(value: str, schema: dict, path: tuple) -> Iterator[SchemaError]:
    if len(value) < schema.get("minLength", 0):
        yield SchemaError(path, "minLength", "must not be empty")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        yield SchemaError(path, "pattern", f"`{value}` does not match {schema['pattern']}")


def _array(value: list, schema: dict, path: tuple) -> Iterator[SchemaError]:
    if len(value) < schema.get("minItems", 0):
        yield SchemaError(path, "minItems", "must not be empty")
    seen: list = []
    for index, item in enumerate(value):
        if schema.get("uniqueItems") and any(_same(item, s) for s in seen):
            yield SchemaError(path + (index,), "uniqueItems", f"lists `{item}` twice")
        seen.append(item)
        if "items" in schema:
            yield from errors(item, schema["items"], path + (index,))


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _object(value: dict, schema: dict, path: tuple) -> Iterator[SchemaError]:
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    names = schema.get("propertyNames")
    for key, item in value.items():
        if names is not None:
            for err in errors(key, names, path + (key,)):
                yield err._replace(keyword="propertyNames", at_key=True)
        if key in properties:
            yield from errors(item, properties[key], path + (key,))
        elif extra is False:
            yield SchemaError(path + (key,), "additionalProperties", f"unknown key `{key}`", at_key=True)
        elif isinstance(extra, dict):
            yield from errors(item, extra, path + (key,))
