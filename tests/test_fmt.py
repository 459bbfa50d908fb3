"""`relc fmt`: canonical, idempotent, keeps every comment, never changes what a file means."""
from __future__ import annotations

import dataclasses

import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import relc.compiler.commands.cli
from relc.compiler.diagnostics import Span
from relc.compiler.commands.fmt import format_module, format_source, scan
from relc.compiler.syntax.parser import grammar_parser, parse
from relc.compiler.pipeline import compile_paths
from relc.compiler.commands.fmt import shape
from relc.compiler.syntax.tree import Attribute, Block, Import, MapEntry, Matcher, Module, SelectorLit, Value

from conftest import ROOT

AREAS = ("examples", "tests/good", "tests/sloth_compat")
REPO_FILES = sorted(str(p.relative_to(ROOT)) for area in AREAS for p in (ROOT / area).rglob("*.relc")
                    if "_gen" not in p.parts)
BAD_FILES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests/bad").rglob("*.relc"))


@pytest.fixture(autouse=True)
def _fmt_registered(monkeypatch):
    """Until the lead adds the line to cli.py, register the command the way it will be."""
    monkeypatch.setitem(relc.compiler.commands.cli.LAZY_COMMANDS, "fmt", "relc.compiler.commands.fmt:fmt_command")


def fmt(text: str, path: str = "t.relc") -> str:
    out, diags = format_source(text, path)
    assert out is not None, diags
    return out


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(relc.compiler.commands.cli.main, list(args), input=stdin)


def read(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


# ---- the repository's own files ----

def test_repo_has_files_to_format():
    assert len(REPO_FILES) > 20 and "examples/shop/checkout.relc" in REPO_FILES


@pytest.mark.parametrize("path", REPO_FILES)
def test_idempotent_on_repo_files(path: str):
    once = fmt(read(path), path)
    assert fmt(once, path) == once


@pytest.mark.parametrize("path", REPO_FILES)
def test_same_tree_and_every_comment_on_repo_files(path: str):
    text = read(path)
    out = fmt(text, path)
    assert shape(parse(path, out)[0]) == shape(parse(path, text)[0])
    assert [c.text for c in scan(out).comments] == [c.text for c in scan(text).comments]


COMMENT_STYLES = (" # t{}\n", "\n# own {}\n", "\n\n  // spaced {}\n\n", " // t{}\r\n")


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(REPO_FILES), st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(COMMENT_STYLES)),
                                             min_size=1, max_size=8))
def test_comments_anywhere_survive_in_order(path: str, cuts):
    """Comments after any token, trailing or on their own line: all kept, in order; meaning and output stable."""
    text = read(path)
    ends = sorted({tok.end_pos for tok in grammar_parser().lex(text)})
    for n, (i, style) in enumerate(sorted(cuts, key=lambda c: -ends[c[0] % len(ends)])):
        pos = ends[i % len(ends)]
        text = text[:pos] + style.format(len(cuts) - n) + text[pos:]
    out = fmt(text, path)
    assert [c.text for c in scan(out).comments] == [c.text for c in scan(text).comments]
    assert shape(parse(path, out)[0]) == shape(parse(path, text)[0])
    assert fmt(out, path) == out


@pytest.mark.parametrize("path", BAD_FILES)
def test_bad_files_are_formatted_or_reported(path: str):
    try:
        text = read(path)
    except UnicodeDecodeError:
        return  # the CLI reports RELC103, tested below
    out, diags = format_source(text, path)
    assert (out is not None) or any(d.code.startswith("RELC10") for d in diags)


def _units(root: Path) -> list[str]:
    """What people compile: every .relc file alone, and every directory that holds some."""
    files = sorted(p for area in AREAS for p in (root / area).rglob("*.relc"))
    dirs = sorted({p.parent for p in files})
    return [str(p.relative_to(root)) for p in files + dirs]


def _compiled(root: Path, unit: str, monkeypatch) -> tuple:
    monkeypatch.chdir(root)
    result = compile_paths([unit])
    project = _no_origins(dataclasses.asdict(result.project)) if result.project else None
    return project, [(d.code, d.severity.value, d.message) for d in result.diagnostics]


