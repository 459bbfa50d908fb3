"""Atomic output: each target's directory is built aside, then swapped in whole, so no build is half-written."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class UnsafePath(ValueError):
    """A target produced a path that would leave its directory: a bug, never written."""


def safe_relative(path: str) -> PurePosixPath:
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or any(p in ("..", "") for p in pure.parts) or "\\" in path or "\0" in path:
        raise UnsafePath(path)
    return pure


def write_targets(out_dir: Path, outputs: dict[str, list]) -> list[Path]:
    """Write every target's artifacts into DIR/<target>/, replacing what a previous build left there."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staged: dict[str, Path] = {}
    try:
        for target, artifacts in outputs.items():
            staged[target] = _stage(out_dir, target, artifacts)
    except BaseException:
        for tmp in staged.values():
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    written = []
    for target, tmp in staged.items():
        _swap_in(tmp, out_dir / target)
        written.append(out_dir / target)
    return written


def _stage(out_dir: Path, target: str, artifacts: list) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f".{target}.tmp-", dir=out_dir))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        for artifact in artifacts:
            dest = tmp.joinpath(*safe_relative(artifact.path).parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(dest, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(artifact.content)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _swap_in(tmp: Path, dest: Path) -> None:
    """Exchange atomically where the kernel can (Linux renameat2), else two renames that never lose data."""
    if not dest.exists():
        os.rename(tmp, dest)
        return
    if _exchange(tmp, dest):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the previous output
        return
    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
    os.rmdir(old)
    os.rename(dest, old)
    os.rename(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0
