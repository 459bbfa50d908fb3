"""Generated proofs: they pass on every example, they fail when an alert is wrong, and their inputs are sound."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from relc.compiler.model import ir as ir
from relc.compiler.commands.cli import main
from relc.compiler.diagnostics import Severity
from relc.compiler.pipeline import compile_paths
from relc.compiler.commands.prooftest import run_promtool_tests
from relc.targets.prometheus.proofs import proof_artifacts
from relc.targets.prometheus.synthetic import NoProof, Run, full_match, label_set, regex_examples, source_series

from conftest import ROOT, require_tool

SOURCES = ["examples/shop"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "good").iterdir()
                                     if p.suffix == ".relc" or p.is_dir())


def build(src: str, out: Path) -> Path:
    """relc build with proofs, as `relc test` and CI run it; returns DIR/prometheus."""
    result = CliRunner().invoke(main, ["build", src, "-o", str(out), "-t", "prometheus",
                                       "-O", "prometheus.tests=true"])
    assert result.exit_code == 0, result.output
    return out / "prometheus"


@pytest.mark.parametrize("src", SOURCES)
def test_every_generated_proof_passes(src: str, tmp_path: Path):
    require_tool("promtool")
    tests = sorted((build(src, tmp_path) / "tests").glob("*.test.yml"))
    assert tests
    for path in tests:
        text = path.read_text(encoding="utf-8")
        assert "MODEL DISAGREES" not in text, path.name  # the rule model agrees with the Workbook times
        rule_file = yaml.safe_load(text)["rule_files"][0]
        assert rule_file.startswith("../") and (path.parent / rule_file).is_file()
    start = time.monotonic()
    ok, output = run_promtool_tests(tests)  # run from the repo root: rule_files resolve next to each test
    print(f"\n{src}: {len(tests)} proofs, promtool {time.monotonic() - start:.1f}s")  # pytest -s shows it
    assert ok, output
    assert output.count("SUCCESS") == len(tests)


def test_proofs_are_deterministic_and_named_per_scenario():
    service = compile_paths(["examples/shop"]).project.services[0]
    first, diags = proof_artifacts(service, "checkout.rules.yml")
    again, _ = proof_artifacts(service, "checkout.rules.yml")
    assert first == again and not diags
    assert [a.path for a in first[:4]] == [
        "tests/checkout-availability-under-objective.test.yml", "tests/checkout-availability-slow-burn.test.yml",
        "tests/checkout-availability-burn-page-fast.test.yml", "tests/checkout-availability-burn-page-slow.test.yml"]
    assert all(yaml.safe_load(a.content)["rule_files"] == ["../checkout.rules.yml"] for a in first)


def test_raw_slis_and_slos_without_alerts_get_no_proof_and_say_why():
    project = compile_paths(["tests/good/sli_kinds.relc"]).project
    artifacts, diags = proof_artifacts(project.services[0], "search.rules.yml")
    assert not any("-raw-events-" in a.path or "-ratio-" in a.path for a in artifacts)
    found = {(d.code, d.severity, d.message.split(":")[0]) for d in diags}
    assert found == {("RELC404", Severity.NOTE, "no generated proof for SLO `search/raw-events`"),
                     ("RELC404", Severity.WARNING, "no generated proof for SLO `search/ratio`")}
    assert all(d.span is not None and d.span.path.endswith("sli_kinds.relc") for d in diags)


# Mutations: change one alert in the real rule file and show the proof that guards it now fails.

def _checkout(tmp_path: Path) -> Path:
    return build("examples/shop", tmp_path)


def _mutate(rules: Path, slo: str, tier: str | None, old: str, new: str, record: str | None = None) -> None:
    """Replace text in one alert's expr (by tier) or one recording rule's expr (by record name)."""
    document = yaml.safe_load(rules.read_text(encoding="utf-8"))
    group = next(g for g in document["groups"] if g["name"].endswith(f"-{slo}"))
    rule = next(r for r in group["rules"] if (record and r.get("record") == record)
                or (tier and r.get("labels", {}).get("alert_tier") == tier and "alert" in r))
    assert old in rule["expr"]
    rule["expr"] = rule["expr"].replace(old, new)
    rules.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def _failures(out: Path, proof: str) -> str:
    ok, output = run_promtool_tests([out / "tests" / proof])
    assert not ok, f"{proof} still passes after the mutation:\n{output}"
    return output


MUTATIONS = [
    # (slo, tier, old, new, record, proof, the check that must fail)
    ("availability", "page-fast", "> 14.4", "> 17", None, "burn-page-fast", "time: 1h31m,"),     # too late
    ("availability", "page-fast", "> 14.4", "> 12", None, "burn-page-fast", "time: 1h29m,"),     # too early
    ("availability", "page-fast", "error_ratio:rate5m", "error_ratio:rate30m", None, "burn-page-fast",
     "time: 1h36m,"),                                                                           # slow reset
    ("availability", "ticket-slow", "> 1\n", "> 0.8\n", None, "under-objective", "time: 1d,"),   # fires at 0.9x
    ("availability", "ticket-fast", "> 3\n", "> 3.6\n", None, "slow-burn", "time: 3d18h,"),       # ticket too late
    ("availability", "page-slow", "> 6\n", "> 4\n", None, "slow-burn", "time: 4d,"),         # page on slow burn
    ("availability", None, "[1h]", "[2h]", "relc_slo:error_ratio:rate1h", "burn-page-fast", "time: 1h31m,"),
    ("latency", "page-slow", "> 6\n", "> 7\n", None, "burn-page-slow", "time: 9h5m,"),
]


@pytest.mark.parametrize("slo,tier,old,new,record,proof,check", MUTATIONS)
def test_a_wrong_alert_fails_its_proof(slo, tier, old, new, record, proof, check, tmp_path: Path):
    require_tool("promtool")
    out = _checkout(tmp_path)
    rules = out / "checkout.rules.yml"
    assert run_promtool_tests([out / "tests" / f"checkout-{slo}-{proof}.test.yml"])[0]
    _mutate(rules, slo, tier, old, new, record)
    output = _failures(out, f"checkout-{slo}-{proof}.test.yml")
    assert check in output, output


# The synthetic series: regular expressions, label sets, and the selectors they must satisfy.

@pytest.mark.parametrize("pattern,first", [
    ("5..", "500"), ("5..|429", "500"), (r"0\.30*", "0.3"), (r"1(\.0*)?", "1"),
    ("Unavailable|Internal", "Unavailable"),
    ("[^/]+", "0"), ("[[:digit:]]{3}", "000"), (r"[a-z]+-\d", "a-0"), ("(?i)get", "get"), ("", ""),
    (r"/api/.+", "/api/0"), (r"\w+@\w+\.com", "0@0.com"),
])
def test_regex_examples_fully_match(pattern: str, first: str):
    examples = regex_examples(pattern)
    assert examples[0] == first
    assert all(re.fullmatch(pattern.replace("[[:digit:]]", "[0-9]"), e, re.ASCII) for e in examples)
    assert len(set(examples)) == len(examples)


def test_regex_syntax_python_cannot_check_the_re2_way_is_refused():
    for pattern in (r"\pL+", r"a\z", "[[:^alpha:]]"):
        with pytest.raises(NoProof):
            regex_examples(pattern)
    assert full_match("5..", "503") and not full_match("5..", "5031")  # anchored, as Prometheus does


def _m(name: str, op: str, value: str) -> ir.LabelMatcher:
    return ir.LabelMatcher(name=name, op=op, value=value)  # type: ignore[arg-type]


def test_label_sets_satisfy_every_matcher_and_leave_negative_ones_out():
    matchers = (_m("job", "=", "x"), _m("code", "=~", "5.."), _m("code", "!=", "500"), _m("method", "!~", "GET|HEAD"),
                _m("host", "!=", ""), _m("env", "=~", ".*"))
    assert label_set(matchers) == {"job": "x", "code": "5aa", "host": "relc"}
    assert label_set((_m("a", "=", "1"), _m("a", "=", "2"))) is None
    assert label_set((_m("a", "!~", ".*"),)) is None


def _sli(text: str, tmp_path: Path) -> ir.SLI:
    path = tmp_path / "sli.relc"
    path.write_text(f"service s {{ slo o {{ objective = 99% sli {text} }} }}", encoding="utf-8")
    result = compile_paths([str(path)])
    assert result.ok, result.diagnostics
    return result.project.services[0].slos[0].sli


@pytest.mark.parametrize("sli,expected", [
    ('events { bad = r_total{job="a", code=~"5.."} total = r_total{job="a"} }',
     [('r_total{job="a",code="500"}', "bad"), ('r_total{job="a"}', "good")]),
    ('events { good = r_total{code=~"2..|3.."} total = r_total }',
     [('r_total{code="200"}', "good"), ("r_total", "bad")]),
    ('events { bad = e_total{q="a"} total = s_total{q="a"} }',
     [('e_total{q="a"}', "bad"), ('s_total{q="a"}', "total")]),
    ('events { bad = x_total{kind="bad"} total = x_total{kind="all"} }',
     [('x_total{kind="bad"}', "bad"), ('x_total{kind="all"}', "total")]),
    ('events { bad = r_total{code=~"5..", path!~"/health.*"} total = r_total{path!~"/health.*"} }',
     [('r_total{code="500"}', "bad"), ("r_total", "good")]),
    ('latency { histogram = d_seconds{h=~"/api/.+", h!="/api/x"} threshold = 250ms }',
     [('d_seconds_count{h="/api/0"}', "total"), ('d_seconds_bucket{h="/api/0",le="0.25"}', "good")]),
    ('latency { histogram = d_seconds threshold = 1s le = "1.0" }',
     [("d_seconds_count", "total"), ('d_seconds_bucket{le="1"}', "good")]),
])
def test_source_series_drive_the_real_selectors(sli: str, expected, tmp_path: Path):
    assert [(s.text(), s.role) for s in source_series(_sli(sli, tmp_path))] == expected


@pytest.mark.parametrize("sli", ['events { bad = y_total{a="1"} total = y_total{a="2", a="3"} }',
                                 'events { bad = "sum(rate(e_total[$window]))" total = t_total }',  # raw
                                 'raw { error_ratio = "sum(rate(e_total[$window])) / sum(rate(t_total[$window]))" }'])
def test_unsatisfiable_or_raw_slis_have_no_series(sli: str, tmp_path: Path):
    with pytest.raises(NoProof):
        source_series(_sli(sli, tmp_path))


def test_counter_values_are_promtool_expanding_notation():
    run = Run(n=100, bad=((120, 300, 7),), eval_s=60, end_s=420, good_form=False, budget=0.01)
    assert run.values("bad") == "0+0x2 7+7x2 21+0x1"          # 0 0 0 7 14 21 21 21
    assert run.values("good") == "0+100x2 293+93x2 579+100x1"
    assert run.values("total") == "0+100x2 300+100x2 600+100x1"


def test_the_rate_model_is_exact_on_full_windows():
    """Errors from 1h at 2% of traffic: the 1h ratio grows linearly, as the Workbook formula assumes."""
    run = Run(n=1000, bad=((3600, 7200, 20),), eval_s=60, end_s=7200, good_form=False, budget=0.001)
    for open_left in (False, True):
        assert run.ratio(3600 + 1800, 3600, open_left) == pytest.approx(0.01)
        assert run.ratio(7200, 3600, open_left) == pytest.approx(0.02)
        assert run.ratio(7200, 300, open_left) == pytest.approx(0.02)


def test_relc_test_command_runs_the_proofs_and_reports(tmp_path: Path):
    """`relc test` builds, runs promtool on every proof and exits 0; the kept directory holds them."""
    require_tool("promtool")
    result = CliRunner().invoke(main, ["test", "tests/good/imports", "--keep", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "proof file(s) passed" in result.output
    assert sorted(p.name for p in (tmp_path / "prometheus" / "tests").glob("*.test.yml"))


def test_relc_test_without_promtool_says_so(monkeypatch):
    from relc.compiler.commands import prooftest as prooftest

    monkeypatch.setattr(prooftest, "promtool_path", lambda: None)
    result = CliRunner().invoke(main, ["test", "tests/good/imports"])
    assert result.exit_code == 2 and "needs promtool, which is not installed" in result.output
