"""Inputs that once ended in a traceback, a kill or a hang are located diagnostics now, for every command.

Each class is tried in a few forms: extreme numbers and durations, PromQL too large or too deep for its parser,
nesting past what later stages can recurse through, names and paths past the file system's limits, files that
are not regular files, and a damaged manifest in the output directory."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from relc.compiler.output import manifest as manifest
from relc.compiler.commands.cli import main

EVENTS = "sli events { bad = e_total total = t_total }"


def slo(extra: str = "", objective: str = "99%", sli: str = EVENTS) -> str:
    return f"service x {{\n  slo y {{\n    objective = {objective}\n    {extra}\n    {sli}\n  }}\n}}\n"


def policy(burn: str = "14.4", long: str = "1h", short: str = "5m") -> str:
    return (f'alert_policy p {{\n  tier t {{ burn_rate = {burn} long = {long} short = {short} severity = "page" }}\n}}\n'
            + slo("alert_policy = p"))


def raw(query: str) -> str:
    return slo(sli=f'sli raw {{ error_ratio = r#"rate(x[$window]) + {query}"# }}')


CASES = {  # name: (source, code, text the message holds)
    "min_events of 5 000 digits": (slo("min_events = " + "9" * 5000), "RELC106", "out of range"),
    "min_events 1e999999999": (slo("min_events = 1e999999999"), "RELC106", "1e999999999"),
    "objective 1e9999": (slo(objective="1e9999"), "RELC106", "1e9999"),
    "objective of 5 000 digits": (slo(objective="9" * 5000 + "%"), "RELC106", "percentage"),
    "burn rate 1e9999": (policy(burn="1e9999"), "RELC106", "1e9999"),
    "burn rate 1e-9999": (policy(burn="1e-9999"), "RELC106", "1e-9999"),
    "window of 10^25 years": (slo("window = 10000000000000000000000000y"), "RELC106", "duration"),
    "window of 5 000 digits": (slo("window = " + "9" * 5000 + "d"), "RELC106", "duration"),
    "window 0s": (slo("window = 0s"), "RELC312", ""),
    "window 1.5s": (slo("window = 1.5s"), "RELC312", ""),
    "tier long of 10^20 years": (policy(long="99999999999999999999y"), "RELC106", "duration"),
    "no_data_after of 10^23 years": (slo("no_data_after = 99999999999999999999999y"), "RELC106", "duration"),
    "threshold of 5 000 digits": (slo(sli="sli latency { histogram = h threshold = " + "9" * 5000 + "ms }"),
                                  "RELC106", "duration"),
    "PromQL nested 8 000 deep": (raw("(" * 8000 + "x" + ")" * 8000), "RELC308", "nests"),
    "PromQL of 4 000 terms": (raw("+".join(f"rate(m_{i}[$window])" for i in range(4000))), "RELC308", "characters"),
    "PromQL of 2 000 short terms": (raw("+".join(["a"] * 2000)), "RELC308", "operators"),
    "selector query nested 3 000 deep": (slo(sli='sli events { bad = r#"' + "sum(" * 3000 + "rate(x[$window])" + ")" * 3000
                                             + '"# total = t }'), "RELC308", "nests"),
    "maps nested 400 deep": (slo("labels = " + "{a = " * 400 + "1" + "}" * 400), "RELC104", "nest"),
    "lists nested 5 000 deep": (slo("labels = " + "[" * 5000 + "]" * 5000), "RELC104", "nest"),
    "blocks nested 3 000 deep": ("service x { " * 3000 + "}" * 3000, "RELC104", "nest"),
    "service name of 300 characters": (f"service {'s' * 300} {{ slo y {{ objective = 99% {EVENTS} }} }}\n",
                                       "RELC307", "300 characters"),
    "SLO name of 300 characters": (f"service x {{ slo {'s' * 300} {{ objective = 99% {EVENTS} }} }}\n",
                                   "RELC307", "300 characters"),
    "import path of 5 000 characters": ('import "' + "a" * 5000 + '.relc"\n' + slo(), "RELC201", "too long"),
    "import of a directory": ('import "."\n' + slo(), "RELC201", "directory"),
    "pack path of 5 000 characters": ('use "./' + "a" * 5000 + '" { }\n' + slo(), "RELC205", "too long"),
}


def run(args: list[str]):
    return CliRunner().invoke(main, args, catch_exceptions=False)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["check", "build", "fmt"])
def test_extreme_input_is_a_located_diagnostic(case: str, command: str, tmp_path: Path):
    source, code, words = CASES[case]
    (tmp_path / "main.relc").write_text(source, encoding="utf-8")
    args = {"check": ["check", "--no-config", "--format", "json", str(tmp_path / "main.relc")],
            "build": ["build", "--no-config", "--format", "json", str(tmp_path / "main.relc"), "-o",
                      str(tmp_path / "out")],
            "fmt": ["fmt", "--check", str(tmp_path / "main.relc")]}[command]
    result = run(args)
    assert "internal error" not in result.output and "Traceback" not in result.output, result.output
    if command == "fmt":  # fmt reports what the parser finds; the rest is valid syntax, formatted or not
        assert result.exit_code in (0, 1)
        return
    assert result.exit_code == 1, result.output
    assert f'"code": "{code}"' in result.output and words in result.output, result.output
    assert '"line": ' in result.output  # located in the source


def test_a_number_at_the_limits_is_accepted(tmp_path: Path):
    (tmp_path / "main.relc").write_text(slo("min_events = 1000000000000000\n    window = 100y"), encoding="utf-8")
    result = run(["check", "--no-config", str(tmp_path / "main.relc")])
    assert "RELC106" not in result.output, result.output


def test_caret_of_a_span_far_along_a_long_line_stays_under_it(tmp_path: Path):
    (tmp_path / "main.relc").write_text(f'service x {{ description = "{"d" * 5000}" slo y {{ objective = 1e9999 '
                                        f'{EVENTS} }} }}\n', encoding="utf-8")
    result = run(["check", "--no-config", str(tmp_path / "main.relc")])
    source, underline = [line for line in result.output.splitlines() if " | " in line][:2]
    at = underline.index("^")
    assert source[at:at + 6] == "1e9999" and len(source) < 300, result.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
@pytest.mark.parametrize("args", [["check", "{d}"], ["check", "{d}/pipe.relc"], ["build", "{d}/pipe.relc", "-o",
                                  "{d}/out"], ["fmt", "{d}/pipe.relc"], ["import", "sloth", "{d}/pipe.yaml"],
                                  ["import", "openslo", "{d}/pipe.yaml"], ["check", "{d}/importer.relc"]])
def test_a_fifo_is_never_opened_for_reading(tmp_path: Path, args: list[str]):
    """A FIFO blocks whoever opens it until a writer comes: relc must refuse it, not wait forever."""
    os.mkfifo(tmp_path / "pipe.relc")
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "importer.relc").write_text('import "pipe.relc"\n' + slo())
    if args == ["check", "{d}"]:
        (tmp_path / "importer.relc").write_text(slo())
    command = [sys.executable, "-m", "relc.compiler", *[a.format(d=tmp_path) for a in args]]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    if args != ["check", "{d}"]:  # a directory search passes over it, reading the rest
        assert done.returncode == 1 and "not a regular file" in done.stderr, done.stderr


DAMAGED_MANIFESTS = ["null", "[]", "\xff\xfe", "[" * 100_000, '{"generator": "relc", "targets": []}',
                     '{"generator": "relc", "targets": {"prometheus": {"files": [1, 2]}}}',
                     '{"generator": "relc", "targets": {"prometheus": "x", "": {}}}',
                     '{"generator": "relc", "targets": {"../x": {"files": {"a": "b"}}}}',
                     '{"generator": "relc", "targets": {"prometheus": {"files": {"../../etc/passwd": "1"}}}}']


@pytest.mark.parametrize("text", DAMAGED_MANIFESTS, ids=range(len(DAMAGED_MANIFESTS)))
def test_a_damaged_manifest_is_read_as_no_manifest(tmp_path: Path, text: str):
    source = tmp_path / "main.relc"
    source.write_text(slo())
    out = tmp_path / "out"
    assert run(["build", "--no-config", str(source), "-o", str(out), "-t", "prometheus"]).exit_code == 0
    (out / manifest.MANIFEST_NAME).write_text(text, encoding="utf-8", errors="surrogateescape")
    listing = manifest.read(out)
    assert all(name == "prometheus" for name in listing) and all(
        ".." not in path for files in listing.values() for path in files)
    again = run(["build", "--no-config", str(source), "-o", str(out), "-t", "prometheus"])
    assert again.exit_code == 0, again.output
    assert run(["build", "--no-config", str(source), "-o", str(out), "-t", "prometheus", "--check"]).exit_code == 0


SPEC = Path(__file__).parent / "fuzz_seeds" / "openslo.yaml"
IMPORTED_EXTREMES = {  # what the campaign found: values an importer reads from YAML, past the parser's check
    "duration of 10^60 days": ("duration: 28d", "duration: " + "9" * 60 + "d"),
    "target 1e999": ("target: 0.995", "target: 1e999"),
    "target of 400 digits": ("target: 0.995", "target: 0." + "9" * 400),
}


@pytest.mark.parametrize("case", sorted(IMPORTED_EXTREMES))
def test_extreme_values_in_an_imported_spec_are_located(case: str, tmp_path: Path):
    old, new = IMPORTED_EXTREMES[case]
    text = SPEC.read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "spec.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    result = run(["check", "--no-config", "--format", "json", str(tmp_path / "spec.yaml")])
    assert "internal error" not in result.output, result.output
    assert result.exit_code == 1 and '"line": ' in result.output, result.output
