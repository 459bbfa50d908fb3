"""Runbook target: one Markdown page per SLO, an index, and a detection-time chart, from jinja2 templates.

Templates (relc's, or a team's via `-O runbook.templates=DIR`) render in jinja2's immutable sandbox with
`finalize=md`, so every `{{ value }}` is Markdown-escaped unless relc built it as Markdown (`Md`).
"""
from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable

import jinja2
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

from relc.compiler import diagnostics as dg
from relc.compiler import ir
from relc.targets import Artifact, Options, OptionSpec
from relc.targets.runbook_chart import detection_chart
from relc.targets.runbook_markdown import anchor, code, fence, image, link, md
from relc.targets.runbook_view import INDEX_CHOICES, index_entries, page

OPTIONS = {
    "templates": OptionSpec("directory of your own jinja2 templates (slo.md.j2, index.md.j2 or the blocks they "
                            "include); rendered sandboxed, reading nothing outside that directory"),
    "index": OptionSpec("file name of the index page linking every runbook", INDEX_CHOICES, "README.md"),
    "charts": OptionSpec("write an SVG chart per SLO: time to detect vs error rate for each alert tier",
                         ("true", "false"), "true"),
}
PAGE_TEMPLATE, INDEX_TEMPLATE = "slo.md.j2", "index.md.j2"
MAX_POWER = 10_000            # `**` beyond this (or a repeated string beyond MAX_REPEAT) is refused
MAX_REPEAT = 1_000_000


@dataclass(frozen=True)
class RunbookTarget:
    """The `runbook` target as the registry loads it; stateless, so one instance serves every build."""

    name: str = "runbook"
    description: str = "Markdown runbooks: a page per SLO with alert tiers, budget, steps, PromQL and a chart"
    options: dict = field(default_factory=lambda: OPTIONS)

    def generate(self, project: ir.Project, options: Options) -> tuple[list[Artifact], list]:
        """All pages, charts and the index, or none at all with a diagnostic if a template fails."""
        env, diags = environment(options.get("runbook.templates"))
        if env is None:
            return [], diags
        index = options.get("runbook.index", "README.md")
        if index not in INDEX_CHOICES:  # `relc build` checks choices; programmatic callers may not
            return [], [dg.make("RELC403", f"`runbook.index` must be one of {', '.join(INDEX_CHOICES)}")]
        charts = options.get("runbook.charts", "true").lower() in ("1", "true", "yes", "on")
        try:
            return build_pages(env, project, options, index, charts), []
        except _TemplateFailure as failure:
            return [], [failure.diagnostic]


TARGET = RunbookTarget()


def build_pages(env: jinja2.Environment, project: ir.Project, options: Options, index: str,
                charts: bool) -> list[Artifact]:
    """Every page and chart in source order, then the index that links them."""
    artifacts = []
    for service in project.services:
        for slo in service.slos:
            view = page(slo, service, options, index, charts)
            artifacts.append(Artifact(f"{service.name}/{slo.name}.md", render(env, PAGE_TEMPLATE, vars(view))))
            if view.chart:
                artifacts.append(Artifact(f"{service.name}/{view.chart}", detection_chart(slo)))
    context = {"services": index_entries(project), "index": index}
    artifacts.append(Artifact(index, render(env, INDEX_TEMPLATE, context)))
    return artifacts


class _TemplateFailure(Exception):
    """Carries a template's failure out of the render loop, so no partial site is returned."""

    def __init__(self, diagnostic: dg.Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def render(env: jinja2.Environment, name: str, context: dict) -> str:
    """Render one template; any failure of a (team's) template becomes a diagnostic, never a traceback."""
    try:
        text = env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as err:
        raise _TemplateFailure(_diagnostic(f"{err.name or name}:{err.lineno}: {err.message}")) from err
    except jinja2.TemplateNotFound as err:
        raise _TemplateFailure(_diagnostic(f"{name}: template `{err.name}` not found in the template directory "
                                           "(or outside it)")) from err
    except Exception as err:  # a user template may fail in any way jinja2 or Python can
        raise _TemplateFailure(_diagnostic(f"{_where(err, name)}: {type(err).__name__}: {err}")) from err
    return text.rstrip("\n") + "\n"


def _where(err: Exception, name: str) -> str:
    """The template file and line that failed: jinja2 rewrites traceback frames to point into templates."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.endswith(".j2")
              or f.filename == "<template>"]
    if not frames:
        return name
    frame = frames[-1]
    return f"{os.path.basename(frame.filename) if frame.filename.endswith('.j2') else name}:{frame.lineno}"


def _diagnostic(message: str) -> dg.Diagnostic:
    """Template failures are option errors: the templates are what `-O runbook.templates` named."""
    return dg.make("RELC403", f"runbook template failed: {message}",
                   hint="see docs/runbooks.md, section Custom templates")


def environment(user_dir: str = "") -> tuple[jinja2.Environment | None, list]:
    """The sandbox: team templates first, then relc's (also reachable as `relc/NAME` to extend them)."""
    builtin = ResourceLoader(files("relc.targets") / "templates" / "runbook")
    loaders: list[jinja2.BaseLoader] = [builtin, jinja2.PrefixLoader({"relc": builtin})]
    if user_dir:
        if not os.path.isdir(user_dir):
            return None, [dg.make("RELC403", f"-O runbook.templates: `{user_dir}` is not a directory")]
        loaders.insert(0, ConfinedLoader(user_dir))
    env = MarkdownSandbox(loader=jinja2.ChoiceLoader(loaders), finalize=md, autoescape=False,
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                          keep_trailing_newline=True, auto_reload=False)
    env.filters.pop("safe", None)  # `safe` would only make Markup, which `md` escapes anyway: refuse it loudly
    env.filters.update(md=md, code=code, fence=fence)
    env.globals.update(md=md, code=code, fence=fence, link=link, image=image, anchor=anchor)
    return env, []


class MarkdownSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, also refusing arithmetic that would exhaust CPU or memory."""

    intercepted_binops = frozenset(["**", "*"])

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_POWER:
            raise jinja2.sandbox.SecurityError("exponent too large")
        if operator == "*" and _repeat_count(left, right) > MAX_REPEAT:
            raise jinja2.sandbox.SecurityError("repetition too large")
        return super().call_binop(context, operator, left, right)


def _repeat_count(left, right) -> int:
    """Characters or items a `*` would build (0 for numbers)."""
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
            return len(seq) * times
    return 0


class ResourceLoader(jinja2.BaseLoader):
    """relc's own templates, read through importlib.resources so they load from a wheel or a source tree."""

    def __init__(self, root: Traversable):
        self.root = root

    def get_source(self, environment, template):
        node = self.root
        for part in split_template_path(template):
            node = node / part
        if not node.is_file():
            raise jinja2.TemplateNotFound(template)
        return node.read_text(encoding="utf-8"), None, lambda: True


class ConfinedLoader(jinja2.FileSystemLoader):
    """A team's directory, and nothing outside it: no `..`, no absolute names, no symlinks leading out."""

    def __init__(self, root: str):
        super().__init__(root, followlinks=False)
        self.root = os.path.realpath(root)

    def get_source(self, environment, template):
        real = os.path.realpath(os.path.join(self.root, *split_template_path(template)))
        if os.path.commonpath([real, self.root]) != self.root or not os.path.isfile(real):
            raise jinja2.TemplateNotFound(template)
        with open(real, encoding="utf-8") as handle:
            return handle.read(), real, lambda: True
