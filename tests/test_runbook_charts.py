"""Runbook charts: one SVG per distinct shape (window, objective, tiers) in `_charts/`, linked from every page."""
from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from relc.compiler.commands.cli import main
from relc.compiler.units import fmt_percent, human_duration, prom_duration
from relc.compiler.output.writer import write_targets
from relc.targets import Options
from relc.targets.runbook import chart as runbook_chart
from relc.targets.runbook import TARGET

from conftest import ROOT
from test_runbook import EXTERNAL, compile_project, generate, parser, targets_of, walk

SVG = "{http://www.w3.org/2000/svg}"
NAME = re.compile(r"_charts/(?P<window>[0-9dhms]+)-(?P<objective>[0-9.]+)-(?P<digest>[0-9a-f]{12})\.svg")
PROJECTS = ("examples/shop", "examples/customer",
            *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "good").iterdir()))


def slo_text(service: str, objective: str = "99.9%", window: str = "30d", policy: str = "pa",
             metric: str = "e_total", name: str = "x") -> str:
    """An SLO in a service of its own; `policy=""` leaves the default, the built-in workbook policy."""
    policy = f"    alert_policy = {policy}\n" if policy else ""
    return (f"service {service} {{\n  slo {name} {{\n    objective = {objective}\n    window = {window}\n"
            f"{policy}    sli events {{ bad = {metric} total = t_total }}\n  }}\n}}\n")


def policy_text(name: str, tier: str = "fast", severity: str = "page", budget: str = "2%", long: str = "1h",
                short: str = "5m") -> str:
    return (f'alert_policy {name} {{\n  tier {tier} {{ severity = "{severity}" budget = {budget} long = {long} '
            f'short = {short} }}\n  tier slow {{ severity = "ticket" burn_rate = 1 long = 3d short = 6h }}\n}}\n')


def pair(slo_b: dict, policy_b: dict) -> str:
    """Service `a` with policy `pa`, and service `b` with policy `pb` changed by the arguments."""
    return slo_text("a") + slo_text("b", policy="pb", **slo_b) + policy_text("pa") + policy_text("pb", **policy_b)


def source(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "src"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.relc").write_text(text, encoding="utf-8")
    return folder


def build(tmp_path: Path, text: str, options: Options = Options()) -> dict[str, str]:
    """The target's files by path; a shared chart must be one artifact, not one per SLO."""
    artifacts, diags = TARGET.generate(compile_project(source(tmp_path, text)), options)
    assert diags == []
    paths = [a.path for a in artifacts]
    assert len(set(paths)) == len(paths), "no file is written twice"
    return {a.path: a.content for a in artifacts}


def image_of(pages: dict[str, str], page: str) -> str | None:
    """The chart a page shows, as a path under the runbook directory."""
    images = [t.attrGet("src") for t in walk(parser().parse(pages[page])) if t.type == "image"]
    assert len(images) <= 1, images
    if not images:
        return None
    assert images[0].startswith("../_charts/"), images[0]
    return images[0][len("../"):]


def svgs(pages: dict[str, str]) -> dict[str, str]:
    return {path: text for path, text in pages.items() if path.endswith(".svg")}


def shape(slo) -> tuple:
    """What a chart depends on, worked out from the IR independently of the target."""
    return (slo.window_s, slo.objective, tuple((t.name, t.severity, t.burn_rate, t.long_window_s)
                                               for t in slo.alert_policy.tiers))


# --- sharing -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("slo_b, policy_b", [
    ({}, {}),                                  # identical but for the service and policy names
    ({"metric": "other_errors_total"}, {}),    # another SLI
    ({"name": "y"}, {}),                       # another SLO name
    ({}, {"short": "10m"}),                    # the short window is not on the chart
], ids=["same", "other-sli", "other-slo-name", "other-short-window"])
def test_slos_of_one_shape_share_one_chart_file(tmp_path: Path, slo_b: dict, policy_b: dict):
    pages = build(tmp_path, pair(slo_b, policy_b))
    page_b = f"b/{slo_b.get('name', 'x')}.md"
    assert image_of(pages, "a/x.md") == image_of(pages, page_b)
    assert list(svgs(pages)) == [image_of(pages, "a/x.md")]


@pytest.mark.parametrize("slo_b, policy_b", [
    ({"window": "28d"}, {}),
    ({"objective": "99.5%"}, {}),
    ({}, {"severity": "critical"}),
    ({}, {"tier": "quick"}),
    ({}, {"budget": "5%"}),
    ({}, {"long": "2h"}),
], ids=["window", "objective", "severity", "tier-name", "burn-rate", "long-window"])
def test_slos_differing_in_window_objective_or_tiers_get_different_files(tmp_path: Path, slo_b: dict,
                                                                        policy_b: dict):
    pages = build(tmp_path, pair(slo_b, policy_b))
    a, b = image_of(pages, "a/x.md"), image_of(pages, "b/x.md")
    assert a != b and sorted(svgs(pages)) == sorted([a, b])
    assert pages[a] != pages[b]


