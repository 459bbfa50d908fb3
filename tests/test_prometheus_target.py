"""Prometheus target options and alert kinds, judged by promtool where it can judge them."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from relc.compiler.model import ir as ir
from relc.compiler.commands.cli import main
from relc.compiler.pipeline import compile_paths
from relc.compiler.check.promql import quote, render_selector
from relc.compiler.units import prom_duration
from relc.targets.openslo import _SLOTS, _YAML_WORDS as YAML_WORDS, plain_name, policy_doc, policy_text
from relc.targets.shared.promql_sli import Rates, bad_and_total, le_matcher, rate
from relc.targets.shared.yamlout import dump

from conftest import firing, promtool_unit, require_tool


def build(src: str, out: Path, *options: str) -> list[Path]:
    args = ["build", src, "-o", str(out)]
    for option in options:
        args += ["-O", option]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return sorted(p for p in (out / "prometheus").glob("*.y*ml"))


def promtool_check(groups: list[dict], tmp_path: Path) -> None:
    path = tmp_path / "extracted.rules.yml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    proc = subprocess.run([require_tool("promtool"), "check", "rules", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_operator_layout_is_a_prometheusrule_with_valid_groups(tmp_path: Path):
    files = build("examples/shop", tmp_path, "prometheus.layout=operator", "prometheus.namespace=monitoring",
                  "prometheus.rule_labels=prometheus=k8s,role=alert-rules")
    assert [f.name for f in files] == ["catalog.prometheusrule.yaml", "checkout.prometheusrule.yaml",
                                       "orders-worker.prometheusrule.yaml"]
    manifest = yaml.safe_load(files[2].read_text())
    assert manifest["apiVersion"] == "monitoring.coreos.com/v1" and manifest["kind"] == "PrometheusRule"
    assert manifest["metadata"] == {"name": "relc-orders-worker", "namespace": "monitoring", "labels": {
        "app.kubernetes.io/managed-by": "relc", "prometheus": "k8s", "role": "alert-rules"}}
    promtool_check(manifest["spec"]["groups"], tmp_path)


def test_mimir_layout_has_one_namespace_per_service(tmp_path: Path):
    files = build("examples/shop", tmp_path, "prometheus.layout=mimir")
    document = yaml.safe_load(files[1].read_text())
    assert document["namespace"] == "relc-checkout"
    promtool_check(document["groups"], tmp_path)


def test_thanos_partial_response_and_interval_on_every_group(tmp_path: Path):
    files = build("examples/shop", tmp_path, "prometheus.partial_response_strategy=warn", "prometheus.interval=30s")
    for file in files:
        groups = yaml.safe_load(file.read_text())["groups"]
        assert all(g["partial_response_strategy"] == "warn" and g["interval"] == "30s" for g in groups)
        for group in groups:  # Prometheus itself does not know the Thanos field; everything else must pass
            del group["partial_response_strategy"]
        promtool_check(groups, tmp_path)


@pytest.mark.parametrize("option, message", [
    ("prometheus.layuot=operator", "did you mean `prometheus.layout`?"),
    ("prometheus.layout=k8s", "must be one of plain, operator, mimir"),
    ("justakey", "is not of the form target.key=value"),
])
def test_bad_options_are_diagnostics(option: str, message: str, tmp_path: Path):
    result = CliRunner().invoke(main, ["build", "examples/shop", "-o", str(tmp_path), "-O", option])
    assert result.exit_code == 1 and "RELC403" in result.output and message in result.output
    assert not (tmp_path / "prometheus").exists()


def test_targets_verbose_lists_options():
    result = CliRunner().invoke(main, ["targets", "-v"])
    assert "-O prometheus.layout=plain|operator|mimir\n" in result.output


GUARDED = """
budget_policy steps {
  threshold { remaining = 50%  actions = ["Review"] }
  threshold { remaining = 0%  severity = "page"  actions = ["Freeze {{ launches }}"] }
}
service api {
  slo availability {
    objective = 99%
    window = 2h
    alert_policy = fast
    budget_policy = steps
    sli events { bad = errors_total  total = requests_total }
  }
}
alert_policy fast {
  min_events = 500
  no_data_after = 10m
  tier page { severity = "page"  burn_rate = 10  long = 30m  short = 5m }
}
"""


@pytest.fixture
def guarded_rules(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "api.relc").write_text(GUARDED)
    return build(str(tmp_path / "src"), tmp_path / "out")[0]


def test_min_events_keeps_a_quiet_night_from_paging(guarded_rules: Path, tmp_path: Path):
    """5 errors in 10 requests a minute is a 50% error rate, but only 300 events in 30m: below 500, no page."""
    quiet = [{"series": "requests_total", "values": "0+10x60"}, {"series": "errors_total", "values": "0+5x60"}]
    promtool_unit(guarded_rules, quiet, [firing("ApiAvailabilityBudgetBurn", "page", m, False) for m in (10, 40, 60)],
          tmp_path)
    busy = [{"series": "requests_total", "values": "0+100x60"}, {"series": "errors_total", "values": "0+50x60"}]
    promtool_unit(guarded_rules, busy, [firing("ApiAvailabilityBudgetBurn", "page", 10, True)], tmp_path)


def test_no_data_alert_fires_after_its_delay(guarded_rules: Path, tmp_path: Path):
    series = [{"series": "unrelated_metric", "values": "0+1x30"}]
    checks = [firing("ApiAvailabilityBudgetBurnNoData", "no-data", 5, False),
              firing("ApiAvailabilityBudgetBurnNoData", "no-data", 11, True)]
    promtool_unit(guarded_rules, series, checks, tmp_path)


def test_budget_policy_alerts_fire_one_band_at_a_time(guarded_rules: Path, tmp_path: Path):
    """1% budget over 2h: 0.6% errors leaves ~40% (the 50% step), 5% errors exhausts it (the 0% step only)."""
    alert = "ApiAvailabilityBudgetBurnErrorBudget"
    half = [{"series": "requests_total", "values": "0+1000x130"}, {"series": "errors_total", "values": "0+6x130"}]
    promtool_unit(guarded_rules, half, [firing(alert, "budget-50pct", 125, True),
                                firing(alert, "budget-exhausted", 125, False)], tmp_path)
    spent = [{"series": "requests_total", "values": "0+1000x130"}, {"series": "errors_total", "values": "0+50x130"}]
    promtool_unit(guarded_rules, spent, [firing(alert, "budget-50pct", 125, False),
                                 firing(alert, "budget-exhausted", 125, True)], tmp_path)


def test_budget_alert_text_from_source_is_not_templated(guarded_rules: Path):
    rules = yaml.safe_load(guarded_rules.read_text())["groups"][0]["rules"]
    exhausted = next(r for r in rules if r.get("labels", {}).get("alert_tier") == "budget-exhausted")
    assert 'Freeze {{ "{{" }} launches }}' in exhausted["annotations"]["description"]
    assert "{{ $value | humanizePercentage }}" in exhausted["annotations"]["description"]


# --- fast paths that must say exactly what the slow ones said ----------------------------------------------

def reference_quote(value: str) -> str:
    """quote() as it was: one character at a time."""
    out = ['"']
    for ch in value:
        escapes = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
        out.append(escapes.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch))
    out.append('"')
    return "".join(out)


@settings(max_examples=3000, deadline=None)
@given(st.text() | st.text(alphabet=st.characters(max_codepoint=0x80)))
def test_quote_matches_the_character_loop(value: str):
    assert quote(value) == reference_quote(value)


def test_quote_escapes_every_control_character():
    for code in [*range(0x20), 0x7F, 0x80, ord('"'), ord("\\")]:
        assert quote(f"a{chr(code)}b") == reference_quote(f"a{chr(code)}b")


def reference_bad_and_total(sli, window_s: int) -> tuple[str, str]:
    """bad_and_total as it was: every selector rendered again for every window."""
    window = prom_duration(window_s)
    if isinstance(sli, ir.LatencySLI) and sli.native:
        native, threshold = render_selector(sli.histogram), repr(sli.threshold_seconds)
        total = f"sum(histogram_count(rate({native}[{window}])))"
        return f"{total} * (1 - histogram_fraction(0, {threshold}, sum(rate({native}[{window}]))))", total
    if isinstance(sli, ir.LatencySLI):
        count = f"sum(rate({render_selector(sli.histogram, suffix='_count')}[{window}]))"
        bucket = render_selector(sli.histogram, extra=(le_matcher(sli),), suffix="_bucket")
        return f"{count} - (sum(rate({bucket}[{window}])) or vector(0))", count
    total = rate(sli.total, window)
    if sli.bad is not None:
        return f"{rate(sli.bad, window)} or vector(0)", total
    return f"{total} - ({rate(sli.good, window)} or vector(0))", total


@pytest.mark.parametrize("source", ["examples/shop", "examples/customer", "tests/good",
                                    "tests/sloth_compat/kubernetes-apiserver.relc",
                                    "tests/sloth_compat/home-wifi.relc"])
def test_rates_are_the_per_window_rates(source: str):
    project = compile_paths([source]).project
    slis = [slo.sli for slo in project.slos() if not isinstance(slo.sli, ir.RawSLI)]
    assert slis
    for sli in slis:
        for window_s in (60, 300, 3600, 5400, 86400 * 30):
            assert Rates(sli).at(window_s) == bad_and_total(sli, window_s) == reference_bad_and_total(sli, window_s)


@settings(max_examples=2000, deadline=None)
@given(st.from_regex(r"[a-z][a-z0-9.-]{0,12}", fullmatch=True) | st.sampled_from(sorted(YAML_WORDS)))
def test_openslo_plain_names_are_written_as_they_are(name: str):
    """The OpenSLO target puts such names into alert-policy templates as they are; YAML must agree."""
    assert (dump({"name": name}) == f"name: {name}\n") == plain_name(name)
    assert yaml.safe_load(dump({"name": name}))["name"] == name


def test_openslo_policy_templates_write_what_dump_writes():
    fields = ("relc alert policy `p`, tier `t`", True, "page", 14.4, "1h", "5m")
    for full, target in [("svc-slo-t", "svc-page"), ("1e5", "no"), ("x", _SLOTS[0]), ("a.b", "on-call")]:
        assert policy_text(full, target, fields) == dump(policy_doc(full, target, fields))
    slot = ("relc alert policy `" + _SLOTS[0] + "`", False, "page", -0.0, "1h", "5m")
    assert policy_text("a", "b", slot) == dump(policy_doc("a", "b", slot))
