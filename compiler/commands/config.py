"""relc.yaml: a project's CLI defaults, found upward from the working directory and checked with positions.

Only `find_config` runs when a project has no relc.yaml, so such runs import neither yaml nor a validator.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic, Related, Span

CONFIG_NAME = "relc.yaml"
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Config:
    """The settings a relc.yaml gave (paths already relative to the working directory); empty without one."""

    path: str | None = None
    text: str = ""
    sources: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()  # glob patterns relative to the config file's directory
    out: str | None = None
    targets: tuple[str, ...] = ()
    runbook_base_url: str | None = None
    dashboard_base_url: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    prometheus: dict | None = None      # connection settings of the live commands, paths relative to the file
    alertmanager: dict | None = None
    sloth: dict | None = None           # how to read Sloth specs: default_slo_period, labels
    spans: dict[str, Span] = field(default_factory=dict)  # target names and option keys -> where they were set

    @property
    def exclusion(self):
        """`exclude` as the resolver's matcher, or None."""
        if not (self.exclude and self.path):
            return None
        from relc.compiler.resolve.sources import Exclude

        return Exclude(Path(self.path).parent, self.exclude)

    @property
    def imports(self):
        """The `sloth` block as the importers' settings; None (relc's defaults) without one."""
        if not self.sloth:
            return None
        from relc.compiler.resolve.import_settings import sloth_settings

        return sloth_settings(self.sloth.get("default_slo_period"), bool(self.sloth.get("labels", False)))

    @property
    def texts(self) -> dict[str, str]:
        """The file's text for carets under config diagnostics."""
        return {self.path: self.text} if self.path else {}


def find_config(start: Path) -> Path | None:
    """The nearest relc.yaml from `start` upward, not above the repository root (the first directory with .git)."""
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
        if (directory / ".git").exists():
            return None
    return None


def load_config(path: Path) -> tuple[Config, list[Diagnostic]]:
    """Read, parse and validate one config file; any error leaves an empty Config and diagnostics."""
    shown = _display(path)
    text, diags = _read(path, shown)
    if text is None:
        return Config(), diags
    failed = Config(path=shown, text=text)
    parsed = _parse(text, shown)
    if isinstance(parsed, Diagnostic):
        return failed, [parsed]
    node, data = parsed
    diags = sorted(_duplicate_keys(node, shown) + _schema_diagnostics(node, data, shown), key=dg.sort_key)
    if diags:
        return failed, diags
    return _config(data, node, path, shown, text), []


def _display(path: Path) -> str:
    from relc.compiler.resolve.sources import display_path

    return display_path(path)


def _read(path: Path, shown: str) -> tuple[str | None, list[Diagnostic]]:
    """The file's text, refusing huge or non-UTF-8 files before any parser sees them."""
    from relc.compiler.resolve.files import Unreadable, read_regular

    try:
        raw = read_regular(path, MAX_CONFIG_BYTES)
    except Unreadable as err:
        return None, [dg.make("RELC506", f"cannot read config file {shown}: {err}")]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as err:
        return None, [dg.make("RELC506", f"config file {shown} is not valid UTF-8 (byte {err.start})")]


def _parse(text: str, shown: str):
    """(root node, data) with the C loader when present, or the diagnostic for text that is not YAML.

    The budgeted reader that guards Sloth and OpenSLO input reads the file first: an alias bomb, deep nesting,
    a Python or custom tag or a duplicate key is refused there, located, before PyYAML builds anything."""
    import yaml

    from relc.compiler.resolve.importers.yamlpos import load_documents

    documents, found = load_documents(shown, text)
    if found and not documents:  # refused outright (duplicate keys alone are reported below, with the rest)
        first = found[0]
        return dg.make("RELC507", first.message.replace("not valid YAML: ", "invalid YAML: "), first.span,
                       hint=first.hint, related=first.related)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        span = Span.point(shown, mark.line + 1, mark.column + 1) if mark else None
        return dg.make("RELC507", f"invalid YAML: {err.problem or err.context}", span)
    except yaml.YAMLError as err:
        return dg.make("RELC507", f"invalid YAML: {err}")
    finally:
        loader.dispose()


