"""The jinja2 environments of the runbook target: a sandbox for a team's templates, a plain one for relc's own.

Both escape every `{{ value }}` with `md` (jinja2's `finalize`). relc's built-in templates are trusted code
shipped with relc, so they skip the sandbox's per-attribute checks (a quarter to a third of the target's time);
as soon as `-O runbook.templates=DIR` names a team's directory, everything (relc's templates included, since a
team's may extend them) renders in the sandbox.
"""
from __future__ import annotations

import functools
import os
from importlib.resources import files
from importlib.resources.abc import Traversable

import jinja2
from jinja2.loaders import split_template_path
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from relc.compiler import diagnostics as dg
from relc.targets.runbook.markdown import anchor, code, fence, image, link, md

MAX_POWER = 10_000            # `**` beyond this (or a repeated string beyond MAX_REPEAT) is refused
MAX_REPEAT = 1_000_000
HELPERS = {"md": md, "code": code, "fence": fence, "link": link, "image": image, "anchor": anchor}
_DIRECT = frozenset(map(id, HELPERS.values()))  # by identity: any callable may reach `call`, hashable or not
FILTERS = {"md": md, "code": code, "fence": fence}
SETTINGS = dict(finalize=md, autoescape=False, undefined=jinja2.StrictUndefined, trim_blocks=True,
                lstrip_blocks=True, keep_trailing_newline=True, auto_reload=False)


def environment(user_dir: str = "") -> tuple[jinja2.Environment | None, list]:
    """relc's own templates, trusted; or the sandbox, a team's templates first (then relc's, also as `relc/NAME`)."""
    if not user_dir:
        return builtin_environment(), []
    if not os.path.isdir(user_dir):
        return None, [dg.make("RELC403", f"-O runbook.templates: `{user_dir}` is not a directory")]
    return sandbox_environment(user_dir), []


def sandbox_environment(user_dir: str = "") -> jinja2.Environment:
    """The sandbox every team template renders in; without `user_dir`, relc's templates alone (for tests)."""
    builtin = _builtin_loader()
    loaders: list[jinja2.BaseLoader] = [builtin, jinja2.PrefixLoader({"relc": builtin})]
    if user_dir:
        loaders.insert(0, ConfinedLoader(user_dir))
    return _configure(MarkdownSandbox(loader=jinja2.ChoiceLoader(loaders), **SETTINGS))


@functools.cache
def builtin_environment() -> jinja2.Environment:
    """One plain environment per process for relc's own templates, so each compiles once."""
    builtin = _builtin_loader()
    loader = jinja2.ChoiceLoader([builtin, jinja2.PrefixLoader({"relc": builtin})])
    return _configure(TrustedEnvironment(loader=loader, **SETTINGS))


def _configure(env: jinja2.Environment) -> jinja2.Environment:
    """The same helpers and refusals in both environments, so a template renders alike in either."""
    env.filters.pop("safe", None)  # `safe` would only make Markup, which `md` escapes anyway: refuse it loudly
    env.filters.update(FILTERS)
    env.globals.update(HELPERS)
    return env


def _builtin_loader() -> jinja2.BaseLoader:
    return ResourceLoader(files("relc.targets.runbook") / "templates")


class HelperContext(Context):
    """Calls relc's Markdown helpers directly: they take no context, so jinja2's generic dispatch is overhead."""

    def call(__self, __obj, *args, **kwargs):  # noqa: N805 - jinja2's own signature
        if id(__obj) in _DIRECT:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            return __obj(*args, **kwargs)
        return super().call(__obj, *args, **kwargs)


class TrustedEnvironment(jinja2.Environment):
    """For relc's own templates only: no sandbox checks, direct helper calls."""

    context_class = HelperContext


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
