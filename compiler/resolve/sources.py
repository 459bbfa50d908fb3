"""Stage 2, resolve: find the input files, follow imports inside the project root, parse each file once."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic, Related, Span
from relc.compiler.resolve.files import MANIFEST_NAME, Unreadable, path_kind, read_regular, shown_name
from relc.compiler.syntax.parser import one_newline, parse
from relc.compiler.syntax.tree import Block, Import, Module

YAML_SUFFIXES = (".yml", ".yaml")
SKIPPED_DIRS = {"_gen", "node_modules", "__pycache__"}
# Hidden folders that never hold specs (tools' own state): not even looked into for the note on hidden folders.
NOT_SPECS = frozenset({".git", ".hg", ".svn", ".venv", ".tox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
                       ".cache", ".idea", ".vscode", ".terraform", ".npm", ".yarn"})
FOREIGN_SUFFIXES = {".tf": "Terraform", ".hcl": "HCL", ".json": "JSON", ".toml": "TOML", ".jsonnet": "Jsonnet"}


@dataclass
class SourceSet:
    """Parsed modules plus their text, which the renderer needs to draw carets."""

    modules: list[Module] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    pack_uses: dict[Path, Related] = field(default_factory=dict)  # a used pack's resolved root -> its first `use`


def display_path(path: Path) -> str:
    """Paths relative to the working directory when inside it, so messages stay short and stable."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


@dataclass(frozen=True)
class Exclude:
    """relc.yaml's `exclude`: glob patterns, relative to the file's directory, for files directory searches skip."""

    base: Path
    patterns: tuple[str, ...]

    def matches(self, path: Path) -> bool:
        """True when the path, or a directory above it (up to base), matches a pattern; `*` also spans `/`."""
        try:
            rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(self.base))
        except ValueError:
            return False
        candidates = [(rel.as_posix(), False)] + [(parent.as_posix(), True) for parent in rel.parents
                                                   if parent.parts]
        return any(_glob(text, pattern, is_dir) for text, is_dir in candidates for pattern in self.patterns)


def _glob(text: str, pattern: str, is_dir: bool) -> bool:
    if pattern.endswith("/"):
        if not is_dir:
            return False
        pattern = pattern.rstrip("/")
    pattern = pattern.removeprefix("./")
    return fnmatchcase(text, pattern) or (pattern.startswith("**/") and fnmatchcase(text, pattern[3:]))


def discover(inputs: list[str], yaml: bool = True,
             exclude: Exclude | None = None) -> tuple[list[tuple[Path, Path]], list[Diagnostic]]:
    """Expand the command-line paths to (file, root) pairs, directories searched recursively.

    With `yaml`, directories also yield the Sloth and OpenSLO specs among their .yml/.yaml files. `exclude`
    drops files found by searching a directory; a file named explicitly is always read.
    """
    found: list[tuple[Path, Path]] = []
    diags: list[Diagnostic] = []
    for raw in inputs:
        path = Path(raw)
        kind, problem = path_kind(path)
        if problem is not None:
            diags.append(dg.make("RELC201", f"cannot read {shown_name(raw)}: {problem}"))
        elif kind == "dir":
            hidden: list[Path] = []
            every = sorted(_walk(path, hidden))
            files = [p for p in every if _wanted(p, path, yaml, exclude)]
            notes = _left_out(every, files, hidden, path, exclude) if yaml else []
            if not files:
                what = ".relc, Sloth, OpenSLO or Pyrra files" if yaml else ".relc files"
                diags.append(dg.make("RELC204", f"no {what} found under {raw}",
                                     hint="see the notes for what was skipped" if notes else None))
            diags.extend(notes)
            for file in files:
                if _inside(file, path):
                    found.append((file, path))
                else:
                    diags.append(dg.make("RELC202", f"{display_path(file)} is a link to a file outside "
                                         f"{display_path(path)}; it is not read"))
        else:
            found.append((path, path.parent))
    return found, diags


def _wanted(path: Path, root: Path, yaml: bool, exclude: Exclude | None) -> bool:
    """A file a directory search reads: .relc, or (with `yaml`) a Sloth/OpenSLO spec, not skipped or excluded."""
    relc = path.suffix == ".relc"
    if not (relc or yaml and path.suffix in YAML_SUFFIXES) or not path.is_file() or _skipped(path, root):
        return False
    if exclude is not None and exclude.matches(path):
        return False
    return relc or _is_spec(path)  # reading a YAML file's start comes last


