"""Runbook target: pages parse as Markdown, every link and alert anchor resolves, source text cannot inject."""
from __future__ import annotations

import html
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

import relc.targets
from relc.compiler.commands.cli import main
from relc.compiler.pipeline import compile_paths
from relc.compiler.output.writer import write_targets
from relc.targets import Options
from relc.targets.runbook.markdown import _HIDDEN_IN_CODE, _HIDDEN_IN_TEXT, SPECIAL, code, fence, link, md

from conftest import ROOT, compare_tree

SHOP_OPTIONS = Options(runbook_base_url="https://runbooks.example.com/",
                       dashboard_base_url="https://grafana.example.com")
ANCHOR_HTML = re.compile(r'<a id="([A-Za-z0-9_-]+)">')
EXTERNAL = ("https://", "http://", "mailto:")

HOSTILE_SOURCE = r'''
service evil {
  description = @SERVICE_DESC@
  owner = @OWNER@

  slo api {
    description = @SLO_DESC@
    objective = 99.9%
    window = 30d
    alert_policy = evil-alerts
    budget_policy = evil-policy
    runbook = evil-runbook
    sli events {
      bad = http_requests_total{job=@JOB@, code=~"5.."}
      total = http_requests_total{job=@JOB@}
    }
  }
}

alert_policy evil-alerts {
  no_data_after = 5m
  no_data_severity = @NO_DATA_SEVERITY@
  tier fast {
    severity = @SEVERITY@
    budget = 2%
    long = 1h
    short = 5m
  }
}

budget_policy evil-policy {
  description = @POLICY_DESC@
  threshold {
    remaining = 50%
    actions = [@ACTION@, @ACTION@]
    notify = @NOTIFY@
    severity = @BUDGET_SEVERITY@
  }
}

runbook evil-runbook {
  summary = @SUMMARY@
  escalation = @ESCALATION@
  step @STEP@ { command = @COMMAND@ }
  step @STEP@
  links = { @LINK_TITLE@ = @LINK_URL@ }
}
'''
HOSTILE = {
    "SERVICE_DESC": r'''"Quotes \"double\" and 'single', <script>alert(1)</script> & [click](javascript:alert(1))"''',
    "OWNER": r'"team | pipes\n# not a heading"',
    "SLO_DESC": 'r#"line one\n# line two is not a heading\n- nor a list\n{{ 7*7 }} {% raw %} $labels.instance '
                '${HOME} `code` ***bold*** ![img](javascript:x) <img src=x onerror=alert(1)>\n|  table | row |\n'
                '<!-- comment\n\n    indented\n===\n"#',
    "JOB": r'"a\"b|c`d`"',
    "NO_DATA_SEVERITY": '"nd | <b>x</b>"',
    "SEVERITY": r'"page | <b>bold</b>\nnext ](javascript:alert(1))"',
    "POLICY_DESC": r'"--> \n\n## injected heading\n\n* item"',
    "ACTION": r'"a | b\nline break ](javascript:alert(1)) {{ $labels.x }}"',
    "NOTIFY": '"<!-- comment -->"',
    "BUDGET_SEVERITY": '"ticket|x"',
    "SUMMARY": r'"]] [x](javascript:alert(1)) --> <!-- \\ end\\"',
    "ESCALATION": r'"@here \\ backslash *star* _under_ &amp; &#60;"',
    "STEP": r'"Step with `backticks` and ``` fences\n1. not a list\n<details><summary>x</summary>"',
    "COMMAND": 'r#"echo \'```\' && echo "````"\ncat <<EOF\n{{ $labels.instance }}\n\n  EOF"#',
    "LINK_TITLE": '"evil](javascript:alert(1)) [x"',
    "LINK_URL": '"https://example.com/a_(b)|c"',
}
BENIGN = {**{key: '"x"' for key in HOSTILE}, "LINK_URL": '"https://example.com/x"'}


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    monkeypatch.setitem(relc.targets.BUILTIN, "runbook", "relc.targets.runbook:TARGET")


def parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def compile_project(*paths: Path | str):
    result = compile_paths([str(p) for p in paths])
    assert result.ok, result.diagnostics
    return result.project


def source(tmp_path: Path, values: dict[str, str], name: str = "evil") -> Path:
    text = HOSTILE_SOURCE
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    folder = tmp_path / name
    folder.mkdir()
    (folder / "evil.relc").write_text(text, encoding="utf-8")
    return folder