def _no_origins(data):
    if isinstance(data, dict):
        return {k: _no_origins(v) for k, v in data.items() if k != "origin"}
    if isinstance(data, (list, tuple)):
        return [_no_origins(v) for v in data]
    return data


def test_ir_is_unchanged_by_formatting(tmp_path: Path, monkeypatch):
    """Compile each unit before and after formatting a copy: same IR (or the same diagnostics)."""
    before, after = tmp_path / "before", tmp_path / "after"
    for area in AREAS:
        shutil.copytree(ROOT / area, before / area)
        shutil.copytree(ROOT / area, after / area)
    for path in (after / area for area in AREAS):
        for file in path.rglob("*.relc"):
            file.write_text(fmt(file.read_text(encoding="utf-8"), str(file)), encoding="utf-8")
    compared = 0
    for unit in _units(before):
        want = _compiled(before, unit, monkeypatch)
        assert _compiled(after, unit, monkeypatch) == want, unit
        compared += want[0] is not None
    assert compared >= 10, "most units compile; the comparison must not be vacuous"


# ---- layout rules ----

def test_canonical_layout():
    src = ('import   "lib/a.relc"\nimport r"lib/b.relc"\nservice   checkout{description="x" labels={b="1" a = "2"}\n'
           '  slo   avail { objective=99.9%  window = 30d sli events { bad=m{code=~"5..",job="a",} total=m } } }\n')
    assert fmt(src) == (
        'import "lib/a.relc"\nimport r"lib/b.relc"\nservice checkout {\n  description = "x"\n'
        '  labels = { b = "1", a = "2" }\n  slo avail {\n    objective = 99.9%\n    window = 30d\n'
        '    sli events {\n      bad = m{code=~"5..", job="a"}\n      total = m\n    }\n  }\n}\n')


def test_long_lists_and_maps_break_with_trailing_commas():
    items = ", ".join(f'"action number {i} for the budget"' for i in range(4))
    out = fmt(f"threshold {{ actions = [{items}] links = {{ a = \"{'x' * 90}\" }} }}\n")
    assert '  actions = [\n    "action number 0 for the budget",\n' in out
    assert '    "action number 3 for the budget",\n  ]\n' in out
    assert '  links = {\n    a = "' in out and '",\n  }\n' in out
    assert "actions = [\"a\", \"b\"]" in fmt('threshold {\n actions = [\n "a",\n "b",\n ]\n}\n')


def test_blank_lines_collapse_to_one_and_none_at_block_edges():
    out = fmt("\n\n# top\n\n\n\nservice a {\n\n\n  owner = \"x\"\n\n\n\n  description = \"y\"\n\n}\n\n\n")
    assert out == '# top\n\nservice a {\n  owner = "x"\n\n  description = "y"\n}\n'


def test_comments_stay_in_place():
    src = ("# file\nservice a { # on the header\n  # before owner\n  owner = \"x\"   # trailing\n"
           "  labels = {\n    b = \"1\" # entry\n    # last in map\n  }\n  # end of block\n} // after\n")
    assert fmt(src) == ("# file\nservice a {  # on the header\n  # before owner\n  owner = \"x\"  # trailing\n"
                        "  labels = {\n    b = \"1\",  # entry\n    # last in map\n  }\n  # end of block\n"
                        "}  // after\n")


def test_trailing_comments_line_up():
    out = fmt("slo x {\n  min_events = 50 # a\n  no_data_after = 10m # b\n}\n")
    assert out == "slo x {\n  min_events = 50      # a\n  no_data_after = 10m  # b\n}\n"


def test_comments_in_odd_places_are_kept_in_order():
    src = "service # a\n  x // b\n{ owner = # c\n  \"o\" labels = [1, # d\n 2] }\n"
    out = fmt(src)
    assert [c.text for c in scan(out).comments] == ["# a", "// b", "# c", "# d"]
    assert fmt(out) == out


def test_hash_inside_strings_is_not_a_comment():
    src = 'runbook r {\n  links = { "Dashboard" = "https://g/d#panel-2" }  # real\n  summary = r#"a # b"#\n}\n'
    assert fmt(src) == src
    assert [c.text for c in scan(src).comments] == ["# real"]


