"""relc.yaml: discovery, precedence under command-line flags, positioned diagnostics, and the published schema."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from relc.compiler.commands.cli import main
from relc.compiler.commands.config import find_config, load_config
from relc.compiler.commands.config_schema import KEYWORDS, SCHEMA, errors

from conftest import ROOT, compare_or_update

PUBLISHED = ROOT / "schemas" / "relc-config.schema.json"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    """A repository with the shop example under slo/, its root the working directory."""
    (tmp_path / ".git").mkdir()
    shutil.copytree(ROOT / "examples" / "shop", tmp_path / "slo")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_published_schema_is_the_source_schema(update_golden: bool):
    compare_or_update(PUBLISHED, json.dumps(SCHEMA, indent=2, ensure_ascii=False) + "\n", update_golden)


def test_schema_is_valid_draft_2020_12_and_documents_every_key():
    schema = json.loads(PUBLISHED.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith("/schemas/relc-config.schema.json") and schema["title"]
    for name, prop in schema["properties"].items():
        assert prop.get("description"), f"{name} has no description"
    used, todo = set(), [SCHEMA]
    while todo:  # every keyword of every subschema; `properties` and `examples` hold names and data
        node = todo.pop()
        used.update(node)
        todo.extend(node["properties"].values() if "properties" in node else ())
        todo.extend(v for k, v in node.items() if isinstance(v, dict) and k not in ("properties", "examples"))
    assert used <= KEYWORDS, f"the fast validator does not implement {used - KEYWORDS}"
    assert {"items", "propertyNames", "pattern", "uniqueItems"} <= used, "the walk reaches nested subschemas"


SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
JSONISH = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                         max_size=3), max_leaves=8)


NAMES = st.sampled_from(["slo", "prometheus", "", "a.relc"])
VALID = {
    "sources": st.lists(st.sampled_from(["slo", "a.relc", "b"]), min_size=1, max_size=3, unique=True),
    "out": st.sampled_from(["gen", "out/x"]),
    "targets": st.lists(st.sampled_from(["prometheus", "grafana"]), min_size=1, max_size=2, unique=True),
    "runbook_base_url": st.just("https://r.example"),
    "dashboard_base_url": st.just(""),
    "options": st.dictionaries(st.sampled_from(["prometheus.layout", "p.q.r", "a-b.c_d"]),
                               st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
                               max_size=3),
    "$schema": st.text(max_size=4),
}
NEAR_MISSES = (st.sampled_from(["", [], [""], ["slo", "slo"], [1, 1.0], [True, 1], {"nodot": "x"}, {"a.b": None}])
               | JSONISH | st.lists(NAMES, max_size=3)
               | st.dictionaries(st.sampled_from(["nodot", "a.", ".b", "a b.c", "x.y"]), JSONISH, max_size=2))


def _with(document: dict, key: str | None, value) -> dict:
    return {**document, key: value} if key else document


# A valid config with at most one key replaced, so a single mistake decides validity; or any JSON value.
CONFIGS = st.builds(_with, st.fixed_dictionaries({}, optional=VALID), st.sampled_from([None, *VALID, "outt"]),
                    NEAR_MISSES) | JSONISH


@settings(max_examples=400, deadline=None)
@given(CONFIGS)
def test_fast_validator_agrees_with_jsonschema(document):
    """relc validates without importing jsonschema; both must accept exactly the same documents."""
    reference = jsonschema.Draft202012Validator(SCHEMA)
    assert (not list(errors(document))) == reference.is_valid(document), list(reference.iter_errors(document))


def test_discovery_walks_up_to_the_repository_root(tmp_path: Path):
    repo, deep = tmp_path / "repo", tmp_path / "repo" / "a" / "b"
    deep.mkdir(parents=True)
    (repo / ".git").mkdir()
    (tmp_path / "relc.yaml").write_text("out: outside\n")
    assert find_config(deep) is None, "a relc.yaml above the repository root is not this project's"
    (repo / "relc.yaml").write_text("out: gen\n")
    assert find_config(deep) == repo / "relc.yaml"
    (deep / "relc.yaml").write_text("out: gen\n")
    assert find_config(deep) == deep / "relc.yaml"


def test_check_without_paths_reads_sources_relative_to_the_config(project: Path, monkeypatch):
    (project / "relc.yaml").write_text("sources: [slo]\n")
    (project / "docs").mkdir()
    monkeypatch.chdir(project / "docs")
    result = invoke("check")
    assert result.exit_code == 0, result.output
    assert "ok: 4 file(s), 5 SLO(s)" in result.output


def test_build_takes_config_defaults_and_flags_override_them(project: Path):
    (project / "relc.yaml").write_text(
        "sources: [slo]\nout: gen\ntargets: [prometheus]\nrunbook_base_url: https://cfg.example/rb\n"
        "options:\n  prometheus.layout: operator\n  prometheus.namespace: monitoring\n")
    assert invoke("build").exit_code == 0
    assert sorted(p.name for p in (project / "gen").iterdir()) == [".relc-manifest.json", "prometheus"]
    rule = (project / "gen" / "prometheus" / "checkout.prometheusrule.yaml").read_text()
    assert "https://cfg.example/rb/checkout/availability.md" in rule and "namespace: monitoring" in rule

    result = invoke("build", "-o", "other", "-O", "prometheus.layout=plain", "-t", "grafana", "-t", "prometheus",
                    "--runbook-base-url", "https://cli.example")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (project / "other").iterdir()) == [".relc-manifest.json", "grafana", "prometheus"]
    assert "https://cli.example/checkout/" in (project / "other" / "prometheus" / "checkout.rules.yml").read_text()


def test_option_values_become_text_as_with_dash_o(tmp_path: Path):
    path = tmp_path / "relc.yaml"
    path.write_text("options:\n  prometheus.tests: true\n  x.interval: 30\n  y.ratio: 0.5\n  z.off: false\n")
    config, diags = load_config(path)
    assert not diags
    assert config.options == {"prometheus.tests": "true", "x.interval": "30", "y.ratio": "0.5", "z.off": "false"}


BAD_CONFIG = """\
sources: slo
outt: gen
targets: [prometheus, prometheus]
options:
  prometheus: x
  prometheus.layout: plain
  prometheus.layout: operator