def generate(project, options: Options = Options()) -> dict[str, str]:
    from relc.targets.runbook import TARGET

    artifacts, diags = TARGET.generate(project, options)
    assert diags == []
    return {a.path: a.content for a in artifacts}


def walk(tokens):
    for token in tokens:
        yield token
        yield from walk(token.children or ())


def anchors(text: str) -> set[str]:
    """Explicit `<a id>` anchors, the ones relc promises (heading slugs vary by renderer)."""
    found = set()
    for token in walk(parser().parse(text)):
        if token.type in ("html_block", "html_inline"):
            found.update(ANCHOR_HTML.findall(token.content))
    return found


def targets_of(text: str) -> list[str]:
    refs = []
    for token in walk(parser().parse(text)):
        if token.type == "link_open":
            refs.append(token.attrGet("href"))
        elif token.type == "image":
            refs.append(token.attrGet("src"))
    return refs


def resolve(pages: dict[str, str], page: str, ref: str) -> None:
    """A relative link must name a generated file and, if it has a fragment, an anchor on that page."""
    path, _, fragment = ref.partition("#")
    target = os.path.normpath(str(PurePosixPath(page).parent / path)) if path else page
    assert target in pages, f"{page}: link {ref!r} names no generated file"
    if fragment:
        assert fragment in anchors(pages[target]), f"{page}: link {ref!r}: no anchor {fragment!r} in {target}"


def check_links(pages: dict[str, str]) -> None:
    for page, text in pages.items():
        if not page.endswith(".md"):
            continue
        for ref in targets_of(text):
            if not ref.startswith(EXTERNAL):
                resolve(pages, page, ref)


# --- links and anchors -------------------------------------------------------------------------------------------


def test_every_internal_link_and_anchor_resolves():
    pages = generate(compile_project("examples/shop"), SHOP_OPTIONS)
    check_links(pages)
    index = pages["README.md"]
    slo_pages = {p for p in pages if p.endswith(".md") and p != "README.md"}
    assert slo_pages == {"checkout/availability.md", "checkout/latency.md", "orders-worker/processing.md",
                         "orders-worker/freshness.md", "catalog/availability.md"}
    assert slo_pages <= {ref.partition("#")[0] for ref in targets_of(index)}, "the index links every page"


@pytest.mark.parametrize("case", sorted((ROOT / "tests" / "good").iterdir()), ids=lambda p: p.stem)
def test_good_corpus_pages_link_up(case: Path):
    check_links(generate(compile_project(case.relative_to(ROOT)), SHOP_OPTIONS))


@pytest.mark.parametrize("base", ["", "https://runbooks.example.com/ops"])
def test_every_prometheus_runbook_url_lands_on_an_anchor(base: str):
    from relc.targets.prometheus import TARGET as PROMETHEUS

    project = compile_project("examples/shop")
    pages = generate(project)
    rules, _ = PROMETHEUS.generate(project, Options(runbook_base_url=base))
    urls = [rule["annotations"]["runbook_url"] for artifact in rules
            for group in yaml.safe_load(artifact.content)["groups"] for rule in group["rules"] if "alert" in rule]
    assert len(urls) > 20
    for url in urls:
        relative = url[len(base) + 1:] if base else url
        path, _, fragment = relative.partition("#")
        assert path in pages, url
        assert fragment in anchors(pages[path]), url
    kinds = {url.partition("#")[2].split("-")[0] for url in urls}
    assert kinds == {"tier", "no", "error"}


def test_every_page_defines_the_alert_anchors():
    project = compile_project("examples/shop")
    pages = generate(project)
    for slo in project.slos():
        found = anchors(pages[f"{slo.service}/{slo.name}.md"])
        assert {f"tier-{t.name}" for t in slo.alert_policy.tiers} | {"no-data", "error-budget-policy"} <= found


def test_alerts_linking_to_the_runbooks_own_url_say_so(tmp_path: Path):
    (tmp_path / "a.relc").write_text('service s {\n slo x {\n objective = 99%\n runbook = r\n'
                                     ' sli events { bad = e_total total = t_total }\n }\n}\n'
                                     'runbook r { url = "https://wiki.example/r" }\n', encoding="utf-8")
    page = generate(compile_project(tmp_path))["s/x.md"]
    assert "The alerts of this SLO link to [https://wiki\\.example/r](<https://wiki.example/r>)" in page


