"""DIR/.relc-manifest.json: which files relc generated, so a build never deletes a file someone else put there."""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from relc.compiler.output import staging
from relc.compiler.resolve.files import (MANIFEST_NAME,  # defined where input is read: searches skip output cheaply
                                          Unreadable, read_regular)

FORMAT = 1

Listing = dict[str, dict[str, str]]  # target -> {path relative to DIR/<target>, POSIX: sha256 hex}


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_OUTPUT_BYTES = 1 << 31  # a generated file; only bounds reading what someone else put there


def read(out_dir: Path) -> Listing:
    """The recorded files per target; empty when there is no manifest or it is not one relc wrote."""
    try:
        data = json.loads(read_regular(out_dir / MANIFEST_NAME, MAX_MANIFEST_BYTES))
    except (Unreadable, ValueError, RecursionError):  # a missing, foreign, hand-edited or garbage manifest
        return {}
    targets = data.get("targets") if isinstance(data, dict) and data.get("generator") == "relc" else None
    listing: Listing = {}
    for name, entry in targets.items() if isinstance(targets, dict) else ():
        files = entry.get("files") if isinstance(entry, dict) else None
        if isinstance(files, dict) and TARGET_NAME.fullmatch(name):  # a hand-edited entry names nothing else
            listing[name] = {k: str(v) for k, v in files.items() if _relative(k)}
    return listing


TARGET_NAME = re.compile(r"[a-z][a-z0-9_-]*")


def _relative(path: str) -> bool:
    """A path relc could have written inside a target directory: relative, no `..`, no empty part."""
    parts = path.split("/")
    return bool(path) and "\\" not in path and "\0" not in path and all(p not in ("", ".", "..") for p in parts)


def render(listing: Listing) -> str:
    """Deterministic text: the same outputs give the same manifest, so it can be committed and checked."""
    targets = {name: {"files": dict(sorted(files.items()))} for name, files in sorted(listing.items())}
    payload = {"generator": "relc", "format": FORMAT, "targets": targets}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def write(out_dir: Path, listing: Listing) -> None:
    """Replace the manifest atomically (a temporary file renamed over it)."""
    tmp, fd = staging.make_file(out_dir, "tmp", "manifest")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(render(listing))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, out_dir / MANIFEST_NAME)
    except BaseException:
        os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def files_on_disk(target_dir: Path) -> list[str]:
    """Every file and link under a target directory, as POSIX paths relative to it (links are not followed)."""
    found = []
    for root, dirs, files in os.walk(target_dir):
        rel = Path(root).relative_to(target_dir)
        links = [d for d in dirs if os.path.islink(os.path.join(root, d))]
        dirs[:] = [d for d in dirs if d not in links]
        found.extend((rel / name).as_posix() for name in files + links)
    return sorted(found)


def foreign(out_dir: Path, expected: Listing, listing: Listing) -> dict[str, list[str]]:
    """Per target, what its directory holds that relc did not write ("." when it is not a directory).

    A file is relc's when the manifest lists it, or when it already holds exactly what this build
    writes there (output of a relc that kept no manifest): replacing it loses nothing.
    """
    found: dict[str, list[str]] = {}
    for name, hashes in expected.items():
        dest = out_dir / name
        if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
            found[name] = ["."]
        elif dest.is_dir():
            known = listing.get(name, {})
            extra = [path for path in files_on_disk(dest)
                     if path not in known and not _same(dest / path, hashes.get(path))]
            if extra:
                found[name] = extra
    return found


def _same(path: Path, sha256: str | None) -> bool:
    if sha256 is None or path.is_symlink():
        return False
    try:
        return digest(read_regular(path, MAX_OUTPUT_BYTES)) == sha256
    except Unreadable:  # gone, a FIFO or device someone put there: not relc's
        return False
