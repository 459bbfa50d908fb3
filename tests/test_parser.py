"""The grammar: every literal form, positions on every node, and errors as diagnostics."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relc.compiler.syntax.parser import parse
from relc.compiler.syntax.tree import Attribute, Block


def attr_value(src: str):
    module, diags = parse("t.relc", f"x = {src}\n")
    assert not diags, diags
    item = module.items[0]
    assert isinstance(item, Attribute)
    return item.value


@pytest.mark.parametrize("src, kind, data", [
    ('"plain"', "string", "plain"),
    (r'"tab\tquote\"back\\slash\nnl"', "string", 'tab\tquote"back\\slash\nnl'),
    (r'"\u00e9\u{1F680}\t"', "string", "é🚀\t"),
    ('r"no \\escapes here"', "raw", "no \\escapes here"),
    ('r#"has "quotes" and\nlines"#', "raw", 'has "quotes" and\nlines'),
    ("99.95%", "percent", Decimal("99.95")),
    ("14.4", "number", Decimal("14.4")),
    ("-3", "number", Decimal("-3")),
    ("true", "bool", True),
    ("false", "bool", False),
    ("300ms", "duration", 300),
    ("1h30m", "duration", 5_400_000),
    ("30d", "duration", 2_592_000_000),
    ("2w", "duration", 1_209_600_000),
    ("some_policy", "ref", ("some_policy",)),
    ("params.region", "ref", ("params", "region")),
])
def test_literals(src, kind, data):
    value = attr_value(src)
    assert value.kind == kind
    assert value.data == data


def test_selector_with_all_matcher_operators():
    value = attr_value('http_requests_total{a="1", b!="2", c=~"3.*", d!~"4", }')
    assert value.kind == "selector"
    sel = value.data
    assert sel.metric == "http_requests_total"
    assert [(m.label, m.op, m.value) for m in sel.matchers] == [("a", "=", "1"), ("b", "!=", "2"), ("c", "=~", "3.*"),
                                                                ("d", "!~", "4")]


def test_recording_rule_names_with_colons_are_selectors():
    assert attr_value('job:http_errors:rate5m{job="x"}').data.metric == "job:http_errors:rate5m"


def test_lists_and_maps_with_optional_commas():
    assert [v.data for v in attr_value('["a", "b",]').data] == ["a", "b"]
    entries = attr_value('{ a = "1" b = "2", "c d" = 3 }').data
    assert [(e.key, e.value.data) for e in entries] == [("a", "1"), ("b", "2"), ("c d", Decimal(3))]


def test_blocks_labels_bodies_and_positions():
    src = 'service checkout {\n  # comment\n  slo availability { objective = 99.9% }\n}\nrunbook r { step "Look" }\n'
    module, diags = parse("t.relc", src)
    assert not diags
    service = module.items[0]
    assert isinstance(service, Block) and service.kind == "service" and service.label == "checkout"
    slo = service.items[0]
    assert (slo.span.line, slo.span.col) == (3, 3)
    assert (slo.label_span.line, slo.label_span.col) == (3, 7)
    objective = slo.items[0]
    assert (objective.value.span.line, objective.value.span.col, objective.value.span.end_col) == (3, 34, 39)
    step = module.items[1].items[0]
    assert step.label == "Look" and not step.has_body


def test_imports_are_collected():
    module, _ = parse("t.relc", 'import "a.relc"\nimport "dir/b.relc"\n')
    assert [i.path for i in module.imports] == ["a.relc", "dir/b.relc"]


@pytest.mark.parametrize("src, line, col", [
    ("service x {\n  slo y {\n    objective 99%\n  }\n}\n", 3, 15),
    ("service x {", 1, 12),
    ("service x { description = 'q' }", 1, 27),
    ('service x { description = "bad \\q" }', 1, 32),
    ('service x { description = "unterminated }\n', 1, 27),
])
def test_syntax_errors_point_at_the_problem(src, line, col):
    module, diags = parse("t.relc", src)
    assert module is None
    assert len(diags) == 1
    diag = diags[0]
    assert diag.code in ("RELC101", "RELC102")
    assert (diag.span.line, diag.span.col) == (line, col)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["service", "slo", "x", "{", "}", "[", "]", "=", ",", '"', "#", 'r#"', '"#', "%",
                                 "99.9", "5m", "\n", " ", "\\", ":", "=~", "!", "import", "."]), max_size=40))
def test_parser_never_raises(tokens):
    """Any token soup yields a module or exactly one diagnostic; no exception escapes."""
    module, diags = parse("fuzz.relc", "".join(tokens))
    assert (module is None and len(diags) == 1) or (module is not None and not diags)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_unicode_text_parses_or_diagnoses(text):
    module, diags = parse("fuzz.relc", text)
    assert module is not None or diags


@pytest.mark.parametrize("src", ["x = " + "[" * 20000 + "]" * 20000, "service s {" * 5000 + "}" * 5000])
def test_pathological_nesting_is_a_diagnostic(src):
    module, diags = parse("deep.relc", src)
    assert module is None and [d.code for d in diags] == ["RELC104"]