# --- the figures on a page ---------------------------------------------------------------------------------------


def table_rows(text: str, text_only: bool = False) -> list[list[str]]:
    """Cells as written (escapes and all), or as a reader sees them."""
    rows, row = [], None
    for token in parser().parse(text):
        if token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append("".join(c.content for c in token.children if c.type in ("text", "code_inline"))
                       if text_only else token.content)
        elif token.type == "tr_close":
            rows.append(row)
            row = None
    return rows


def test_tier_rows_show_detection_and_exhaustion_times():
    page = generate(compile_project("examples/shop"))["checkout/availability.md"]
    rows = {row[0]: row for row in table_rows(page) if row[0].startswith("[")}
    # burn 14.4, long 1h, budget 0.1%: detection at a total outage 14.4 * 3600s * 0.001 = 52s; 30d / 14.4 = 2d 2h
    assert rows["[page-fast](#tier-page-fast)"][1:] == ["page", "14.4x", "1.44%", "1h / 5m", "2%", "52s", "2d 2h"]
    assert rows["[ticket-slow](#tier-ticket-slow)"][1:] == ["ticket", "1x", "0.1%", "3d / 6h", "10%", "4m 19s",
                                                            "30d"]
    assert "spends it in **43m 12s**" in page  # 99.9% over 30d


def test_budget_policy_and_steps_are_on_the_page():
    page = generate(compile_project("examples/shop"))["checkout/availability.md"]
    tokens = parser().parse(page)
    commands = [t.content for t in tokens if t.type == "fence" and t.info == "sh"]
    assert commands == ["kubectl -n shop logs deploy/checkout --since=15m | grep -E ' 5[0-9]{2} '\n",
                        "kubectl -n shop rollout undo deploy/checkout\n"]
    policy = [row for row in table_rows(page) if row[1].startswith("budget-")]
    assert [row[:3] for row in policy] == [["50% or less", "budget-50pct", "ticket"],
                                           ["25% or less", "budget-25pct", "ticket"],
                                           ["exhausted", "budget-exhausted", "page"]]
    assert "<https://grafana.example.com/d/relc-checkout?var-slo=availability>" in generate(
        compile_project("examples/shop"), SHOP_OPTIONS)["checkout/availability.md"]


def test_slo_without_alerts_has_no_chart_and_says_so(tmp_path: Path):
    (tmp_path / "a.relc").write_text('service s {\n slo x {\n objective = 99%\n alert_policy = none\n'
                                     ' sli events { bad = e_total total = t_total }\n }\n}\n'
                                     'service empty { }\n', encoding="utf-8")
    pages = generate(compile_project(tmp_path))
    assert sorted(pages) == ["README.md", "s/x.md"]
    assert "no burn-rate alerts" in pages["s/x.md"] and "## empty" not in pages["README.md"]
    check_links(pages)


# --- the chart ---------------------------------------------------------------------------------------------------


def test_chart_is_plain_svg_with_a_line_per_tier_referenced_from_the_page():
    project = compile_project("examples/shop")
    pages = generate(project)
    assert pages == generate(project), "deterministic"
    for slo in project.slos():
        images = [t.attrGet("src") for t in walk(parser().parse(pages[f"{slo.service}/{slo.name}.md"]))
                  if t.type == "image"]
        assert len(images) == 1 and images[0].startswith("../_charts/"), images
        root = ET.fromstring(pages[images[0][len("../"):]])
        lines = root.findall("{http://www.w3.org/2000/svg}g")
        assert [g.find("{http://www.w3.org/2000/svg}title").text.split(" ")[0] for g in lines] == \
            [t.name for t in slo.alert_policy.tiers]
        for group in lines:
            line = group.find("{http://www.w3.org/2000/svg}line")
            x1, y1, x2, y2 = (float(line.get(k)) for k in ("x1", "y1", "x2", "y2"))
            assert x2 > x1 and y2 > y1, "higher error rates are detected sooner"
    assert not [p for p in pages if p.endswith(".svg") and not p.startswith("_charts/")], "charts are shared"


# --- hostile source text -----------------------------------------------------------------------------------------


def skeleton(text: str) -> list[tuple]:
    """Block and inline structure without the text: what hostile text must not be able to change."""
    return [(t.type, t.tag, t.nesting, t.info, tuple(c.type for c in t.children or ()))
            for t in parser().parse(text)]