def test_one_svg_per_distinct_shape_and_one_shape_per_svg(tmp_path: Path):
    windows, objectives, policies = ("30d", "28d", "7d"), ("99.9%", "99.5%", "99%"), ("pa", "pb", "", "none")
    mixed = [(windows[i // 3 % 3], objectives[i % 3], policies[i % 4]) for i in range(48)]
    text = "".join(slo_text(f"s{i}", objective, window, name) for i, (window, objective, name) in enumerate(mixed))
    text += policy_text("pa") + policy_text("pb", severity="critical")
    projects = [compile_project(source(tmp_path, text))]
    projects += [compile_project(p) for p in PROJECTS]
    for project in projects:
        pages = generate(project)
        linked: dict[tuple, set] = {}
        for slo in project.slos():
            chart = image_of(pages, f"{slo.service}/{slo.name}.md")
            assert (chart is None) == (slo.alert_policy is None or not slo.alert_policy.tiers)
            if chart:
                linked.setdefault(shape(slo), set()).add(chart)
        assert all(len(files) == 1 for files in linked.values()), "one shape, one file"
        files = sorted(f for files in linked.values() for f in files)
        assert len(set(files)) == len(files) == len(linked), "one file, one shape"
        assert sorted(svgs(pages)) == files, "no other charts"
    expected = {combination for combination in mixed if combination[2] != "none"}
    assert len(svgs(generate(projects[0]))) == len(expected) == 27


def test_no_charts_when_disabled(tmp_path: Path):
    pages = build(tmp_path, slo_text("a") + policy_text("pa"), Options(settings={"runbook.charts": "false"}))
    assert sorted(pages) == ["README.md", "a/x.md"] and image_of(pages, "a/x.md") is None


# --- names, links and the files themselves -----------------------------------------------------------------------


def test_file_names_are_window_objective_and_a_digest_of_the_bytes():
    project = compile_project("examples/shop")
    pages = generate(project)
    for slo in project.slos():
        chart = image_of(pages, f"{slo.service}/{slo.name}.md")
        found = NAME.fullmatch(chart)
        assert found, chart
        assert found["digest"] == hashlib.sha256(pages[chart].encode("utf-8")).hexdigest()[:12]
        assert (found["window"], found["objective"] + "%") == (prom_duration(slo.window_s),
                                                               fmt_percent(slo.objective))


@pytest.fixture
def no_digest(monkeypatch):
    """Names with no digest at all, so charts of one window and objective collide."""
    runbook_chart.shared_chart.cache_clear()
    monkeypatch.setattr(runbook_chart, "DIGEST_HEX", 0)
    yield
    runbook_chart.shared_chart.cache_clear()


def test_colliding_short_names_fall_back_to_the_whole_digest(tmp_path: Path, no_digest):
    pages = build(tmp_path, pair({}, {"tier": "quick"}) + slo_text("c", objective="99.5%"))
    a, b, c = (image_of(pages, f"{s}/x.md") for s in "abc")
    for chart in (a, b):
        assert re.fullmatch(r"_charts/30d-99\.9-[0-9a-f]{64}\.svg", chart)
        assert chart.endswith(hashlib.sha256(pages[chart].encode("utf-8")).hexdigest() + ".svg")
    assert a != b and c == "_charts/30d-99.5-.svg", "a name nothing collides with stays short"
    assert sorted(svgs(pages)) == sorted([a, b, c])


def written(tmp_path: Path, project, options: Options = Options()) -> Path:
    artifacts, diags = TARGET.generate(project, options)
    assert diags == []
    write_targets(tmp_path, {"runbook": artifacts})
    return tmp_path / "runbook"


def assert_links_resolve_on_disk(out: Path) -> None:
    """Every relative link and image of every page names a file that was written."""
    for page in out.rglob("*.md"):
        for ref in targets_of(page.read_text(encoding="utf-8")):
            path = ref.partition("#")[0]
            if ref.startswith(EXTERNAL) or not path:
                continue
            target = (page.parent / path).resolve()
            assert target.is_file() and out.resolve() in target.parents, f"{page}: {ref}"


@pytest.mark.parametrize("path", PROJECTS)
def test_every_link_of_every_page_resolves_to_a_written_file(tmp_path: Path, path: str):
    out = written(tmp_path, compile_project(path))
    assert_links_resolve_on_disk(out)
    for svg in out.rglob("*.svg"):
        assert svg.parent == out / "_charts", "charts live in _charts/ only"


def test_every_chart_is_well_formed_svg_naming_its_shape_not_an_slo():
    for path in PROJECTS:
        project = compile_project(path)
        pages = generate(project)
        for slo in project.slos():
            chart = image_of(pages, f"{slo.service}/{slo.name}.md")
            if not chart:
                continue
            root = ET.fromstring(pages[chart])
            assert root.tag == f"{SVG}svg"
            title = root.find(f"{SVG}title").text
            shown = f"{fmt_percent(slo.objective)} over {human_duration(slo.window_s)}"
            assert title == f"Time to detect vs error rate: {shown}"
            tiers = [g.find(f"{SVG}title").text.split(" ")[0] for g in root.findall(f"{SVG}g")]
            assert tiers == [t.name for t in slo.alert_policy.tiers]
            for group in root.findall(f"{SVG}g"):
                line = group.find(f"{SVG}line")
                x1, y1, x2, y2 = (float(line.get(k)) for k in ("x1", "y1", "x2", "y2"))
                assert x2 > x1 and y2 > y1, "higher error rates are detected sooner"


def test_a_service_and_slo_named_charts_do_not_meet_the_charts_directory(tmp_path: Path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.relc").write_text(slo_text("charts", name="charts") + slo_text("Chart", policy="")
                                             + policy_text("pa"), encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(tmp_path / "src"), "-o", str(tmp_path / "out"),
                                       "-t", "runbook"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out" / "runbook"
    assert sorted(p.name for p in (out / "charts").iterdir()) == ["charts.md"]
    assert len(list((out / "_charts").iterdir())) == 2
    assert_links_resolve_on_disk(out)


def test_charts_do_not_depend_on_the_order_of_slos(tmp_path: Path):
    parts = [slo_text("a"), slo_text("b", objective="99.5%"), slo_text("c", policy="pb"),
             slo_text("d", window="28d")]
    tail = policy_text("pa") + policy_text("pb", budget="5%")
    forward = build(tmp_path / "f", "".join(parts) + tail)
    backward = build(tmp_path / "b", "".join(reversed(parts)) + tail)
    assert svgs(forward) == svgs(backward) and len(svgs(forward)) == 4
    assert {k: v for k, v in forward.items() if k != "README.md"} == \
        {k: v for k, v in backward.items() if k != "README.md"}
    assert [a.path for a in TARGET.generate(compile_project(tmp_path / "f" / "src"), Options())[0]
            if a.path.endswith(".svg")] == sorted(svgs(forward)), "charts come in name order"


def test_a_teams_template_gets_the_shared_path_in_chart(tmp_path: Path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "slo.md.j2").write_text('{% extends "relc/slo.md.j2" %}\n{% block dashboard %}\n'
                                      '<a id="dashboard"></a>\n\n## Shape\n\n{{ image("shape", chart) }}\n\n'
                                      "{% endblock %}\n", encoding="utf-8")
    project = compile_project("examples/shop")
    out = written(tmp_path, project, Options(settings={"runbook.templates": str(folder)}))
    page = (out / "checkout" / "availability.md").read_text(encoding="utf-8")
    shared = generate(project)
    chart = image_of(shared, "checkout/availability.md")
    assert targets_of(page).count(f"../{chart}") == 2
    assert_links_resolve_on_disk(out)


def test_tiers_on_one_line_are_drawn_apart():
    """ticket-fast (3x over 1d) and ticket-slow (1x over 3d) spend the same budget when they fire, so their
    detection lines coincide from 0.3% errors up: the later one is drawn thinner, on top, a few pixels off."""
    from relc.targets.runbook.chart import ChartKey, TierKey, shared_chart

    tiers = (TierKey("ticket-fast", "ticket", 3.0, 86400), TierKey("ticket-slow", "ticket", 1.0, 3 * 86400),
             TierKey("page-fast", "page", 14.4, 3600))
    svg = shared_chart(ChartKey(30 * 86400, 0.999, 0.001, tiers)).svg
    lines = re.findall(r'</title>\n<line x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)" stroke="(#\w+)" '
                       r'stroke-width="([\d.]+)"', svg)
    fast, slow, page = lines
    assert fast[2] == slow[2] and float(slow[3]) - float(fast[3]) >= 3      # same end, apart by pixels
    assert float(fast[5]) > float(slow[5]) and svg.index(fast[4]) < svg.index(slow[4])  # wide under, thin on top
    assert page[5] == "2.5"                                                  # a line of its own is unchanged
