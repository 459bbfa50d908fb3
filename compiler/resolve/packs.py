"""Policy packs: a vendor's parameterised reliability policy as a directory of data, found and loaded safely."""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic, Related, Span
from relc.compiler.check.reader import Reader, Shape, check_name
from relc.compiler.syntax.tree import Block, Module, Value

ENTRY_POINT_GROUP = "relc.packs"
MANIFEST = Shape(frozenset({"version", "description"}), frozenset({"param"}), label="named")
PARAM = Shape(frozenset({"type", "default", "example", "doc"}), label="named")
PARAM_KINDS = {"string": ("string", "raw"), "percent": ("percent",), "duration": ("duration",),
               "number": ("number",), "bool": ("bool",)}


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Value | None
    doc: str
    span: Span
    example: Value | None = None  # stands in for a required param when the vendor checks the pack itself


@dataclass
class Pack:
    """A loaded pack: manifest data plus its parsed files, before parameters are applied."""

    name: str
    version: str
    description: str
    params: dict[str, Param]
    root: Path
    modules: list[Module]
    manifest_span: Span
    texts: dict[str, str] = field(default_factory=dict)


MANIFEST_LINE = re.compile(r"^\s*pack\s+[A-Za-z]", re.M)
PACK_HINT = "a pack is a directory holding a `pack` manifest and .relc files"


def locate(reference: str, using_file: Path, span: Span) -> tuple[Path | None, list[Diagnostic]]:
    """A `use` names a directory (relative to the using file) or an installed pack by entry-point name.

    The name is untrusted: a directory is read only once it is known to be a pack (a manifest at its top), and
    never when it holds the project that uses it (`..`), so no name makes relc walk `/etc` or a home directory."""
    if not reference.strip():
        return None, [dg.make("RELC205", "the pack reference is empty", span, hint=PACK_HINT)]
    if not ("/" in reference or reference.startswith(".") or "\\" in reference):
        return _installed(reference, span)
    if "\\" in reference:
        return None, [dg.make("RELC205", f"a pack directory is named with `/`, not `\\`: \"{reference}\"", span,
                              hint="e.g. use \"./packs/acme-postgres\", or an installed pack's name")]
    root = using_file.parent / reference
    try:
        found = root.is_dir() and _has_manifest(root)
        inside = found and using_file.resolve().is_relative_to(root.resolve())
    except OSError as err:
        return None, [dg.make("RELC205", f"cannot read pack directory \"{reference}\": {err.strerror or err}", span)]
    if not root.is_dir():
        return None, [dg.make("RELC205", f"no pack directory at \"{reference}\"", span, hint=PACK_HINT)]
    if not found:
        return None, [dg.make("RELC205", f"\"{reference}\" is not a pack: no .relc file at its top holds a `pack` "
                              "manifest", span, hint=PACK_HINT)]
    if inside:
        return None, [dg.make("RELC205", f"\"{reference}\" holds the file that uses it; a pack is a directory of "
                              "its own", span, hint=PACK_HINT)]
    return root, []


def _has_manifest(root: Path) -> bool:
    """A regular .relc file directly under the root mentions a `pack` block (load() then parses it properly)."""
    for entry in sorted(root.iterdir()):
        if entry.suffix == ".relc" and not entry.is_symlink() and entry.is_file():
            with open(entry, "rb") as handle:
                if MANIFEST_LINE.search(handle.read(1 << 20).decode("utf-8", "replace")):
                    return True
    return False


def _installed(name: str, span: Span) -> tuple[Path | None, list[Diagnostic]]:
    """Find an installed pack's directory without importing (so running) any of its code."""
    from importlib.metadata import entry_points

    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name not in found:
        hint = dg.did_you_mean(name, found) or (f"installed packs: {', '.join(sorted(found))}" if found else
                                                 "no pack is installed; use a directory path like \"./packs/x\"")
        return None, [dg.make("RELC205", f"no installed pack `{name}`", span, hint=hint)]
    package, _, subdir = found[name].partition(":")
    spec = importlib.util.find_spec(package) if "." not in package else None
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        return None, [dg.make("RELC205", f"pack `{name}` points at `{found[name]}`, which is not a top-level "
                              "package directory", span)]
    root = Path(locations[0]) / subdir if subdir else Path(locations[0])
    return (root, []) if root.is_dir() else (None, [dg.make("RELC205", f"pack `{name}`: {root} is missing", span)])