def _is_spec(path: Path) -> bool:
    """A cheap look at the start of a YAML file, so unrelated YAML in a repository is left alone."""
    from relc.compiler.resolve.importers import sniff

    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return sniff(handle.read(65536))
    except OSError:
        return False


def _walk(root: Path, hidden: list[Path] | None = None):
    """Every file below root, in directories a search reads: not hidden or skipped ones, not relc's own output
    (a directory holding a build manifest, so `relc build proj -o proj/out` never reads what it wrote), and
    each real directory once (a link back up is not followed round). Hidden directories met go to `hidden`."""
    seen: set[str] = set()
    for top, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(top)
        if real in seen or (top != str(root) and MANIFEST_NAME in files):
            dirs[:] = []
            continue
        seen.add(real)
        if hidden is not None:
            hidden.extend(Path(top, d) for d in sorted(dirs) if d.startswith(".") and d not in NOT_SPECS)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        yield from (Path(top, name) for name in files)


def _left_out(every: list[Path], read: list[Path], hidden: list[Path], root: Path,
              exclude: Exclude | None) -> list[Diagnostic]:
    """Notes for what a search does not read but a user may expect it to: SLOs in other formats, hidden folders
    holding specs (scan_notes.py is loaded only when there is such a file or folder to look at)."""
    taken = set(read)
    foreign = [f for f in every if f not in taken and f.suffix in (*YAML_SUFFIXES, ".tf") and not _skipped(f, root)
               and f.is_file() and not (exclude is not None and exclude.matches(f))]  # a FIFO is never opened
    hidden = [d for d in hidden if not (exclude is not None and exclude.matches(d))]
    if not foreign and not hidden:
        return []
    from relc.compiler.resolve.scan_notes import foreign_note, hidden_note

    notes = [foreign_note(f, display_path(f)) for f in foreign]
    notes += [hidden_note(d, _is_spec, display_path, NOT_SPECS) for d in hidden]
    return [n for n in notes if n is not None]


def _skipped(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return parts[-1].startswith(".") or any(part in SKIPPED_DIRS or part.startswith(".") for part in parts[:-1])


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):  # outside, or a name the system cannot resolve (too long, a loop)
        return False
    return True


def resolve(inputs: list[str], exclude: Exclude | None = None, imports=None,
            overlay: dict[Path, str] | None = None) -> tuple[SourceSet, list[Diagnostic]]:
    """Load every input and everything it imports, each file once, reporting cycles and escapes. `overlay`
    (resolved path -> text) stands in for files an editor holds unsaved (the language server)."""
    entries, diags = discover(inputs, exclude=exclude)
    loader = _Loader(overlay or {})
    for file, root in entries:
        if file.suffix in FOREIGN_SUFFIXES:  # named on the command line: say what it is, not a .relc syntax error
            diags.append(dg.make("RELC201", f"cannot read {display_path(file)}: a {FOREIGN_SUFFIXES[file.suffix]} "
                                 "file, not .relc, Sloth, OpenSLO or Pyrra"))
        elif file.suffix not in YAML_SUFFIXES:
            loader.load(file, root, stack=())
    diags.extend(loader.diagnostics)
    specs = [file for file, _ in entries if file.suffix in YAML_SUFFIXES]
    if specs:
        diags.extend(_load_specs(specs, loader.sources, imports, overlay or {}))
    return loader.sources, diags


def uses_packs(sources: SourceSet) -> bool:
    """Whether any module uses or defines a pack: only such projects load the pack code (the pipeline's job)."""
    return any(isinstance(i, Block) and i.kind in ("use", "pack") for m in sources.modules for i in m.items)


