"""What a directory search leaves out, said once per file or folder: SLO specs in formats relc does not read
(Keptn, Nobl9, slo-generator, Terraform), and hidden folders that hold specs it would read (`.openslo/`)."""
from __future__ import annotations

import os
import re
from pathlib import Path

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic

MAX_BYTES = 65536
MAX_HIDDEN_FILES = 2000    # a hidden folder is looked into this far, so a big one costs little
# (format, what marks its files, where relc stands): first match wins; YAML and Terraform files only.
FOREIGN_YAML = (
    ("Nobl9", re.compile(r"^\s*apiVersion:\s*['\"]?n9/v", re.M), "export it to OpenSLO (sloctl) to read it"),
    ("slo-generator", re.compile(r"^\s*apiVersion:\s*['\"]?sre\.google\.com/|^\s*(?:service_name|slo_name):", re.M),
     "relc does not read slo-generator's format; write the SLO in .relc or OpenSLO"),
    ("Keptn", re.compile(r"^\s*spec_version:.*\n(?:.*\n)*?\s*objectives:", re.M),
     "relc does not read Keptn quality gates; write the SLO in .relc or OpenSLO"),
)
TERRAFORM = re.compile(r'resource\s+"(google_monitoring_slo|datadog_service_level_objective|grafana_slo|nobl9_slo|'
                       r'newrelic_service_level|dynatrace_slo\w*|honeycombio_slo)"')


def foreign_note(path: Path, shown: str) -> Diagnostic | None:
    """A note for a YAML or Terraform file that holds SLOs in a format relc does not read, else None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.read(MAX_BYTES)
    except OSError:
        return None
    if path.suffix == ".tf":
        found = TERRAFORM.search(head)
        if found is None:
            return None
        return dg.make("RELC204", f"{shown} is not read: Terraform ({found[1]}); relc reads .relc, Sloth, OpenSLO "
                       "and Pyrra files", severity=dg.Severity.NOTE,
                       hint="relc's Datadog target writes Terraform for Datadog SLOs from a .relc source")
    for name, marker, advice in FOREIGN_YAML:
        if marker.search(head):
            return dg.make("RELC204", f"{shown} is not read: it looks like a {name} spec", severity=dg.Severity.NOTE,
                           hint=advice)
    return None


def hidden_note(folder: Path, is_spec, shown, skip: frozenset[str]) -> Diagnostic | None:
    """A note for a hidden folder a search skipped that holds .relc or spec files, with how to read it."""
    found = _specs_in(folder, is_spec, skip)
    if not found:
        return None
    where = shown(folder)
    return dg.make("RELC204", f"{where} is hidden, so directory searches skip it; it holds {len(found)} spec "
                   f"file(s), e.g. {shown(found[0])}", severity=dg.Severity.NOTE,
                   hint=f"name it on the command line (relc check {where}) or list it in relc.yaml `sources`")


def _specs_in(folder: Path, is_spec, skip: frozenset[str]) -> list[Path]:
    """The .relc and spec files in the folder (a bounded look)."""
    out, seen = [], 0
    for top, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        for name in sorted(files):
            seen += 1
            if seen > MAX_HIDDEN_FILES:
                return out
            path = Path(top, name)
            if not path.is_file():  # a FIFO or device is never opened
                continue
            if path.suffix == ".relc" or (path.suffix in (".yml", ".yaml") and is_spec(path)):
                out.append(path)
    return out