def test_strings_canonical_raw_strings_kept():
    src = ('runbook r {\n  a = "caf\\u00e9 \\u{1F680} tab\\tq\\"\\\\ \\n"\n  b = r#"x "y" \\d"#\n'
           '  c = r"multi\n   line"\n  d = m{p=~r"/v\\d+", q="\\u00e9"}\n}\n')
    out = fmt(src)
    assert 'a = "café 🚀 tab\\tq\\"\\\\ \\n"' in out
    assert 'b = r#"x "y" \\d"#' in out and 'c = r"multi\n   line"' in out
    assert 'd = m{p=~r"/v\\d+", q="é"}' in out


def test_matcher_values_may_be_pack_params():
    assert fmt('slo s {\n  bad = m{job = params.job , code=~"5.."}\n}\n') == \
        'slo s {\n  bad = m{job=params.job, code=~"5.."}\n}\n'


def test_labels_and_keys_keep_their_spelling():
    src = 'step "Roll back"\nservice "checkout" {\n  labels = { "a" = "1", b = "2", r"c" = "3" }\n}\n'
    assert fmt(src) == src


def test_numbers_percents_durations_as_written():
    src = "tier t {\n  burn_rate = 14.40\n  budget = 2.0%\n  long = 1h30m\n  short = 1.5h\n  x = 1e3\n}\n"
    assert fmt(src) == src


def test_crlf_and_bom_kept(tmp_path: Path):
    path = tmp_path / "w.relc"
    path.write_bytes(b"\xef\xbb\xbfservice a {\r\n owner = \"x\"  # c\r\n}\r\n")
    assert invoke("fmt", str(path)).exit_code == 0
    assert path.read_bytes() == b"\xef\xbb\xbfservice a {\r\n  owner = \"x\"  # c\r\n}\r\n"


def test_empty_and_comment_only_files():
    assert fmt("") == "" and fmt("\n\n") == ""
    assert fmt("# only\n\n\n// comments\n") == "# only\n\n// comments\n"


# ---- format_module: trees built by code ----

SPAN = Span("gen.relc", 1, 1, 1, 2)


def v(kind: str, data, text: str = "") -> Value:
    return Value(kind, data, SPAN, text)


def test_format_module_prints_a_built_tree():
    tier = Block("tier", "page", (Attribute("budget", v("percent", Decimal("2")), SPAN, SPAN),
                                  Attribute("long", v("duration", Decimal(5_400_000)), SPAN, SPAN)), SPAN, SPAN, SPAN)
    sel = SelectorLit("http_requests_total", (Matcher("code", "=~", "5..", SPAN),))
    slo = Block("slo", "avail", (Attribute("objective", v("percent", Decimal("99.9")), SPAN, SPAN),
                                 Attribute("bad", v("selector", sel, "http_requests_total"), SPAN, SPAN)),
                SPAN, SPAN, SPAN)
    module = Module("gen.relc", (Import("lib.relc", SPAN), Block("alert_policy", "fast", (tier,), SPAN, SPAN, SPAN),
                                 Block("service", "my svc", (slo,), SPAN, SPAN, SPAN)))
    assert format_module(module) == (
        'import "lib.relc"\n\nalert_policy fast {\n  tier page {\n    budget = 2%\n    long = 1h30m\n  }\n}\n\n'
        'service "my svc" {\n  slo avail {\n    objective = 99.9%\n'
        '    bad = http_requests_total{code=~"5.."}\n  }\n}\n')


@pytest.mark.parametrize("item", [
    Attribute("import", v("bool", True), SPAN, SPAN),
    Attribute("has space", v("bool", True), SPAN, SPAN),
    Attribute("a", v("percent", Decimal("-1")), SPAN, SPAN),
    Attribute("a", v("ref", ("true", "x")), SPAN, SPAN),
    Block("step", None, (), SPAN, SPAN, None, has_body=False),
])
def test_format_module_refuses_what_cannot_be_written(item):
    with pytest.raises(ValueError):
        format_module(Module("gen.relc", (item,)))


