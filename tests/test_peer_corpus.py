"""Every Sloth and OpenSLO spec in ../shared/peers compiles, or fails with the diagnostic docs/interop.md lists for it.

The table in docs/interop.md ("Compatibility corpus") is the expectation: one row per file with its outcome,
`N SLOs` (or `1 alert policy` for Sloth AlertWindows) when it compiles, otherwise the error codes. Besides
the table, invariants that do not depend on it:
- OpenSLO's schema-test documents the v1 JSON Schema rejects are rejected, the ones it accepts fail (if at
  all) only for what relc cannot compile (RELC607 a reference to a file not given, RELC608);
- Sloth's validate/good corpus compiles, its validate/bad corpus is rejected (one documented exception);
- Sloth's duplicate pairs, compiled together, are duplicate definitions (RELC305);
- every diagnostic points into the file that caused it.
Sloth's generated rules (`examples/_gen/`) and expected outputs (`*.yaml.tpl`) are not specs and are skipped.
"""
from __future__ import annotations

import dataclasses

import json
import re
from pathlib import Path

import pytest
import yaml

from relc.compiler import diagnostics as dg
from relc.compiler.resolve.importers import load_yaml_modules
from relc.compiler.resolve.sources import SourceSet
from relc.compiler.pipeline import compile_sources

from conftest import ROOT

PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers"
DOC = ROOT / "docs" / "interop.md"
ROW = re.compile(r"^\| `((?:sloth|openslo)/[^`]+)` \| ([^|]+?) \|")
SCHEMA_TESTS = "openslo/_history/a2df6a5-parent-2024-03-22/schema-test/spec-files"
SCHEMAS = PEERS / "openslo/_history/a2df6a5-parent-2024-03-22/schemas/v1"
SLOTH_DATA = "sloth/test/integration/prometheus/testdata"
COMPILE_ONLY = {"RELC607", "RELC608"}  # what relc cannot compile, as opposed to what is not valid
SLOTH_BAD_ACCEPTED = {f"{SLOTH_DATA}/validate/bad/bad-openslo.yaml"}  # 28d: Sloth's period limit, not an error

pytestmark = pytest.mark.skipif(not PEERS.is_dir(), reason=f"peer corpora not found at {PEERS}")


def spec_files() -> list[str]:
    if not PEERS.is_dir():
        return []
    found = (p.relative_to(PEERS).as_posix() for p in PEERS.rglob("*") if p.is_file())
    return sorted(f for f in found if f.endswith((".yml", ".yaml")) and "/_gen/" not in f)


def compile_files(rels: list[str]) -> tuple[int, int, list[dg.Diagnostic]]:
    """(SLOs, alert policies, diagnostics) for the files compiled together, as `relc check` would."""
    files = [(rel, (PEERS / rel).read_text(encoding="utf-8")) for rel in rels]
    modules, diags = load_yaml_modules(files)
    if dg.has_errors(diags):
        return 0, 0, diags
    project, more = compile_sources(SourceSet(list(modules.values()), dict(files)))
    policies = sum(1 for m in modules.values() for b in m.items if b.kind == "alert_policy")
    return (len(project.slos()) if project else 0), policies, diags + more


def outcome(rel: str) -> str:
    slos, policies, diags = compile_files([rel])
    errors = sorted({d.code for d in diags if d.is_error})
    if errors:
        return ", ".join(errors)
    if slos == 0 and policies:
        return "1 alert policy" if policies == 1 else f"{policies} alert policies"
    return {0: "no SLOs", 1: "1 SLO"}.get(slos, f"{slos} SLOs")


def documented() -> dict[str, str]:
    rows = (ROW.match(line) for line in DOC.read_text(encoding="utf-8").splitlines())
    return {m.group(1): m.group(2).strip() for m in rows if m}


FILES = spec_files()


def test_the_table_lists_every_spec_file_once():
    table = documented()
    assert sorted(table) == FILES, "docs/interop.md's corpus table and ../shared/peers disagree"