def load(root: Path, span: Span, texts: dict[str, str] | None = None) -> tuple[Pack | None, list[Diagnostic]]:
    """Parse every .relc file under the pack root (imports cannot leave it) and read its manifest; the files'
    texts go into `texts` even when the pack is refused, so its diagnostics show their lines."""
    from relc.compiler.resolve.sources import _Loader, discover

    files, diags = discover([str(root)], yaml=False)
    loader = _Loader()
    for file, pack_root in files:
        loader.load(file, pack_root, stack=())
    diags.extend(loader.diagnostics)
    if texts is not None:
        texts.update(loader.sources.texts)
    if dg.has_errors(diags):
        return None, diags
    nested = [b for m in loader.sources.modules for b in m.items if isinstance(b, Block) and b.kind == "use"]
    for block in nested:
        diags.append(dg.make("RELC205", "a pack cannot `use` another pack", block.kind_span,
                             hint="the customer's project uses each pack; packs stay self-contained"))
    if nested:
        return None, diags
    manifests = [(m, b) for m in loader.sources.modules for b in m.items if isinstance(b, Block) and b.kind == "pack"]
    if len(manifests) != 1:
        what = "has no `pack` manifest" if not manifests else "has more than one `pack` manifest"
        related = tuple(Related(b.kind_span, "manifest here") for _, b in manifests)
        return None, diags + [dg.make("RELC205", f"{root} {what}", span, related=related)]
    pack = _read_manifest(manifests[0][1], root, loader.sources.modules, diags)
    if pack is not None:
        pack.texts = loader.sources.texts
    return pack, diags


def _read_manifest(block: Block, root: Path, modules: list[Module], diags: list[Diagnostic]) -> Pack | None:
    reader = Reader(block, MANIFEST, diags)
    version = reader.string("version", required=True)
    if version and not _valid_version(version):
        diags.append(dg.make("RELC312", f"pack version \"{version}\" is not a version like 1.2.0",
                             reader.attrs["version"].value.span))
    params: dict[str, Param] = {}
    for param_block in reader.blocks("param"):
        param = _read_param(param_block, diags)
        if param is None:
            continue
        if param.name in params:
            diags.append(dg.make("RELC305", f"param `{param.name}` is declared twice", param.span,
                                 related=(Related(params[param.name].span, "first declared here"),)))
            continue
        params[param.name] = param
    if not check_name(block.label, block.label_span, "pack", diags):
        return None
    return Pack(block.label, version, reader.string("description"), params, root,  # type: ignore[arg-type]
                [m for m in modules], block.kind_span)


def _read_param(block: Block, diags: list[Diagnostic]) -> Param | None:
    reader = Reader(block, PARAM, diags)
    if not check_name(block.label, block.label_span, "param", diags):
        return None
    kind = reader.string("type", required=True)
    if kind and kind not in PARAM_KINDS:
        diags.append(dg.make("RELC312", f"unknown param type `{kind}`", reader.attrs["type"].value.span,
                             hint=dg.did_you_mean(kind, PARAM_KINDS) or f"types: {', '.join(PARAM_KINDS)}"))
        return None
    values = {key: reader.attrs[key].value for key in ("default", "example") if key in reader.attrs}
    for key, value in values.items():
        if kind and value.kind not in PARAM_KINDS[kind]:
            diags.append(dg.make("RELC303", f"the {key} of `{block.label}` must be {kind}, got {value.describe()}",
                                 value.span))
            return None
    return Param(block.label, kind, values.get("default"), reader.string("doc"), block.label_span,  # type: ignore
                 values.get("example"))


def _valid_version(text: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def version_matches(version: str, constraint: str) -> bool | None:
    """True/False for a PEP 440 constraint like ">=1.2,<2"; None when the constraint does not parse."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(constraint).contains(version, prereleases=True)
    except InvalidSpecifier:
        return None