NAMES = st.one_of(st.sampled_from(["a", "b_1", "page-fast", "job:rate5m", "true", "false", "import", "r", "_x"]),
                  st.builds(str.__add__, st.sampled_from("aZ_r"), st.text("az09_:-", max_size=8)))
PLAIN = NAMES.filter(lambda n: n not in ("true", "false", "import"))
# Any text a string may hold: no surrogates, and no control characters but tab and newline (RELC105).
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="".join(
    chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\t\n")), max_size=30)
DECIMALS = st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10**9, max_value=10**9)
UNSIGNED = st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=0, max_value=10**12)


def _ref_parts():
    return st.tuples(PLAIN | st.just("import"), st.lists(NAMES, max_size=2)).map(lambda t: (t[0], *t[1]))


SCALARS = st.one_of(
    TEXT.map(lambda s: v("string", s)),
    TEXT.filter(lambda s: '"#' not in s).map(lambda s: v("raw", s)),
    DECIMALS.map(lambda d: v("number", d)),
    UNSIGNED.map(lambda d: v("percent", d)),
    UNSIGNED.map(lambda d: v("duration", d)),
    st.booleans().map(lambda b: v("bool", b)),
    _ref_parts().map(lambda p: v("ref", p)),
    st.builds(lambda m, ms: v("selector", SelectorLit(m, tuple(ms)), m),
              PLAIN | st.just("import"),
              st.lists(st.builds(lambda n, o, t: Matcher(n, o, t[0], SPAN, ref=t[1]), NAMES,
                                 st.sampled_from(["=", "!=", "=~", "!~"]),
                                 TEXT.map(lambda t: (t, None)) | _ref_parts().map(lambda p: ("", p))), max_size=3)),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4).map(lambda xs: v("list", tuple(xs))),
    st.lists(st.builds(lambda k, x: MapEntry(k, SPAN, x), NAMES | TEXT, inner), max_size=4)
    .map(lambda es: v("map", tuple(es)))), max_leaves=8)
ATTRIBUTES = st.builds(lambda k, x: Attribute(k, x, SPAN, SPAN), NAMES.filter(lambda n: n != "import"), VALUES)


def _block(kind: str, label: str | None, items: list, body: bool) -> Block:
    has_body = body or label is None or bool(items)
    return Block(kind, label, tuple(items), SPAN, SPAN, SPAN if label is not None else None, has_body)




def _blocks(inner):
    return st.builds(_block, NAMES.filter(lambda n: n != "import"), st.none() | NAMES | TEXT,
                     st.lists(inner, max_size=3), st.booleans())


ITEMS = st.one_of(ATTRIBUTES, _blocks(ATTRIBUTES), _blocks(ATTRIBUTES | _blocks(ATTRIBUTES)))
MODULES = st.builds(lambda imports, items: Module("gen.relc", tuple(imports) + tuple(items), tuple(imports)),
                    st.lists(TEXT.map(lambda p: Import(p, SPAN)), max_size=2), st.lists(ITEMS, max_size=5))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MODULES)
def test_format_module_round_trips(module: Module):
    text = format_module(module)
    parsed, diags = parse("gen.relc", text)
    assert parsed is not None, (text, diags)
    assert shape(parsed, texts=False) == shape(module, texts=False)
    assert [i.path for i in parsed.imports] == [i.path for i in module.imports]
    assert fmt(text) == text, "format_module already prints the canonical layout"


# ---- the command ----

def test_check_lists_changed_files_and_exits_1(tmp_path: Path):
    ugly, tidy = tmp_path / "ugly.relc", tmp_path / "tidy.relc"
    ugly.write_text("service a {owner=\"x\"}\n")
    tidy.write_text("service a {\n  owner = \"x\"\n}\n")
    result = invoke("fmt", "--check", str(tmp_path))
    assert result.exit_code == 1
    assert str(ugly) in result.stdout and str(tidy) not in result.stdout
    assert ugly.read_text() == "service a {owner=\"x\"}\n", "--check writes nothing"
    assert invoke("fmt", "--check", str(tidy)).exit_code == 0