def test_hostile_text_cannot_change_the_page_structure(tmp_path: Path):
    evil = generate(compile_project(source(tmp_path, HOSTILE, "evil")))
    good = generate(compile_project(source(tmp_path, BENIGN, "good")))
    assert sorted(p for p in evil if p.endswith(".md")) == sorted(p for p in good if p.endswith(".md"))
    assert len(evil) == len(good), "the same charts, named by their (different) bytes"
    for name in evil:
        if name.endswith(".md"):
            assert skeleton(evil[name]) == skeleton(good[name]), name
    check_links(evil)


def test_hostile_text_is_shown_literally_and_injects_nothing(tmp_path: Path):
    project = compile_project(source(tmp_path, HOSTILE))
    pages = generate(project)
    page, slo = pages["evil/api.md"], project.slos()[0]
    rendered = parser().render(page) + parser().render(pages["README.md"])
    for tag in ("<script", "<b>", "<details", "<summary", "<img src=x"):
        assert tag not in rendered
    assert rendered.count("<img") == 1, "only the chart"
    assert rendered.count("<!--") == 2, "only relc's own header comments"
    refs = re.findall(r'(?:href|src)="([^"]*)"', rendered)
    assert not [r for r in refs if "javascript" in r.lower()]
    assert {r for r in refs if r.startswith(EXTERNAL)} == {"https://example.com/a_(b)%7Cc"}
    texts = [t.content for t in walk(parser().parse(page)) if t.type == "text"]
    assert " ".join(slo.description.split("\n")).strip() in texts, "the description reads back whole"
    cells = [row for row in table_rows(page, text_only=True) if row[0] == "fast"]
    assert cells[0][1] == slo.alert_policy.tiers[0].severity.replace("\n", " ")
    commands = [t.content for t in parser().parse(page) if t.type == "fence" and t.info == "sh"]
    assert commands == [slo.runbook.steps[0].command + "\n"]
    assert "{{ 7*7 }}" in rendered and "49" not in rendered
    assert html.escape("$labels.instance", quote=False) in rendered


def test_golden_pages(tmp_path: Path, update_golden: bool):
    for case, project, options in (("shop", compile_project("examples/shop"), SHOP_OPTIONS),
                                   ("hostile", compile_project(source(tmp_path, HOSTILE)), Options())):
        from relc.targets.runbook import TARGET

        artifacts, diags = TARGET.generate(project, options)
        assert diags == []
        write_targets(tmp_path / case, {"runbook": artifacts})
        compare_tree(ROOT / "tests" / "golden" / "runbook" / case, tmp_path / case / "runbook", update_golden)


# --- the Markdown helpers, for any text --------------------------------------------------------------------------

TEXT = st.text(alphabet=st.sampled_from(sorted(SPECIAL) + list("aZ09 .\n\r\t%/,:;'\"@^~é\x00\x0b\u2028_-*")),
               max_size=40) | st.text(max_size=40)


def by_name(hidden: re.Pattern, text: str) -> str:
    """Invisible direction and zero-width characters, written by name as the reader must see them."""
    return hidden.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def flattened(text: str) -> str:
    text = re.sub(r"\r\n|[\r\n\t\v\f\x85\u2028\u2029]", " ", text)
    return by_name(_HIDDEN_IN_TEXT, re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f]", "\ufffd", text)).strip()


def inline_text(token) -> str:
    assert {c.type for c in token.children} <= {"text", "softbreak"}, [c.type for c in token.children]
    return "".join("\n" if c.type == "softbreak" else c.content for c in token.children)


PARAGRAPH = ["paragraph_open", "inline", "paragraph_close"]
CONTEXTS = (("{}", PARAGRAPH, "{}"), ("p {} q", PARAGRAPH, "p {} q"), ("para\n{}", PARAGRAPH, "para\n{}"),
            ("# {}", ["heading_open", "inline", "heading_close"], "{}"),
            ("- {}", ["bullet_list_open", "list_item_open", *PARAGRAPH, "list_item_close", "bullet_list_close"], "{}"),
            ("> {}", ["blockquote_open", *PARAGRAPH, "blockquote_close"], "{}"))


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_md_is_the_same_text_in_the_same_block_wherever_it_lands(text: str):
    expected = flattened(text)
    assume(expected)
    for doc, blocks, reads in CONTEXTS:
        tokens = parser().parse(doc.format(md(text)))
        assert [t.type for t in tokens] == blocks, doc
        assert inline_text(next(t for t in tokens if t.type == "inline")) == reads.format(expected), doc