def _load_specs(files: list[Path], sources: SourceSet, imports=None, overlay: dict | None = None) -> list[Diagnostic]:
    """Sloth, OpenSLO and Pyrra YAML, read together so references across files resolve, as relc modules;
    `imports` (ImportSettings) says what Sloth's command line would."""
    from relc.compiler.resolve.importers import load_yaml_modules
    from relc.compiler.resolve.import_settings import DEFAULT

    texts, diags = [], []
    for file in dict.fromkeys(f.resolve() for f in files):
        shown = display_path(file)
        if overlay and file in overlay:
            texts.append((shown, overlay[file]))
            continue
        try:
            texts.append((shown, read_regular(file).decode("utf-8-sig")))
        except Unreadable as err:
            diags.append(dg.make("RELC201", f"cannot read {shown}: {err}"))
        except UnicodeDecodeError as err:
            diags.append(dg.make("RELC201", f"cannot read {shown}: not UTF-8 (byte {err.start})"))
    modules, more = load_yaml_modules(texts, imports or DEFAULT)
    sources.texts.update(dict(texts))
    sources.modules.extend(modules[path] for path, _ in texts if path in modules)
    return diags + more


class _Loader:
    def __init__(self, overlay: dict[Path, str] | None = None) -> None:
        self.overlay = overlay or {}
        self.sources = SourceSet()
        self.diagnostics: list[Diagnostic] = []
        self.done: set[Path] = set()

    def load(self, file: Path, root: Path, stack: tuple[tuple[Path, Import | None], ...],
             via: Import | None = None) -> None:
        real = file.resolve()
        if any(path == real for path, _ in stack):
            self._report_cycle(real, stack, via)
            return
        if real in self.done:
            return
        self.done.add(real)
        module = self._parse_file(file, real, via)
        if module is None:
            return
        self.sources.modules.append(module)
        for imp in module.imports:
            target = self._import_target(imp, file, root)
            if target is not None:
                self.load(target, root, stack + ((real, via),), via=imp)

    def _parse_file(self, file: Path, real: Path, via: Import | None) -> Module | None:
        shown = display_path(file)
        text = self.overlay[real] if real in self.overlay else self._read(file, shown, via)
        if text is None:
            return None
        text = one_newline(text)
        self.sources.texts[shown] = text
        module, diags = parse(shown, text)
        self.diagnostics.extend(diags)
        return module

    def _read(self, file: Path, shown: str, via: Import | None) -> str | None:
        """The file's text as UTF-8 (a byte-order mark dropped), or None with a diagnostic."""
        where = via.span if via else None
        try:
            data = read_regular(file)
        except Unreadable as err:
            self.diagnostics.append(dg.make("RELC201", f"cannot read {shown}: {err}", where))
            return None
        try:
            return data.decode("utf-8-sig")  # editors on Windows may prepend a byte-order mark
        except UnicodeDecodeError as err:
            line = data[: err.start].count(b"\n") + 1
            self.diagnostics.append(dg.make("RELC103", f"{shown} is not valid UTF-8 (byte {err.start})",
                                            Span.point(shown, line, 1)))
            return None

    def _import_target(self, imp: Import, file: Path, root: Path) -> Path | None:
        if not imp.path or os.path.isabs(imp.path) or imp.path.startswith("~"):
            self.diagnostics.append(dg.make("RELC202", f"import path must be relative: \"{imp.path}\"", imp.span,
                                            hint="imports are resolved relative to the importing file"))
            return None
        target = file.parent / imp.path
        if not _inside(target, root):
            self.diagnostics.append(dg.make(
                "RELC202", f"import \"{imp.path}\" resolves outside the project root {display_path(root)}",
                imp.span, hint="imports (and symlinks they follow) must stay inside the directory being compiled"))
            return None
        kind, problem = path_kind(target)
        if kind != "file":
            self.diagnostics.append(dg.make("RELC201", f"cannot import \"{shown_name(imp.path)}\": "
                                            f"{problem or 'a directory, not a file'}", imp.span))
            return None
        return target

    def _report_cycle(self, real: Path, stack, via: Import | None) -> None:
        chain = [display_path(p) for p, _ in stack] + [display_path(real)]
        start = next(i for i, (p, _) in enumerate(stack) if p == real)
        cycle = " -> ".join(chain[start:])
        related = tuple(Related(imp.span, "imported here") for _, imp in stack[start + 1:] if imp is not None)
        self.diagnostics.append(dg.make("RELC203", f"import cycle: {cycle}", via.span if via else None,
                                        related=related))