def test_rewrites_in_place_only_when_changed(tmp_path: Path):
    ugly, tidy = tmp_path / "ugly.relc", tmp_path / "tidy.relc"
    ugly.write_text("service a {owner=\"x\"}\n")
    tidy.write_text("service a {\n  owner = \"x\"\n}\n")
    os.chmod(ugly, 0o640)
    before = tidy.stat().st_ino, tidy.stat().st_mtime_ns
    result = invoke("fmt", str(ugly), str(tidy))
    assert result.exit_code == 0, result.output
    assert ugly.read_text() == tidy.read_text()
    assert (tidy.stat().st_ino, tidy.stat().st_mtime_ns) == before, "an unchanged file is not rewritten"
    assert ugly.stat().st_mode & 0o777 == 0o640
    assert "1 file(s) reformatted, 1 already formatted" in result.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_syntax_error_reported_and_file_untouched(tmp_path: Path):
    bad, good = tmp_path / "bad.relc", tmp_path / "good.relc"
    bad.write_bytes(b"service a {\n  owner = 'x'\n}\n")
    good.write_text("service b {owner=\"y\"}\n")
    result = invoke("fmt", str(tmp_path))
    assert result.exit_code == 1
    assert "error[RELC101]: unexpected character \"'\"" in result.stderr and "^" in result.stderr
    assert bad.read_bytes() == b"service a {\n  owner = 'x'\n}\n"
    assert good.read_text() == "service b {\n  owner = \"y\"\n}\n", "other files are still formatted"
    assert invoke("fmt", "--check", str(bad)).exit_code == 1


def test_diff_prints_and_writes_nothing(tmp_path: Path):
    ugly = tmp_path / "ugly.relc"
    ugly.write_text("service a {owner=\"x\"}\n")
    result = invoke("fmt", "--diff", str(ugly))
    assert result.exit_code == 0
    assert "-service a {owner=\"x\"}\n+service a {\n+  owner = \"x\"\n+}\n" in result.stdout
    assert ugly.read_text() == "service a {owner=\"x\"}\n"
    assert invoke("fmt", "--check", "--diff", str(ugly)).exit_code == 1


def test_stdin_to_stdout():
    result = invoke("fmt", "-", stdin="service a {owner=\"x\"}")
    assert result.exit_code == 0 and result.stdout == "service a {\n  owner = \"x\"\n}\n"
    assert invoke("fmt", "--check", "-", stdin="service a {owner=\"x\"}").exit_code == 1


def test_symlink_target_rewritten_link_kept(tmp_path: Path):
    real = tmp_path / "real.relc"
    real.write_text("service a {owner=\"x\"}\n")
    (tmp_path / "link.relc").symlink_to(real)
    assert invoke("fmt", str(tmp_path / "link.relc")).exit_code == 0
    assert (tmp_path / "link.relc").is_symlink() and real.read_text().startswith("service a {\n")


def test_unreadable_inputs_are_diagnostics(tmp_path: Path):
    (tmp_path / "latin1.relc").write_bytes(b"service caf\xe9 {}\n")
    result = invoke("fmt", str(tmp_path / "latin1.relc"), str(tmp_path / "missing.relc"))
    assert result.exit_code == 1
    assert "RELC103" in result.stderr and "RELC201" in result.stderr


def test_doc_example_is_the_real_output():
    """The before/after pair in docs/cli.md."""
    docs = [ROOT / "docs" / "cli.md"]
    pairs = [re.findall(r"<!-- fmt: (before|after) -->\n```relc\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
             for doc in docs if doc.exists()]
    pairs = [p for p in pairs if p]
    assert pairs, "no `<!-- fmt: before -->` example in docs/cli.md"
    (before_tag, before), (after_tag, after) = pairs[0]
    assert (before_tag, after_tag) == ("before", "after")
    assert fmt(before) == after and fmt(after) == after


def test_help_lists_fmt():
    result = invoke("--help")
    assert "fmt" in result.stdout
    assert "--check" in invoke("fmt", "--help").stdout


def test_the_bundled_examples_are_formatted():
    """What users copy from should pass the relc-fmt pre-commit hook as shipped."""
    result = CliRunner().invoke(relc.compiler.commands.cli.main, ["fmt", "--check", "--no-config", "examples"])
    assert result.exit_code == 0, result.output
