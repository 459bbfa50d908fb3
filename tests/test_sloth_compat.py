"""relc's alerts fire when Sloth's do, for the Sloth examples that relc can express.

Sloth (github.com/slok/sloth, Apache-2.0) is read in place from ../shared/peers/sloth: its
`examples/*.yml` specs and the rules it generated from them, `examples/_gen/*.yml` (period 30d).
For each covered example, tests/sloth_compat/<example>.relc is the hand-written relc equivalent and
tests/sloth_compat/scenarios.yml the synthetic traffic and the expected alerts. Each scenario is one
`promtool test rules` run that loads Sloth's rules and relc's together (relc's built from the hand-written
equivalent, and again from the Sloth spec itself with Sloth's labels kept: variant `imported`) (Sloth records `slo:*`, relc
`relc_slo:*`), feeds the same series to both and, at every evaluation step t, asserts per SLO and
severity (Sloth: its alert with `sloth_severity`; relc: its alert with `severity`, any tier):

- firing agrees within one evaluation step: if one side fires at t, the other fires at t-1, t or
  t+1 step (checked some steps later, with `offset`), so starts and stops may differ by one step;
  tickets may differ by up to 5 minutes, the one documented exception (below);
- the expected alerts really fire: at every step of an expected span both sides fire, and more than
  one step outside the spans neither does (so no comparison can pass vacuously).

Example                               Covered  How, or why not
getting-started                       yes      `events` SLI written as PromQL strings
multifile                             yes      two services (99.9%, 99.99%) reading the same series
kubernetes-apiserver                  yes      written with relc's selector `events` and `latency` SLIs
home-wifi                             yes      `events` SLI over subqueries (`[{{.window}}:]`)
raw-home-wifi                         yes      `raw` SLI
no-alerts                             yes      relc `alert_policy = none`: neither side ever alerts
k8s-getting-started                   yes      PrometheusRule output; rules equal getting-started's
                                               (asserted below), and one scenario runs end to end
k8s-multifile, k8s-home-wifi          yes      rules equal multifile's, home-wifi's (asserted below)
slo-plugin-(k8s-)getting-started      yes      debug SLO plugins only: rules equal getting-started's
plugin-(k8s-)getting-started          no       the SLI is a Sloth plugin
contrib-slo-plugins                   no       Sloth contrib plugins (info labels, rule intervals)
contrib-denominator-corrected         no       the plugin scales the SLI by traffic; relc has no equivalent
openslo-*                             no       OpenSLO v1alpha input, not a Sloth spec
victoria-metrics                      no       MetricsQL (histogram_share), not PromQL

Intentional differences. Sloth computes its 30d error ratio as the average of its 5m ratios and its
1d/3d ratios directly from the source series; relc computes every window of a day or more from its
recorded 5m series: total bad / total events for events SLIs (exact), the average of the 5m ratios
for raw SLIs. Under uniform traffic these agree, which is why the alert scenarios use it; under
uneven traffic relc's 30d ratio is the true one and Sloth's is not (scenario `uneven-traffic`).
Those day-plus windows sum 5m rates recorded at every evaluation, so the newest five minutes weigh
less than older ones and the ratio trails the exact one by about half the 5m base window at a step
change (two 1m steps here): a ticket, whose long windows are 1d and 3d, may start up to 5 minutes
after Sloth's. That is the price of reading one recorded series instead of `rate(...[3d])` over
every raw series; pages (windows of 6h or less, read from the source) get no such allowance.
Sloth's error budget is `1 - objective` in floating point (0.0009999999999999432 for 99.9%), relc's
is exact; no scenario sits on a threshold. Sloth's alerts read recording rules of another group, so
in Prometheus they may lag one evaluation behind them; here the groups run in file order.
"""
from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from relc.compiler.commands.cli import main

from conftest import ROOT, require_tool

SLOTH = Path(__file__).resolve().parents[2] / "shared" / "peers" / "sloth"
HERE = ROOT / "tests" / "sloth_compat"
RELC_LONG_WINDOW_LAG_MIN = 5  # relc's 1d+ windows trail the exact ratio by < one 5m base window
SPEC = yaml.safe_load((HERE / "scenarios.yml").read_text(encoding="utf-8"))
CASES = [(ex, sc) for ex, conf in SPEC["examples"].items() for sc in conf["expect"]]
UNITS = {"m": 1, "h": 60, "d": 1440}

pytestmark = pytest.mark.skipif(not (SLOTH / "examples" / "_gen").is_dir(),
                                reason=f"Sloth peer corpus not found at {SLOTH} (see ../shared/peers/README.md)")