@settings(max_examples=300, deadline=None)
@given(TEXT, TEXT)
def test_md_stays_in_its_table_cell(first: str, second: str):
    doc = f"| a | b |\n| --- | --- |\n| {md(first)} | {md(second)} |\n"
    tokens = parser().parse(doc)
    assert [t.type for t in tokens].count("td_open") == 2
    cells = [t for t in tokens if t.type == "inline"][2:]
    assert [inline_text(t) for t in cells] == [flattened(first), flattened(second)]


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(min_value=0, max_value=4))
def test_fence_keeps_any_command_intact(command: str, indent: int):
    expected = re.sub(r"\r\n?", "\n", command).rstrip("\n")
    expected = by_name(_HIDDEN_IN_CODE, re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f]", "\ufffd", expected))
    marker = "1." + " " * (indent - 2) if indent >= 3 else ""  # a list item whose content starts at `indent`
    doc = f"{marker}step\n\n{fence(command, 'sh', indent)}\n" if marker else fence(command, "sh") + "\n"
    fences = [t for t in parser().parse(doc) if t.type == "fence"]
    assert len(fences) == 1 and fences[0].info == "sh"
    assert fences[0].content == (expected + "\n" if expected else "")


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_code_span_and_link_never_escape(text: str):
    tokens = [t for t in parser().parse(f"see {code(text)} and {link(text, 'javascript:alert(1)')}")
              if t.type == "inline"]
    kinds = [c.type for c in tokens[0].children]
    assert "link_open" not in kinds and "html_inline" not in kinds


def test_md_escapes_every_special_character_and_leaves_names_alone():
    assert md("page-fast") == "page-fast" and md("99.9%") == "99.9%" and md("2d 2h") == "2d 2h"
    assert md("1. x") == "1\\. x" and md("a_b c") == "a_b c" and md("_a") == "\\_a"
    assert md("".join(sorted(SPECIAL))) == "".join("\\" + c for c in sorted(SPECIAL))
    assert md("a\nb\r\nc\u2028d") == "a b c d" and md(None) == ""
    assert fence("a ``` b ```` c").startswith("`````\n")
    assert link("t", "data:text/html,x") == "t (`data:text/html,x`)"


# --- custom templates --------------------------------------------------------------------------------------------


def custom(tmp_path: Path, files: dict[str, str], project=None) -> tuple[dict[str, str], list]:
    from relc.targets.runbook import TARGET

    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    project = project or compile_project("examples/shop")
    artifacts, diags = TARGET.generate(project, Options(settings={"runbook.templates": str(folder)}))
    return {a.path: a.content for a in artifacts}, diags


def test_custom_template_extends_relcs_and_source_text_stays_escaped(tmp_path: Path):
    project = compile_project(source(tmp_path, HOSTILE))
    pages, diags = custom(tmp_path, {"slo.md.j2": '{% extends "relc/slo.md.j2" %}\n{% block dashboard %}\n'
                                                  '{{ anchor("dashboard") }}\n\n'
                                                  "## Our dashboard\n\n{{ description }} / {{ description ~ '!' }}"
                                                  " / {{ description | upper }} / {{ md(description) }}\n\n"
                                                  "{% endblock %}\n"}, project)
    assert diags == []
    page = pages["evil/api.md"]
    assert "## Our dashboard" in page and "## What to do" in page
    rendered = parser().render(page)
    assert "<script" not in rendered and "<img src=x" not in rendered and rendered.count("<img") == 1
    check_links(pages)


@pytest.mark.parametrize("template", [
    '{% include "../secret.txt" %}',
    '{% include "/etc/passwd" %}',
    '{% include "leak.j2" %}',
    '{% extends "../secret.txt" %}',
])
def test_custom_templates_cannot_read_outside_their_directory(tmp_path: Path, template: str):
    (tmp_path / "secret.txt").write_text("TOPSECRET", encoding="utf-8")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "leak.j2").symlink_to(tmp_path / "secret.txt")
    pages, diags = custom(tmp_path, {"slo.md.j2": template})
    assert pages == {} and [d.code for d in diags] == ["RELC403"]
    assert "TOPSECRET" not in diags[0].message


