"""The runbook target's pages: render every page, the shared charts and the index (see runbook.py)."""
from __future__ import annotations

import os
import traceback

import jinja2

from relc.compiler import diagnostics as dg
from relc.compiler.model import ir as ir
from relc.targets import Artifact, Options
from relc.targets.runbook.chart import shared_charts
from relc.targets.runbook.view import index_entries, page

PAGE_TEMPLATE, INDEX_TEMPLATE = "slo.md.j2", "index.md.j2"


def build_pages(env: jinja2.Environment, project: ir.Project, options: Options, index: str,
                charts: bool) -> list[Artifact]:
    """Every page in source order, the charts they share in name order, then the index that links them."""
    slos = [slo for service in project.services for slo in service.slos]
    chart_of, chart_files = shared_charts(slos) if charts else ({}, {})
    artifacts, tiers = [], {}
    for service in project.services:
        for slo in service.slos:
            chart = chart_of.get(id(slo))
            view = page(slo, service, options, index, f"../{chart}" if chart else "", project)
            tiers[id(slo)] = view.tiers
            artifacts.append(Artifact(f"{service.name}/{slo.name}.md", render(env, PAGE_TEMPLATE, vars(view))))
    artifacts += [Artifact(path, chart_files[path]) for path in sorted(chart_files)]
    context = {"services": index_entries(project, tiers), "index": index}
    artifacts.append(Artifact(index, render(env, INDEX_TEMPLATE, context)))
    return artifacts


class TemplateFailure(Exception):
    """Carries a template's failure out of the render loop, so no partial site is returned."""

    def __init__(self, diagnostic: dg.Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def render(env: jinja2.Environment, name: str, context: dict) -> str:
    """Render one template; any failure of a (team's) template becomes a diagnostic, never a traceback."""
    try:
        text = env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as err:
        raise TemplateFailure(_diagnostic(f"{err.name or name}:{err.lineno}: {err.message}")) from err
    except jinja2.TemplateNotFound as err:
        raise TemplateFailure(_diagnostic(f"{name}: template `{err.name}` not found in the template directory "
                                           "(or outside it)")) from err
    except Exception as err:  # a user template may fail in any way jinja2 or Python can
        raise TemplateFailure(_diagnostic(f"{_where(err, name)}: {type(err).__name__}: {err}")) from err
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