def minutes(text: str) -> int:
    """'1d6h30m' -> 1830."""
    parts = re.findall(r"(\d+)([mhd])", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"bad duration {text!r}"
    return sum(int(n) * UNITS[u] for n, u in parts)


def sloth_groups(example: str) -> list[dict]:
    """The rule groups of Sloth's _gen file (k8s outputs are PrometheusRule manifests)."""
    docs = [d for d in yaml.safe_load_all((SLOTH / "examples" / "_gen" / example).read_text()) if d]
    return [g for d in docs for g in (d["spec"] if d.get("kind") == "PrometheusRule" else d)["groups"]]


def relc_rules(source: str, out: Path) -> list[Path]:
    result = CliRunner().invoke(main, ["build", str(HERE / source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return sorted((out / "prometheus").glob("*.rules.yml"))


def imported_rules(example: str, out: Path) -> list[Path]:
    """relc's rules built from the Sloth spec itself, Sloth's labels kept (relc.yaml `sloth: {labels: true}`)."""
    out.mkdir(parents=True, exist_ok=True)
    config = out / "relc.yaml"
    config.write_text(f"sources: [{SLOTH / 'examples' / example}]\nsloth: {{labels: true}}\n")
    result = CliRunner().invoke(main, ["build", "--config", str(config), "-o", str(out / "build"),
                                       "-t", "prometheus"])
    assert result.exit_code == 0, result.output
    return sorted((out / "build" / "prometheus").glob("*.rules.yml"))


def expand(phases: list[dict]) -> list[dict]:
    """Flatten `{repeat: n, phases: [...]}` blocks."""
    flat = []
    for phase in phases:
        flat += expand(phase["phases"]) * phase["repeat"] if "repeat" in phase else [phase]
    return flat


def input_series(family: dict, phases: list[dict], step: int) -> list[dict]:
    """Counters get `default`/phase events per minute, gauges their value, one sample per step."""
    series = []
    for name, conf in family["series"].items():
        counter = "counter" in conf
        value, parts = 0.0, ["0"] if counter else []
        for phase in phases:
            n, x = minutes(phase["for"]) // step, phase.get(name, conf["default"])
            if counter:
                parts.append(f"{value + x * step:.10g}+{x * step:.10g}x{n - 1}")
                value += x * step * n
            else:  # the first phase also gives the sample at minute 0
                parts.append(f"{x}x{n - 1 if parts else n}")
        for i in range(conf.get("copies", 1)):
            selector = (conf.get("counter") or conf["gauge"]).replace("$i", str(i))
            series.append({"series": selector, "values": " ".join(parts)})
    return series


def firing(selector: str, steps_back: int, step: int) -> str:
    offset = f" offset {steps_back * step}m" if steps_back else ""
    return f'count(ALERTS{{{selector},alertstate="firing"}}{offset})'


def problem(expr: str, text: str) -> str:
    return f'label_replace({expr}, "problem", "{text}", "", "")'


def tolerance(severity: str, step: int) -> int:
    """Steps of allowed difference: one, except where relc's day-plus windows lag (see the docstring)."""
    return max(1, RELC_LONG_WINDOW_LAG_MIN // step) if severity == "ticket" else 1


def step_check(example: dict, expected: dict, t: int, step: int, lag: int, imported: bool = False) -> str:
    """A query for everything wrong at minute t, evaluated `lag` steps later (so it can look ahead). With
    `imported`, relc's alerts come from the Sloth spec itself and carry Sloth's name and labels; relc's own
    `alert_tier` label tells them apart."""
    clauses = []
    for slo, (sloth_name, relc_name) in example["slos"].items():
        service, name = slo.split("/")
        for sev in ("page", "ticket"):
            sloth = f'alertname="{sloth_name}",sloth_service="{service}",sloth_slo="{name}",sloth_severity="{sev}"'
            sides = {"Sloth": sloth + ',alert_tier=""',
                     "relc": sloth + ',alert_tier!=""' if imported else f'alertname="{relc_name}",severity="{sev}"'}
            for (a, sel_a), (b, sel_b) in (tuple(sides.items()), tuple(sides.items())[::-1]):
                k = tolerance(sev, step)
                near = " or ".join(firing(sel_b, j, step) for j in range(max(0, lag - k), lag + k + 1))
                clauses.append(problem(f"{firing(sel_a, lag, step)} unless on() ({near})",
                                       f"minute {t}: {slo} {sev}: {a} fires, {b} not within {k} step(s)"))
            spans = [(minutes(s), minutes(e)) for s, e in expected.get(slo, {}).get(sev, [])]
            margin = tolerance(sev, step) * step
            for side, sel in sides.items():
                if any(s <= t <= e for s, e in spans):
                    clauses.append(problem(f"absent({firing(sel, lag, step)})",
                                           f"minute {t}: {slo} {sev}: {side} should fire"))
                elif not any(s - margin <= t <= e + margin for s, e in spans):
                    clauses.append(problem(firing(sel, lag, step), f"minute {t}: {slo} {sev}: {side} should not fire"))
    if not example["slos"]:
        clauses.append(problem(f"count(ALERTS offset {lag * step}m)", f"minute {t}: an alert fired"))
    return " or ".join(clauses)


def promtool_test(example: str, scenario_name: str, rule_files: list[Path], imported: bool = False) -> dict:
    conf = SPEC["examples"][example]
    scenario = SPEC["families"][conf["family"]]["scenarios"][scenario_name]
    expected, phases, step = conf["expect"][scenario_name] or {}, expand(scenario["phases"]), minutes(scenario["step"])
    end = sum(minutes(p["for"]) for p in phases)
    lag = tolerance("ticket", step)
    checks = [{"expr": step_check(conf, expected, t, step, lag, imported), "eval_time": f"{t + lag * step}m",
               "exp_samples": []} for t in range(0, end, step)]
    for check in scenario.get("checks", []):
        samples = [{"labels": "{}", "value": check["value"]}] if "value" in check else []
        checks.append({"expr": check["expr"], "eval_time": check["at"], "exp_samples": samples})
    # promtool runs groups in random order unless told; Sloth's alerts read its recording groups.
    order = [g["name"] for f in rule_files for g in yaml.safe_load(f.read_text())["groups"]]
    return {"rule_files": [str(f) for f in rule_files], "evaluation_interval": scenario["step"],
            "group_eval_order": order, "tests": [{"interval": scenario["step"],
            "input_series": input_series(SPEC["families"][conf["family"]], phases, step), "promql_expr_test": checks}]}


def run_case(example: str, scenario: str, rule_files: list[Path], imported: bool = False
             ) -> tuple[Path, subprocess.CompletedProcess]:
    path = rule_files[0].parent / f"{scenario}{'-imported' if imported else ''}.test.yml"
    path.write_text(yaml.safe_dump(promtool_test(example, scenario, rule_files, imported), sort_keys=False,
                                   width=1 << 16))
    return path, subprocess.run([require_tool("promtool"), "test", "rules", str(path)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def promtool_runs(request, tmp_path_factory) -> dict:
    """Run the selected scenarios' promtool tests in parallel (they take most of this module's time)."""
    require_tool("promtool")
    wanted = [(i.callspec.params["example"], i.callspec.params["scenario"], i.callspec.params["variant"])
              for i in request.session.items if i.originalname == "test_relc_alerts_fire_when_sloths_do"]
    rules = {}
    for example, scenario, variant in wanted:  # relc in-process is not thread-safe: build first
        sloth = tmp_path_factory.mktemp(scenario) / "sloth.rules.yml"
        sloth.write_text(yaml.safe_dump({"groups": sloth_groups(example)}, sort_keys=False))
        relc = (imported_rules(example, sloth.parent / "imported") if variant == "imported" else
                relc_rules(SPEC["examples"][example]["relc"], sloth.parent / "relc"))
        rules[example, scenario, variant] = [sloth, *relc]
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        return dict(zip(wanted, pool.map(lambda case: run_case(case[0], case[1], rules[case], case[2] == "imported"),
                                         wanted)))


@pytest.mark.parametrize("variant", ["written", "imported"])
@pytest.mark.parametrize("example,scenario", CASES, ids=[f"{e.rsplit('.', 1)[0]}-{s}" for e, s in CASES])
def test_relc_alerts_fire_when_sloths_do(example: str, scenario: str, variant: str, promtool_runs: dict):
    """`written`: the hand-written relc equivalent; `imported`: the Sloth spec itself, built by relc."""
    path, proc = promtool_runs[example, scenario, variant]
    report = [re.sub(r'expr: ".*", time:', "time:", line) for line in (proc.stdout + proc.stderr).splitlines()
              if re.search(r"time:|got:|exp:|rror", line)]
    assert proc.returncode == 0, f"{path}:\n" + "\n".join(report[:90])


def without_sloth_metadata(groups: list[dict]) -> list[dict]:
    """Drop the rule `sloth_slo_info`, whose labels name the input format and the generator mode."""
    return [{**g, "rules": [r for r in g["rules"] if r.get("record") != "sloth_slo_info"]} for g in groups]


@pytest.mark.parametrize("variant,same_as", [
    ("k8s-getting-started.yml", "getting-started.yml"), ("k8s-multifile.yml", "multifile.yml"),
    ("k8s-home-wifi.yml", "home-wifi.yml"), ("slo-plugin-getting-started.yml", "getting-started.yml"),
    ("slo-plugin-k8s-getting-started.yml", "getting-started.yml")])
def test_variants_generate_the_rules_of_a_covered_example(variant: str, same_as: str, tmp_path: Path):
    """So the scenarios of `same_as` hold for `variant` too; relc's mirrors of both compile alike."""
    assert without_sloth_metadata(sloth_groups(variant)) == without_sloth_metadata(sloth_groups(same_as))
    if (HERE / variant.replace(".yml", ".relc")).exists():
        built = [[f.read_text() for f in relc_rules(ex.replace(".yml", ".relc"), tmp_path / ex)]
                 for ex in (variant, same_as)]
        assert built[0] == built[1]