dashboard_base_url: 2024-01-01
"""


def test_invalid_config_is_reported_at_its_lines_and_stops_the_run(project: Path):
    (project / "relc.yaml").write_text(BAD_CONFIG)
    result = invoke("build", "slo", "-o", "gen")
    assert result.exit_code == 1
    out = result.output
    expected = [
        "relc.yaml:1:10: error[RELC507]: `sources` must be a list, not a string",
        "relc.yaml:2:1: error[RELC507]: unknown key `outt`", "  = hint: did you mean `out`?",
        "relc.yaml:3:23: error[RELC507]: `targets[1]` lists `prometheus` twice",
        "relc.yaml:5:3: error[RELC507]: option `prometheus` is not of the form TARGET.KEY",
        "relc.yaml:7:3: error[RELC507]: key `prometheus.layout` is set twice", "relc.yaml:6:3: note: first set here",
        "relc.yaml:8:21: error[RELC507]: `dashboard_base_url` must be a string, not a date",
    ]
    positions = [out.index(line) for line in expected]
    assert positions == sorted(positions), out
    assert " 2 | outt: gen\n   | ^^^^\n" in out
    assert not (project / "gen").exists(), "an invalid config builds nothing"


def test_yaml_syntax_error_has_a_position(project: Path):
    (project / "relc.yaml").write_text("sources: [slo\nout: gen\n")
    result = invoke("check", "--format", "json")
    assert result.exit_code == 1
    (diag,) = json.loads(result.stdout)["diagnostics"]
    assert diag["code"] == "RELC507" and diag["message"].startswith("invalid YAML")
    assert diag["span"]["path"] == "relc.yaml" and diag["span"]["line"] == 2


def test_target_and_option_errors_point_into_the_config(project: Path):
    (project / "relc.yaml").write_text("sources: [slo]\nout: gen\ntargets: [prometheus, grafan]\n")
    result = invoke("build")
    assert result.exit_code == 1
    assert "relc.yaml:3:23: error[RELC402]: unknown target `grafan`" in result.output
    (project / "relc.yaml").write_text("sources: [slo]\nout: gen\noptions:\n  prometheus.layuot: plain\n")
    result = invoke("build")
    assert "relc.yaml:4:3: error[RELC403]: unknown option `prometheus.layuot`" in result.output
    assert "did you mean `prometheus.layout`?" in result.output
    result = invoke("build", "-O", "prometheus.layuot=plain")
    assert "relc: error[RELC403]: unknown option `prometheus.layuot`" in result.output, "a flag is not in the file"


def test_oversized_unreadable_and_deeply_nested_configs_are_diagnostics(project: Path):
    config = project / "relc.yaml"
    config.write_text("out: gen\n" + "#" * (1024 * 1024))
    result = invoke("check", "slo")
    assert result.exit_code == 1 and "error[RELC506]: cannot read config file relc.yaml: larger than 1 MiB" in result.output
    config.write_bytes(b"out: \xff\n")
    assert "error[RELC506]: config file relc.yaml is not valid UTF-8" in invoke("check", "slo").output
    # libyaml's composer recurses on flow nesting; this depth crashes the process without the guard.
    config.write_text("out: " + "[" * 200_000 + "]" * 200_000 + "\n")
    proc = subprocess.run([sys.executable, "-m", "relc.compiler", "check", "slo"], capture_output=True, text=True,
                          cwd=project)
    assert proc.returncode == 1, proc.stderr[-500:]
    assert "error[RELC507]: relc.yaml nests more than 64 levels deep" in proc.stderr


def test_explicit_config_and_no_config(project: Path):
    (project / "relc.yaml").write_text("outt: broken\n")
    (project / "ci.yaml").write_text("sources: [slo]\n")
    assert invoke("check").exit_code == 1
    assert invoke("check", "--no-config", "slo").exit_code == 0
    result = invoke("check", "--config", "ci.yaml")
    assert result.exit_code == 0 and "ok: 4 file(s)" in result.output
    assert invoke("check", "--config", "missing.yaml").exit_code == 2
    assert invoke("check", "--config", "ci.yaml", "--no-config").exit_code == 2


def test_no_paths_and_no_sources_is_a_usage_error(project: Path):
    result = invoke("check")
    assert result.exit_code == 2 and "no PATH given, and no relc.yaml was found" in result.output
    (project / "relc.yaml").write_text("# nothing yet\n")
    result = invoke("build")
    assert result.exit_code == 2 and "relc.yaml has no `sources`" in result.output
    result = invoke("build", "slo")
    assert result.exit_code == 2 and "missing option -o/--out, and relc.yaml has no `out`" in result.output


PROBE = """
import sys
from relc.compiler.commands.cli import main
try:
    main(["check", "slo"], standalone_mode=False)