def _span(node, shown: str) -> Span:
    start, end = node.start_mark, node.end_mark
    if end.line == start.line and end.column <= start.column:
        return Span.point(shown, start.line + 1, start.column + 1)
    return Span(shown, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _duplicate_keys(root, shown: str) -> list[Diagnostic]:
    """YAML keeps the last of two equal keys silently; a config that sets a key twice is a mistake."""
    import yaml

    diags, stack = [], [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            first: dict[str, Any] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in first:
                    diags.append(dg.make("RELC507", f"key `{key.value}` is set twice", _span(key, shown),
                                         related=(Related(_span(first[key.value], shown), "first set here"),)))
                elif isinstance(key, yaml.ScalarNode):
                    first[key.value] = key
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return diags


def _schema_diagnostics(root, data: Any, shown: str) -> list[Diagnostic]:
    """Schema violations as diagnostics, each at the YAML node its path leads to."""
    from relc.compiler.commands.config_schema import SCHEMA, errors

    if data is None:
        return []
    out = []
    for err in errors(data):
        node = _locate(root, err.path, err.at_key)
        message, hint = _wording(err, SCHEMA)
        out.append(dg.make("RELC507", message, _span(node, shown) if node is not None else None, hint=hint))
    return out


def _locate(root, path: tuple, at_key: bool):
    """The node a schema path names: the key itself for errors about a key, else its value."""
    import yaml

    node, key_node = root, None
    for part in path:
        key_node = None
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == str(part)), None)
            if pair is None:
                break
            key_node, node = pair
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    return key_node if at_key and key_node is not None else node


def _name(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _wording(err, schema: dict) -> tuple[str, str | None]:
    """A message naming the key, and a hint where relc can guess the intent."""
    if err.keyword == "additionalProperties":
        where = f" in `{_name(err.path[:-1])}`" if len(err.path) > 1 else ""
        keys = list(schema["properties"]) if len(err.path) == 1 else []
        hint = dg.did_you_mean(str(err.path[-1]), keys) or (f"keys: {', '.join(k for k in keys if k[0] != '$')}"
                                                             if keys else None)
        return f"{err.message}{where}", hint
    if err.keyword == "propertyNames":
        return f"option `{err.path[-1]}` is not of the form TARGET.KEY", "e.g. `prometheus.layout: operator`"
    subject = f"`{_name(err.path)}`" if err.path else "the configuration"
    hint = None
    expected = schema["properties"].get(err.path[0], {}).get("type") if len(err.path) == 1 else None
    if err.keyword == "type" and expected == "array":
        hint = f"write a list, e.g. `{err.path[0]}: [...]`"
    return f"{subject} {err.message}", hint


def _config(data: dict | None, root, path: Path, shown: str, text: str) -> Config:
    """The validated document as CLI defaults, paths rebased from the file's directory to the working one."""
    data = data or {}
    base = path.parent
    rebase = lambda p: _display(base / p)  # noqa: E731 - absolute paths stay absolute (`/` drops `base`)
    options = {str(k): _option_text(v) for k, v in data.get("options", {}).items()}
    return Config(
        path=shown, text=text,
        sources=tuple(rebase(s) for s in data.get("sources", ())),
        exclude=tuple(data.get("exclude", ())),
        out=rebase(data["out"]) if "out" in data else None,
        targets=tuple(data.get("targets", ())),
        runbook_base_url=data.get("runbook_base_url"),
        dashboard_base_url=data.get("dashboard_base_url"),
        options=options,
        prometheus=_server(data.get("prometheus"), rebase),
        alertmanager=_server(data.get("alertmanager"), rebase),
        sloth=data.get("sloth"),
        spans=_spans(root, shown),
    )


def _server(block: dict | None, rebase) -> dict | None:
    """A server block with its secret files rebased to the working directory."""
    if block is None:
        return None
    out = dict(block)
    for key in ("bearer_token_file", "tls_ca_file"):
        if key in out:
            out[key] = rebase(out[key])
    if "password_file" in (out.get("basic_auth") or {}):
        out["basic_auth"] = {**out["basic_auth"], "password_file": rebase(out["basic_auth"]["password_file"])}
    return out


def _option_text(value: Any) -> str:
    """YAML's true/1.5 to the text -O would have given."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _spans(root, shown: str) -> dict[str, Span]:
    """Where each target name and option key was written, so later diagnostics can point into relc.yaml."""
    import yaml

    spans: dict[str, Span] = {}
    for key, value in root.value if isinstance(root, yaml.MappingNode) else ():
        if key.value == "targets" and isinstance(value, yaml.SequenceNode):
            spans.update((item.value, _span(item, shown)) for item in value.value)
        elif key.value == "options" and isinstance(value, yaml.MappingNode):
            spans.update((k.value, _span(k, shown)) for k, _ in value.value)
    return spans