@pytest.mark.parametrize("rel", FILES)
def test_outcome_is_the_documented_one(rel: str):
    assert outcome(rel) == documented().get(rel), f"{rel}: update docs/interop.md or fix the importer"


@pytest.mark.parametrize("rel", FILES)
def test_every_diagnostic_points_into_the_file(rel: str):
    _, _, diags = compile_files([rel])
    for diag in diags:
        assert diag.span is not None and diag.span.path == rel, diag
        lines = (PEERS / rel).read_text(encoding="utf-8").count("\n") + 1
        assert 1 <= diag.span.line <= lines, diag


def _schema_validator():
    import jsonschema
    import referencing
    from referencing.jsonschema import DRAFT7

    parts = [json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS.rglob("*.json")]
    registry = referencing.Registry().with_resources((s["$id"], DRAFT7.create_resource(s)) for s in parts)
    root = json.loads((SCHEMAS / "openslo.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(root, registry=registry)


class _NoTimestamps(yaml.SafeLoader):
    """JSON Schema sees YAML as JSON would: `2022-01-01 12:00:00` is a string, not a datetime."""


_NoTimestamps.yaml_implicit_resolvers = {
    key: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


@pytest.mark.parametrize("rel", [f for f in FILES if f.startswith(SCHEMA_TESTS)])
def test_schema_test_documents_are_judged_like_the_schema_judges_them(rel: str):
    validator = _schema_validator()
    docs = [d for d in yaml.load_all((PEERS / rel).read_text(encoding="utf-8"), Loader=_NoTimestamps) if d]
    schema_valid = all(not list(validator.iter_errors(d)) for d in docs)
    errors = {d.code for d in compile_files([rel])[2] if d.is_error}
    if schema_valid:
        assert errors <= COMPILE_ONLY, f"{rel} is valid OpenSLO; relc may only fail to compile it, got {errors}"
    else:
        assert errors - COMPILE_ONLY, f"{rel} is invalid OpenSLO and must be rejected as such, got {errors}"


@pytest.mark.parametrize("rel", [f for f in FILES if f.startswith(f"{SLOTH_DATA}/validate/")])
def test_sloths_validation_corpora(rel: str):
    errors = {d.code for d in compile_files([rel])[2] if d.is_error}
    if "/good/" in rel or rel in SLOTH_BAD_ACCEPTED:
        assert not errors, rel
    else:
        assert errors, rel


@pytest.mark.parametrize("kind", ["prom", "k8s", "openslo"])
def test_duplicates_across_files_are_duplicate_definitions(kind: str):
    base = f"{SLOTH_DATA}/validate_with_duplicates/{kind}/bad-{kind}-1"
    slos, _, diags = compile_files([f"{base}-original.yaml", f"{base}-duplicate.yaml"])
    duplicates = [d for d in diags if d.code == "RELC305"]
    assert duplicates and all(d.related and d.related[0].span.path.endswith("original.yaml") for d in duplicates)


@pytest.mark.parametrize("rel", FILES)
def test_import_prints_relc_that_compiles_to_the_same_slos(rel: str):
    """`relc import` on every spec that compiles: the printed .relc means what the YAML meant."""
    from relc.compiler.commands.convert import convert_files
    from relc.compiler.syntax.parser import parse

    text = (PEERS / rel).read_text(encoding="utf-8")
    source, diags = convert_files([(rel, text)])
    if dg.has_errors(diags):
        assert source is None
        return
    module, parse_diags = parse("imported.relc", source)
    assert module is not None, parse_diags
    printed, more = compile_sources(SourceSet([module], {"imported.relc": source}))
    assert printed is not None and not dg.has_errors(more), more
    modules, _ = load_yaml_modules([(rel, text)])
    direct, _ = compile_sources(SourceSet(list(modules.values()), {rel: text}))
    strip = lambda p: [dataclasses.replace(s, origin=None, alert_policy=s.alert_policy and  # noqa: E731
                                           dataclasses.replace(s.alert_policy, origin=None)) for s in p.slos()]
    assert strip(printed) == strip(direct)
