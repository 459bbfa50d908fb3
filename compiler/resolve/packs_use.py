"""Resolve stage for packs: each `use` (or a pack compiled directly) becomes ordinary modules."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from relc.compiler import diagnostics as dg
from relc.compiler.diagnostics import Diagnostic
from relc.compiler.resolve.packs import load, locate
from relc.compiler.resolve.packs_apply import apply_use
from relc.compiler.syntax.tree import Block, Module


def resolve_packs(sources) -> list[Diagnostic]:
    """Replace `use` blocks with the pack's configured modules; a directly compiled pack uses its defaults."""
    diags: list[Diagnostic] = []
    added: list[Module] = []
    seen_manifests = set()
    for module in list(sources.modules):
        for item in module.items:
            if not isinstance(item, Block):
                continue
            if item.kind == "use":
                added.extend(_use(item, Path(module.path), sources, diags))
            elif item.kind == "pack" and module.path not in seen_manifests:
                seen_manifests.add(module.path)
                _compile_pack_directly(item, module, sources, diags)
    sources.modules.extend(added)
    return diags


def _use(block: Block, using_file: Path, sources, diags: list[Diagnostic]) -> list[Module]:
    if block.label is None or block.label_span is None:
        diags.append(dg.make("RELC304", 'a `use` names its pack: use "./packs/acme-postgres" { ... }',
                             block.kind_span))
        return []
    root, found = locate(block.label, using_file, block.label_span)
    diags.extend(found)
    if root is None:
        return []
    pack_texts: dict[str, str] = {}
    pack, loaded = load(root, block.label_span, pack_texts)
    sources.texts.update(pack_texts)
    real_root = root.resolve()
    used = sources.pack_uses.setdefault(real_root, dg.Related(block.label_span, "pack used here"))
    diags.extend(_noted(d, used, real_root, inside=True) for d in loaded)
    if pack is None:
        return []
    start = len(diags)
    configured = apply_use(block, pack, diags)
    diags[start:] = [_noted(d, used, real_root) for d in diags[start:]]
    return configured


def note_pack_uses(diags: list[Diagnostic], pack_uses: dict[Path, dg.Related]) -> list[Diagnostic]:
    """Problems found later (validation) in a pack's files point at the customer's `use` as well."""
    noted = []
    for diag in diags:
        real = Path(diag.span.path).resolve() if diag.span is not None else None  # once per diagnostic
        for real_root, used in pack_uses.items():
            if real is not None and real.is_relative_to(real_root) and used not in diag.related:
                diag = _with_note(diag, used)
        noted.append(diag)
    return noted


def _noted(diag: Diagnostic, used: dg.Related, real_root: Path, inside: bool = False) -> Diagnostic:
    """A problem inside a pack's files also points at the customer's `use`, where the customer can act;
    `inside` says the diagnostic came from reading the pack, so one without a place is the pack's too."""
    if used in diag.related:
        return diag
    if diag.span is None and not inside:
        return diag
    if diag.span is not None and not Path(diag.span.path).resolve().is_relative_to(real_root):
        return diag
    return _with_note(diag, used)


def _with_note(diag: Diagnostic, used: dg.Related) -> Diagnostic:
    return replace(diag, related=(*diag.related, used))


def _compile_pack_directly(manifest: Block, module: Module, sources, diags: list[Diagnostic]) -> None:
    """`relc check packs/acme` checks the pack itself with its default params, as a vendor needs."""
    pack_modules = [m for m in sources.modules if Path(m.path).resolve().is_relative_to(
        Path(module.path).resolve().parent)]
    use = Block("use", str(Path(module.path).parent), (), manifest.span, manifest.kind_span, manifest.label_span)
    pack, loaded = load(Path(module.path).parent, manifest.kind_span)
    diags.extend(loaded)
    if pack is None:
        return
    configured = apply_use(use, pack, diags, examples=True)
    for m in pack_modules:
        sources.modules.remove(m)
    sources.modules.extend(configured)
