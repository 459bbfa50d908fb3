"""SARIF output: valid against the official 2.1.0 schema, shaped as GitHub code scanning reads it, deterministic."""
from __future__ import annotations

import json
import random
from pathlib import Path

import jsonschema
import pytest

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Related, Severity, Span
from relc.compiler.pipeline import compile_paths
from relc.compiler.render.sarif import render_sarif

from conftest import ROOT

SCHEMA = json.loads((ROOT / "schemas" / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
BAD_INPUTS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "bad").iterdir()
                    if p.suffix == ".relc" or p.is_dir())


def sarif_for(paths: list[str]) -> dict:
    result = compile_paths(paths)
    return json.loads(render_sarif(result.diagnostics, result.texts, "1.2.3"))


def assert_valid(log: dict) -> None:
    errors = sorted(VALIDATOR.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_schema_is_the_official_one():
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    assert SCHEMA["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "relc"}},
                                            "results": [{"message": {"text": "x"}, "level": "fatal"}]}]}
    assert list(VALIDATOR.iter_errors(broken)), "the validator must reject an invalid level"


@pytest.mark.parametrize("path", BAD_INPUTS + ["examples/shop", "does/not/exist.relc"])
def test_every_diagnostic_corpus_case_is_valid_sarif(path: str):
    assert_valid(sarif_for([path]))


def test_run_tool_and_rules():
    log = sarif_for(["examples/shop"])
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("relc", "1.2.3")
    assert driver["informationUri"].startswith("https://")
    assert [rule["id"] for rule in driver["rules"]] == sorted(dg.CODES)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] == dg.CODES[rule["id"]]
        assert rule["helpUri"].endswith("docs/language.md#113-codes")
    assert run["results"] == [] and run["invocations"] == [{"executionSuccessful": True}]


def test_results_locations_and_related():
    run = sarif_for(["tests/bad/duplicates.relc"])["runs"][0]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    first = run["results"][0]
    assert first["ruleId"] == "RELC314" and rules[first["ruleIndex"]] == "RELC314"
    assert first["level"] == "error" and first["message"]["text"] == "`objective` is set twice in this SLO"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "tests/bad/duplicates.relc", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 4, "startColumn": 5, "endLine": 4, "endColumn": 14}
    (related,) = first["relatedLocations"]
    assert related["id"] == 1 and related["message"]["text"] == "first set here"
    assert related["physicalLocation"]["region"]["startLine"] == 3


def test_hint_is_appended_to_the_message():
    run = sarif_for(["tests/bad/objective_out_of_range.relc"])["runs"][0]
    with_hint = [r for r in run["results"] if "\nhint: " in r["message"]["text"]]
    assert with_hint, "objective_out_of_range has hints"
    expected = compile_paths(["tests/bad/objective_out_of_range.relc"]).diagnostics
    assert [r["message"]["text"] for r in run["results"]] == [
        f"{d.message}\nhint: {d.hint}" if d.hint else d.message for d in expected]


def test_levels_and_unlocated_diagnostics():
    span = Span("a.relc", 1, 1, 1, 2)
    diags = [dg.make("RELC304", "service without SLOs", span, severity=Severity.WARNING),
             dg.make("RELC404", "no proof", span, severity=Severity.NOTE),
             dg.make("RELC402", "unknown target `x`", hint="did you mean `y`?")]
    log = json.loads(render_sarif(diags, {"a.relc": "service a {}\n"}, "0"))
    assert_valid(log)
    run = log["runs"][0]
    assert [r["level"] for r in run["results"]] == ["warning", "note"]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["descriptor"]["id"] == "RELC402" and note["level"] == "error"
    assert note["message"]["text"] == "unknown target `x`\nhint: did you mean `y`?"


def test_columns_are_utf16_code_units():
    text = 'runbook r { summary = "\U0001F680 \u00e9"  bogus = 1 }\n'
    col = text.index("bogus") + 1  # relc counts characters
    diag = dg.make("RELC302", "unknown attribute `bogus` in runbook", Span("r.relc", 1, col, 1, col + 5))
    log = json.loads(render_sarif([diag], {"r.relc": text}, "0"))
    assert_valid(log)
    region = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startColumn"], region["endColumn"]) == (col + 1, col + 6)  # the rocket is 2 UTF-16 units


def test_paths_become_relative_uri_references(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inside = Span(str(tmp_path / "my dir" / "a.relc"), 1, 1, 1, 2)
    outside = Span("/elsewhere/b.relc", 1, 1, 1, 2)
    log = json.loads(render_sarif([dg.make("RELC301", "x", inside), dg.make("RELC301", "y", outside)], {}, "0"))
    assert_valid(log)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in log["runs"][0]["results"]]
    assert uris == [{"uri": "file:///elsewhere/b.relc"}, {"uri": "my%20dir/a.relc", "uriBaseId": "%SRCROOT%"}]


def test_deterministic_whatever_the_input_order():
    result = compile_paths(["tests/bad/more_mistakes.relc"])
    once = render_sarif(result.diagnostics, result.texts, "1")
    shuffled = list(result.diagnostics)
    random.Random(7).shuffle(shuffled)
    assert render_sarif(shuffled, result.texts, "1") == once
    assert render_sarif(result.diagnostics, dict(reversed(list(result.texts.items()))), "1") == once


def test_related_spans_in_other_files():
    run = sarif_for(["tests/bad/import_cycle"])["runs"][0]
    result = run["results"][0]
    assert result["ruleId"] == "RELC203"
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for loc in result["relatedLocations"]}
    assert all(uri.startswith("tests/bad/import_cycle/") for uri in uris)
