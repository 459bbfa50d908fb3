"""YAML output that is stable byte for byte: insertion order, no line folding, block style for multi-line text."""
from __future__ import annotations

import yaml

try:  # the C emitter is much faster on large outputs
    _Base = yaml.CSafeDumper  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeDumper


class _Dumper(_Base):  # type: ignore[misc, valid-type]
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value and not any(c in value for c in "\r\t") and value == value.strip(" ") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(data: object, header: str = "") -> str:
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1_000_000,
                     default_flow_style=False, indent=2)
    return header + body