except SystemExit as exit_:
    assert exit_.code == 0, exit_.code
print(" ".join(m for m in ("yaml", "jsonschema") if m in sys.modules))
"""


def test_check_imports_no_yaml_without_a_config_and_never_jsonschema(project: Path):
    def loaded() -> set[str]:
        proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=project)
        assert proc.returncode == 0, proc.stderr
        return set(proc.stdout.split())

    assert loaded() == set()
    (project / "relc.yaml").write_text("sources: [slo]\noptions: {prometheus.layout: plain}\n")
    assert loaded() == {"yaml"}


def test_exclude_skips_matching_files_found_in_directories(project: Path):
    (project / "slo" / "drafts").mkdir()
    (project / "slo" / "drafts" / "broken.relc").write_text("service {\n")
    (project / "slo" / "orders-wip.relc").write_text("service wip {\n")
    (project / "relc.yaml").write_text("sources: [slo]\n")
    assert invoke("check").exit_code == 1  # both broken files are read without `exclude`
    (project / "relc.yaml").write_text("sources: [slo]\nexclude: [slo/drafts/, '**/*-wip.relc']\n")
    result = invoke("check")
    assert result.exit_code == 0, result.output
    assert "ok: 4 file(s)" in result.output
    named = invoke("check", "slo", "slo/orders-wip.relc")  # a file named explicitly is always read
    assert named.exit_code == 1 and "slo/orders-wip.relc:2:1" in named.output


def test_exclude_patterns_are_relative_to_the_config_file(project: Path, monkeypatch):
    (project / "slo" / "drafts").mkdir()
    (project / "slo" / "drafts" / "broken.relc").write_text("service {\n")
    (project / "relc.yaml").write_text("sources: [slo]\nexclude: [drafts/]\n")  # not slo/drafts/
    assert invoke("check").exit_code == 1
    (project / "relc.yaml").write_text("sources: [slo]\nexclude: ['*/drafts']\n")
    monkeypatch.chdir(project / "slo")
    result = invoke("check")
    assert result.exit_code == 0, result.output


def test_fmt_without_paths_formats_the_config_sources_minus_excluded(project: Path):
    (project / "slo" / "drafts").mkdir()
    ugly = "service   x {\n  description =   \"d\"\n}\n"
    (project / "slo" / "drafts" / "ugly.relc").write_text(ugly)
    (project / "slo" / "sloth.yml").write_text("version: prometheus/v1\nservice: s\nslos: []\n")
    (project / "relc.yaml").write_text("sources: [slo]\nexclude: [slo/drafts/]\n")
    result = invoke("fmt", "--check")
    assert result.exit_code == 0, result.output  # the shop is formatted, the draft skipped, YAML never touched
    (project / "relc.yaml").write_text("sources: [slo]\n")
    result = invoke("fmt", "--check")
    assert result.exit_code == 1 and "slo/drafts/ugly.relc" in result.output and "sloth.yml" not in result.output
    assert invoke("fmt", "--no-config").exit_code == 2  # no PATH and no config: a usage error


def _bomb(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + f"\nexclude: *{cur}\n"


@pytest.mark.parametrize("text, found", [
    (_bomb(), "expands to more than"),
    ('out: !!python/object/apply:os.system ["echo pwned"]\n', "tag"),
    ("out: !custom x\n", "tag"),
    ("targets:\n" + "".join("  " * i + "- \n" for i in range(1, 100)), "levels deep"),
    ("exclude: " + "[" * 5000 + "]" * 5000 + "\n", "levels deep"),
    ("out: a\nout: b\n", "twice"),
])
def test_hostile_config_is_a_located_error_quickly(tmp_path: Path, text: str, found: str):
    import time

    path = tmp_path / "relc.yaml"
    path.write_text(text)
    started = time.perf_counter()
    config, diags = load_config(path)
    assert time.perf_counter() - started < 2
    assert [d.code for d in diags] == ["RELC507"] and found in diags[0].message, diags
    assert diags[0].span is not None and diags[0].span.line >= 1
