"""Generation across targets: which to run, how their diagnostics count, the atomic write and `build --check`."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from relc.compiler import diagnostics as dg
from relc.compiler.model import ir as ir
from relc.compiler.diagnostics import Diagnostic, Span

OnTarget = Callable[[str, int, int], None]  # (target, position from 1, count) before each target runs
Finish = Callable[[str, list], object]  # (target, artifacts) -> what generate returns for that target


def generate(project: ir.Project, requested: list[str], options, *, spans: dict[str, Span] | None = None,
             on_target: OnTarget | None = None, finish: Finish | None = None) -> tuple[dict | None, list[Diagnostic]]:
    """Run each target; unsupported constructs are errors only for targets the user asked for by name.

    `spans` says where a target name or option key was written (relc.yaml), for the diagnostics about it.
    `finish(name, artifacts)`, run where the target ran (a worker process in a large build), replaces each
    target's artifacts in the result: the CLI stages files there, so they are written in parallel too.
    """
    from relc import targets as registry

    spans = spans or {}
    explicit = bool(requested)
    names = list(dict.fromkeys(requested)) if explicit else sorted(registry.BUILTIN)
    # plug-ins are looked up (importlib.metadata scans every installed package) only for names not built in
    available = sorted(registry.BUILTIN) if all(n in registry.BUILTIN for n in names) else registry.names()
    diags: list[Diagnostic] = []
    unknown = [n for n in names if n not in available]
    for name in unknown:
        diags.append(dg.make("RELC402", f"unknown target `{name}`", spans.get(name),
                             hint=dg.did_you_mean(name, available) or f"targets: {', '.join(available)}"))
    if unknown:
        return None, diags
    for name in names:
        diags.extend(check_settings(name, registry.load(name), options.settings, spans))
    if dg.has_errors(diags):
        return None, diags
    outputs: dict[str, list] = {}
    for name, (artifacts, target_diags) in zip(names, _run_targets(project, names, options, on_target, finish)):
        for diag in target_diags:
            diags.append(diag if explicit or diag.code != "RELC401" else diag.as_warning())
        outputs[name] = artifacts
        diags.extend(_colliding_paths(name, artifacts))
    return outputs, list(dict.fromkeys(diags))  # a target may report one setting once per service


def _colliding_paths(target: str, artifacts: list) -> list[Diagnostic]:
    """Two files of one target that are one file on macOS or Windows (names equal but for case): validation
    refuses the names that would do this, so this is the last guard, for targets of one's own too."""
    seen: dict[str, str] = {}
    diags = []
    staged = getattr(artifacts, "hashes", None)  # a target already staged by a worker: its files by path
    for path in staged if staged is not None else (artifact.path for artifact in artifacts):
        other = seen.setdefault(path.casefold(), path)
        if other != path:
            diags.append(dg.make("RELC501", f"target `{target}` would write both {other} and {path}, one file on "
                                 "case-insensitive file systems (macOS, Windows)",
                                 hint="rename one of the definitions these files are named after"))
    return diags


# Rough CPU shares of each target, files written included (benchmarks/, 1 000 and 10 000 SLOs): the longest
# start first, so two workers finish close together.
COST = {"runbook": 10, "grafana": 8, "datadog": 7, "prometheus": 5, "openslo": 2}


def _run_targets(project: ir.Project, names: list[str], options, on_target: OnTarget | None,
                 finish: Finish | None) -> list[tuple]:
    """Each target's (artifacts, diagnostics) in the order of names: in turn, or in parallel workers when large."""
    from relc import targets as registry

    from relc.compiler.output import parallel as parallel

    def run(name: str) -> tuple:
        artifacts, diags = registry.load(name).generate(project, options)
        return (artifacts if finish is None else finish(name, artifacts)), diags

    discard = getattr(finish, "discard", None)

    def abandon(result: tuple) -> None:  # another target failed: what this one staged must go
        if discard is not None:
            discard({"": result[0]})

    workers = parallel.jobs(sum(len(s.slos) for s in project.services), len(names))
    with parallel.frozen_heap():
        if workers <= 1:
            return parallel.run_in_turn(run, names, abandon, on_target)
        if on_target is not None:
            on_target(f"{len(names)} targets in {workers} processes", 1, 1)
        by_cost = sorted(names, key=lambda n: -COST.get(n, 1))
        done = dict(zip(by_cost, parallel.run_all(run, by_cost, workers, abandon)))
        return [done[name] for name in names]


def check_settings(name: str, target, settings: dict[str, str],
                   spans: dict[str, Span] | None = None) -> list[Diagnostic]:
    """Unknown keys and values outside a target's choices are errors, before anything is generated."""
    specs = getattr(target, "options", {})
    spans = spans or {}
    diags = []
    for key, value in settings.items():
        prefix, _, option = key.partition(".")
        if prefix != name:
            continue
        spec = specs.get(option)
        if spec is None:
            known = [f"{name}.{k}" for k in specs]
            diags.append(dg.make("RELC403", f"unknown option `{key}`", spans.get(key),
                                 hint=dg.did_you_mean(key, known) or f"{name} options: {', '.join(known) or 'none'}"))
        elif spec.choices and value not in spec.choices:
            diags.append(dg.make("RELC403", f"`{key}` must be one of {', '.join(spec.choices)}, got `{value}`",
                                 spans.get(key)))
    return diags


def parse_settings(pairs: tuple[str, ...]) -> tuple[dict[str, str], list[Diagnostic]]:
    """`-O prometheus.layout=operator` pairs to a dict; malformed pairs are usage diagnostics."""
    settings: dict[str, str] = {}
    diags = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or "." not in key.strip():
            diags.append(dg.make("RELC403", f"option `{pair}` is not of the form target.key=value"))
            continue
        settings[key.strip()] = value.strip()
    return settings, diags