@pytest.mark.parametrize("template", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ link.__globals__['os'] }}",
    "{{ lipsum.__globals__ }}",
    "{{ description | safe }}",
    "{{ 9 ** 99999999 }}",
    "{{ 'x' * 100000000 }}",
    "{% set _ = tiers.append(1) %}",
    "{{ undefined_name }}",
    "{% for %}",
])
def test_custom_templates_cannot_run_code(tmp_path: Path, template: str):
    pages, diags = custom(tmp_path, {"slo.md.j2": template})
    assert pages == {} and [d.code for d in diags] == ["RELC403"], diags


def test_custom_blocks_in_relcs_template_are_sandboxed_too(tmp_path: Path):
    for body in ("{{ ''.__class__.__mro__ }}", "{{ link.__globals__ }}", "{% set _ = tiers.append(1) %}"):
        pages, diags = custom(tmp_path, {"slo.md.j2": '{% extends "relc/slo.md.j2" %}\n'
                                                      f"{{% block dashboard %}}{body}{{% endblock %}}\n"})
        assert pages == {} and [d.code for d in diags] == ["RELC403"], (body, diags)


# --- the trusted environment for relc's own templates -------------------------------------------------------------


def render_all(env, project, options: Options, index: str = "README.md", charts: bool = True) -> dict[str, str]:
    from relc.targets.runbook.pages import build_pages

    return {a.path: a.content for a in build_pages(env, project, options, index, charts)}


def test_builtin_templates_render_alike_sandboxed_and_trusted(tmp_path: Path):
    """relc's templates skip the sandbox for speed: they must not depend on it, byte for byte."""
    from relc.targets.runbook.env import builtin_environment, sandbox_environment

    projects = [compile_project(p) for p in ("examples/shop", "examples/customer",
                                             *sorted((ROOT / "tests" / "good").iterdir()))]
    projects += [compile_project(source(tmp_path, HOSTILE)), compile_project(source(tmp_path, BENIGN, "benign"))]
    for options, index, charts in ((Options(), "README.md", True), (SHOP_OPTIONS, "index.md", False)):
        for project in projects:
            trusted = render_all(builtin_environment(), project, options, index, charts)
            assert trusted == render_all(sandbox_environment(), project, options, index, charts)


def test_only_relcs_own_templates_run_outside_the_sandbox(tmp_path: Path):
    from jinja2.sandbox import SandboxedEnvironment

    from relc.targets.runbook.env import environment

    trusted, _ = environment("")
    sandboxed, _ = environment(str(tmp_path))
    assert not isinstance(trusted, SandboxedEnvironment) and isinstance(sandboxed, SandboxedEnvironment)
    assert trusted.bytecode_cache is None and sandboxed.bytecode_cache is None, "no compiled code is ever loaded"


def test_cli_builds_runbooks_with_options(tmp_path: Path):
    result = CliRunner().invoke(main, ["build", "examples/shop", "-o", str(tmp_path), "-t", "runbook",
                                       "-O", "runbook.index=index.md", "-O", "runbook.charts=false"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "runbook"
    assert (out / "index.md").is_file() and not list(out.rglob("*.svg"))
    assert ".svg" not in (out / "checkout" / "availability.md").read_text(encoding="utf-8")
    assert not (out / "_charts").exists()
    result = CliRunner().invoke(main, ["build", "examples/shop", "-o", str(tmp_path), "-t", "runbook",
                                       "-O", f"runbook.templates={tmp_path / 'missing'}"])
    assert result.exit_code != 0 and "RELC403" in result.output


def test_a_paged_person_reads_what_fired_what_to_check_and_what_to_do_first(tmp_path: Path):
    """Top-down: what fired, what to check first, what to do, who owns it; the budget math and PromQL after."""
    out = tmp_path / "out"
    proc = subprocess.run(["relc", "build", "examples/shop", "-o", str(out), "--target", "runbook"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for page in (out / "runbook").glob("*/*.md"):
        text = page.read_text()
        headings = [line for line in text.splitlines() if line.startswith("## ")]
        assert headings[:4] == ["## What fired", "## Check first", "## What to do", "## Owner and escalation"], page
        assert text.index("## What to do") < text.index("### Tier") if "### Tier" in text else True
        assert text[:text.index("## What to do")].count("\n") < 60, f"{page}: What to do starts too far down"
