"""Runbook target: one Markdown page per SLO, an index, and detection-time charts shared by SLOs of one shape.

Templates render with `finalize=md`, so every `{{ value }}` is Markdown-escaped unless relc built it as
Markdown (`Md`); a team's templates (`-O runbook.templates=DIR`) render in jinja2's immutable sandbox
(see runbook_env.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relc.compiler import diagnostics as dg
from relc.targets import Artifact, Options, OptionSpec

if TYPE_CHECKING:
    from relc.compiler.model import ir as ir

INDEX_CHOICES = ("README.md", "index.md")
OPTIONS = {
    "templates": OptionSpec("directory of your own jinja2 templates (slo.md.j2, index.md.j2 or the blocks they "
                            "include); rendered sandboxed, reading nothing outside that directory"),
    "index": OptionSpec("file name of the index page linking every runbook", INDEX_CHOICES, "README.md"),
    "charts": OptionSpec("write the SVG charts of time to detect vs error rate per alert tier, one file per "
                         "window, objective and tiers, shared by the SLOs that have them",
                         ("true", "false"), "true"),
}


@dataclass(frozen=True)
class RunbookTarget:
    """The `runbook` target as the registry loads it; stateless, so one instance serves every build."""

    name: str = "runbook"
    description: str = "Markdown runbooks: a page per SLO with alert tiers, budget, steps, PromQL and a chart"
    options: dict = field(default_factory=lambda: OPTIONS)

    def generate(self, project: ir.Project, options: Options) -> tuple[list[Artifact], list]:
        """All pages, charts and the index, or none at all with a diagnostic if a template fails."""
        # imported here: jinja2 and the page code take 70 ms to import, which a large build then spends in the
        # worker running this target rather than before any worker starts
        from relc.targets.runbook.env import environment
        from relc.targets.runbook.pages import TemplateFailure, build_pages

        env, diags = environment(options.get("runbook.templates"))
        if env is None:
            return [], diags
        index = options.get("runbook.index", "README.md")
        if index not in INDEX_CHOICES:  # `relc build` checks choices; programmatic callers may not
            return [], [dg.make("RELC403", f"`runbook.index` must be one of {', '.join(INDEX_CHOICES)}")]
        charts = options.get("runbook.charts", "true").lower() in ("1", "true", "yes", "on")
        try:
            return build_pages(env, project, options, index, charts), []
        except TemplateFailure as failure:
            return [], [failure.diagnostic]


TARGET = RunbookTarget()
