"""Source text inside Grafana: escaped for HTML and Markdown, and kept away from Grafana's `$variable` syntax."""
from __future__ import annotations

import html
import re
from functools import lru_cache

from relc.compiler.model import ir as ir
from relc.compiler.units import fmt_percent, human_percent, prom_duration
from relc.targets import Options

LINK_SCHEMES = ("https://", "http://", "mailto:")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>])")
_UNLINKABLE = re.compile(r"[\s<>\"'`\\]")  # \s is str.isspace's set: whitespace would end the URL in HTML


def cache_by_value(function):
    """lru_cache for a function of one IR object (thousands of SLOs share a few runbooks, policies and tiers);
    an argument that cannot be hashed is computed afresh."""
    cached = lru_cache(maxsize=256)(function)

    def call(value):
        try:
            hash(value)
        except TypeError:
            return function(value)
        return cached(value)
    return call


def html_text(text: str) -> str:
    """Literal text in an HTML text panel; `$` and `[` become entities so Grafana cannot interpolate them."""
    return html.escape(text, quote=True).replace("$", "&#36;").replace("[", "&#91;").replace("]", "&#93;")


def markdown_text(text: str) -> str:
    """Literal text in Markdown (panel descriptions): punctuation backslash-escaped, HTML and `$` as entities."""
    escaped = _MARKDOWN.sub(r"\\\1", text)
    return escaped.replace("&", "&amp;").replace("$", "&#36;").replace("\n", " ")


def link_url(url: str) -> str | None:
    """A URL safe to link: an absolute http(s)/mailto one, `$`/`[`/`]` percent-encoded against interpolation."""
    if not url.startswith(LINK_SCHEMES) or _UNLINKABLE.search(url):
        return None
    return url.replace("$", "%24").replace("[", "%5B").replace("]", "%5D")


def runbook_url(slo: ir.SLO, options: Options) -> str:
    """The runbook's own URL, else `<runbook_base_url>/<service>/<slo>.md` (as the Prometheus alerts link it)."""
    if slo.runbook is not None and slo.runbook.url:
        return slo.runbook.url
    base = options.runbook_base_url
    if base and not base.endswith("/"):
        base += "/"
    return f"{base}{slo.service}/{slo.name}.md"


def _anchor(url: str, text: str) -> str:
    safe = link_url(url)
    if safe is None:
        return f"<code>{html_text(url)}</code>"
    return f'<a href="{html_text(safe)}" target="_blank" rel="noopener noreferrer">{html_text(text)}</a>'


def slo_facts(slo: ir.SLO) -> str:
    """One line of what the SLO promises and which policies apply."""
    policy = slo.alert_policy.name if slo.alert_policy is not None else "none"
    budget = slo.budget_policy.name if slo.budget_policy is not None else "none"
    return _facts(slo.objective, slo.window_s, slo.error_budget, slo.sli.kind, policy, budget)


@lru_cache(maxsize=1024, typed=True)  # thousands of SLOs, a few objectives, windows and policies
def _facts(objective: float, window_s: int, error_budget: float, kind: str, policy: str, budget: str) -> str:
    return (f"<p>Objective <b>{html_text(fmt_percent(objective))}</b> over <b>{prom_duration(window_s)}</b>"
            f" (error budget {html_text(fmt_percent(error_budget))}) · SLI: {html_text(kind)}"
            f" · alert policy: {html_text(policy)} · budget policy: {html_text(budget)}</p>")


def runbook_html(slo: ir.SLO, options: Options) -> str:
    """The SLO's description, runbook link, steps, escalation and links, and its budget-policy commitments."""
    parts = [f"<p>{html_text(slo.description)}</p>"] if slo.description else []
    parts.append(slo_facts(slo))
    book = slo.runbook
    title = f"Runbook: {book.name}" if book is not None else "Runbook"
    url = runbook_url(slo, options)
    if link_url(url) is None:  # no runbook URL and no --runbook-base-url: name the path, link nothing
        parts.append(f"<p>{html_text(title)}: <code>{html_text(url)}</code> (build with --runbook-base-url "
                     "to link it)</p>")
    else:
        parts.append(f"<p>{_anchor(url, title)}</p>")
    if book is not None:
        parts += _runbook_body(book)
    if slo.budget_policy is not None:
        parts += _policy_html(slo.budget_policy)
    return "\n".join(parts) + "\n"


@cache_by_value  # every SLO of a service usually shares one runbook
def _runbook_body(book: ir.Runbook) -> tuple[str, ...]:
    parts = [f"<p>{html_text(book.summary)}</p>"] if book.summary else []
    if book.steps:
        items = "".join(f"<li>{html_text(step.text)}" + (f"<br><code>{html_text(step.command)}</code>"
                                                         if step.command else "") + "</li>" for step in book.steps)
        parts.append(f"<ol>{items}</ol>")
    if book.escalation:
        parts.append(f"<p>Escalation: {html_text(book.escalation)}</p>")
    if book.links:
        parts.append("<ul>" + "".join(f"<li>{_anchor(link.url, link.title)}</li>" for link in book.links) + "</ul>")
    return tuple(parts)


@cache_by_value  # and a few budget policies serve the whole project
def _policy_html(policy: ir.BudgetPolicy) -> tuple[str, ...]:
    items = []
    for threshold in policy.thresholds:
        level = f"{human_percent(threshold.remaining)} left" if threshold.remaining else "budget exhausted"
        actions = "; ".join(html_text(action) for action in threshold.actions)
        notify = f" (notify {html_text(threshold.notify)})" if threshold.notify else ""
        items.append(f"<li><b>{html_text(level)}</b>: {actions}{notify}</li>")
    return (f"<p>Error-budget policy <b>{html_text(policy.name)}</b>:</p>", "<ul>" + "".join(items) + "</ul>")