def write(out_dir: Path, outputs: dict[str, list], **kwargs) -> list[Path]:
    from relc.compiler.output.writer import write_targets

    return write_targets(out_dir, outputs, **kwargs)


class Stager:
    """A `finish` for generate that writes each target aside in out_dir (see writer.stage_target)."""

    def __init__(self, out_dir: Path, started: float, progress=None):
        from relc.compiler.output.writer import prepare

        prepare(out_dir, started)
        self.out_dir, self.progress, self.owner = out_dir, progress, os.getpid()

    def __call__(self, name: str, artifacts: list):
        from relc.compiler.output.writer import stage_target

        return stage_target(self.out_dir, name, artifacts, self.progress, owner=self.owner)

    @staticmethod
    def discard(outputs: dict) -> None:
        """Remove what was staged for a build that will not be committed."""
        from relc.compiler.output.writer import Staged, discard

        discard({name: each for name, each in outputs.items() if isinstance(each, Staged)})


def foreign_diagnostics(out_dir: Path, found: dict[str, list[str]]) -> list[Diagnostic]:
    """RELC502 for each target directory a build refused to replace: it holds files relc did not write."""
    from relc.compiler.resolve.sources import display_path

    diags = []
    for target, files in found.items():
        shown = display_path(out_dir / target)
        if files == ["."]:
            message = f"refusing to replace {shown}: it is not a directory relc created"
        else:
            listed = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
            message = f"refusing to replace {shown}: it holds {len(files)} file(s) relc did not generate: {listed}"
        diags.append(dg.make("RELC502", message, hint="move them elsewhere, or rerun with --force to replace "
                                                      "the directory anyway (they are deleted)"))
    return diags


def compare(out_dir: Path, outputs: dict[str, list]) -> tuple[list[Diagnostic], dict[str, str]]:
    """What `relc build` would change in out_dir, one diagnostic per file, plus stale files' text for carets."""
    from relc.compiler.output import manifest as manifest
    from relc.compiler.output.writer import safe_relative

    previous = manifest.read(out_dir)
    diags: list[Diagnostic] = []
    texts: dict[str, str] = {}
    hashes: dict[str, dict[str, str]] = {}
    for target, artifacts in outputs.items():
        want = {safe_relative(a.path).as_posix(): a.content.encode("utf-8") for a in artifacts}
        hashes[target] = {path: manifest.digest(data) for path, data in want.items()}
        diags.extend(_compare_target(out_dir / target, want, previous.get(target), texts))
    expected = manifest.render({**previous, **hashes}).encode("utf-8")
    diags.extend(_compare_file(out_dir / manifest.MANIFEST_NAME, expected, None, texts, owned=True))
    return diags, texts


def _compare_target(base: Path, want: dict[str, bytes], recorded: dict[str, str] | None,
                    texts: dict[str, str]) -> list[Diagnostic]:
    from relc.compiler.output import manifest as manifest
    from relc.compiler.resolve.sources import display_path

    diags = []
    on_disk = set(manifest.files_on_disk(base)) if base.is_dir() and not base.is_symlink() else set()
    for path in sorted(want):
        known = (recorded or {}).get(path)
        diags.extend(_compare_file(base / path, want[path], known, texts, owned=known is not None)
                     if path in on_disk else
                     [dg.make("RELC504", f"{display_path(base / path)} is missing")])
    for path in sorted(on_disk - set(want)):
        mine = recorded is not None and path in recorded
        why = "an earlier build generated it; `relc build` deletes it" if mine else \
            "relc did not generate it; `relc build` refuses to replace the directory (RELC502)"
        diags.append(dg.make("RELC505", f"{display_path(base / path)} is not generated by this build", hint=why))
    return diags


def _compare_file(path: Path, want: bytes, recorded: str | None, texts: dict[str, str], *,
                  owned: bool) -> list[Diagnostic]:
    """RELC503 at the first differing line of a file, RELC504 if it cannot be read."""
    from relc.compiler.resolve.sources import display_path

    from relc.compiler.resolve.files import Unreadable, read_regular
    from relc.compiler.output.manifest import MAX_OUTPUT_BYTES

    shown = display_path(path)
    try:
        have = read_regular(path, MAX_OUTPUT_BYTES)
    except Unreadable as err:
        return [dg.make("RELC504", f"{shown} is missing" if "no such" in str(err) else f"{shown}: {err}")]
    if have == want:
        return []
    old, new = have.decode("utf-8", "replace").split("\n"), want.decode("utf-8", "replace").split("\n")
    line = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    texts[shown] = "\n".join(old)
    have_line, want_line = (old[line] if line < len(old) else ""), (new[line] if line < len(new) else "")
    col = next((i for i, (a, b) in enumerate(zip(have_line, want_line)) if a != b), min(len(have_line), len(want_line)))
    span = Span.point(shown, line + 1, col + 1, len(have_line) - col)
    return [dg.make("RELC503", f"{shown} is out of date", span,
                    hint=_stale_hint(have, new[line] if line < len(new) else "(end of file)", recorded, owned))]


def _stale_hint(have: bytes, expected: str, recorded: str | None, owned: bool) -> str:
    """Why the file differs, when relc can tell, and the line relc would write instead."""
    from relc.compiler.output import manifest as manifest

    if not owned:
        why = "relc did not generate it (the manifest does not list it), so `relc build` refuses to replace it; "
    elif recorded is not None and manifest.digest(have) != recorded:
        why = "edited by hand since relc generated it; "
    else:
        why = ""
    return f"{why}relc would write here: {expected[:120]}{'...' if len(expected) > 120 else ''}"
