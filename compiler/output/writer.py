"""Atomic output: each target's directory is built aside, then swapped in whole, so no build is half-written.

A build stages every target first (the slow part), then swaps them all in (renames only), then records
what it wrote in DIR/.relc-manifest.json. Killed while staging, it leaves the previous output as it
was plus `.relc-tmp.<target>.<pid>.*` directories (see staging.py), which the next build removes. A failure during the
swaps swaps the finished ones back.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

from relc.compiler.output import manifest as manifest

from relc.compiler.output import staging as staging

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100

Progress = Callable[[str, int, int], None]  # (target, files written, files in target)


class UnsafePath(ValueError):
    """A target produced a path that would leave its directory: a bug, never written."""


class ForeignFiles(Exception):
    """Target directories hold files relc did not generate; replacing them needs force."""

    def __init__(self, found: dict[str, list[str]]):
        super().__init__(", ".join(found))
        self.found = found


def safe_relative(path: str) -> PurePosixPath:
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or any(p in ("..", "") for p in pure.parts) or "\\" in path or "\0" in path:
        raise UnsafePath(path)
    return pure


@dataclass(frozen=True)
class Staged:
    """One target's files written aside in the output directory, with their hashes: what a build swaps in."""

    target: str
    path: Path
    hashes: dict[str, str]

    def __len__(self) -> int:
        return len(self.hashes)


def prepare(out_dir: Path, started: float | None = None) -> None:
    """The output directory exists and holds nothing that killed runs left, before anything is staged."""
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale(out_dir, time.time() if started is None else started)


def stage_target(out_dir: Path, target: str, artifacts: list, progress: Progress | None = None,
                 owner: int | None = None) -> Staged:
    """Write one target's artifacts into a hidden directory of out_dir (removed again if that fails).

    The directory's name carries the pid of the build that owns it (`owner`, when a worker stages for it), so a
    later build removes it only once that build is gone."""
    files = [(safe_relative(a.path), a.content.encode("utf-8")) for a in artifacts]
    hashes = {rel.as_posix(): manifest.digest(data) for rel, data in files}
    tmp = staging.make_dir(out_dir, "tmp", target, owner)
    try:
        _stage(tmp, target, files, progress, out_dir / target)
    except BaseException:
        _remove(tmp)
        raise
    return Staged(target, tmp, hashes)


def discard(staged: dict[str, Staged]) -> None:
    """Remove staged directories of a build that will not be committed."""
    for each in staged.values():
        _remove(each.path)


def commit_staged(out_dir: Path, staged: dict[str, Staged], *, force: bool = False) -> list[Path]:
    """Swap every staged target in, unless a target directory holds files relc did not write (then none)."""
    previous = manifest.read(out_dir)
    hashes = {target: each.hashes for target, each in staged.items()}
    found = {} if force else manifest.foreign(out_dir, hashes, previous)
    if found:
        discard(staged)
        raise ForeignFiles(found)
    try:
        union = {**previous, **{t: {**hashes[t], **previous.get(t, {})} for t in hashes}}
        if union != previous:  # first: every file a target directory can hold from here on is listed
            manifest.write(out_dir, union)
        asides = _commit(out_dir, {target: each.path for target, each in staged.items()})
    except BaseException:
        discard(staged)
        raise
    manifest.write(out_dir, {**previous, **hashes})
    for aside in asides:
        _remove(aside)
    return [out_dir / target for target in staged]


def write_targets(out_dir: Path, outputs: dict[str, list], *, force: bool = False,
                  progress: Progress | None = None, started: float | None = None) -> list[Path]:
    """Write every target's artifacts into DIR/<target>/, replacing what a previous build left there."""
    prepare(out_dir, started)
    staged: dict[str, Staged] = {}
    try:
        for target, artifacts in outputs.items():
            staged[target] = stage_target(out_dir, target, artifacts, progress)
    except BaseException:
        discard(staged)
        raise
    return commit_staged(out_dir, staged, force=force)


def _stage(tmp: Path, target: str, files: list[tuple[PurePosixPath, bytes]], progress: Progress | None,
           previous: Path | None = None) -> None:
    """Write one target's files into its staging directory; a file the previous output already holds byte for
    byte is hard-linked from there instead (see _reuse)."""
    umask = manifest._umask()
    mode = 0o666 & ~umask  # what open() gives a new file: a previous file with another mode is not reused
    os.chmod(tmp, 0o777 & ~umask)
    made: set[Path] = {tmp}
    reuse = previous is not None and previous.is_dir() and not previous.is_symlink()
    for count, (rel, data) in enumerate(files, 1):
        dest = tmp.joinpath(*rel.parts)
        if dest.parent not in made:
            dest.parent.mkdir(parents=True, exist_ok=True)
            made.add(dest.parent)
        if not (reuse and _reuse(previous.joinpath(*rel.parts), dest, data, mode)):  # type: ignore[union-attr]
            with open(dest, "wb") as handle:
                handle.write(data)
        if progress is not None:
            progress(target, count, len(files))


def _reuse(old: Path, dest: Path, data: bytes, mode: int) -> bool:
    """Link dest to the previous build's file when that holds exactly `data`, as relc would write it.

    A rebuild then allocates no inode for an unchanged file, and swapping out the old directory frees none:
    on ext4 without a journal, files created soon after many were deleted cost 10 to 30 times as much (its
    inode allocator skips recently freed inodes one by one). Files are never changed in place, so sharing
    one is safe; a file with another link, another mode or other content is written anew."""
    try:
        handle = os.open(old, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return False
    try:
        info = os.fstat(handle)
        if (not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size != len(data)
                or stat.S_IMODE(info.st_mode) != mode or os.read(handle, len(data) + 1) != data):
            return False
    except OSError:
        return False
    finally:
        os.close(handle)
    try:
        os.link(old, dest, follow_symlinks=False)
    except (OSError, NotImplementedError):
        return False
    return True


def _commit(out_dir: Path, staged: dict[str, Path]) -> list[Path]:
    """Swap every staged directory in; if one fails, swap back those already in. Returns the old ones."""
    done: list[tuple[Path, Path | None]] = []
    try:
        for target, tmp in staged.items():
            done.append((out_dir / target, _swap_in(tmp, out_dir / target)))
    except BaseException:
        for dest, aside in reversed(done):
            _swap_back(dest, aside)
        raise
    return [aside for _, aside in done if aside is not None]


def _swap_in(tmp: Path, dest: Path) -> Path | None:
    """Put tmp at dest; returns where the previous dest now is (None if there was none)."""
    if not os.path.lexists(dest):
        os.rename(tmp, dest)
        return None
    if _exchange(tmp, dest):
        return tmp  # tmp now holds the previous output
    old = _aside_name(dest)
    os.rename(dest, old)
    try:
        os.rename(tmp, dest)
    except BaseException:
        os.rename(old, dest)
        raise
    return old


def _swap_back(dest: Path, aside: Path | None) -> None:
    """Undo one _swap_in, best effort: the previous output goes back to dest."""
    if aside is None:
        new = _aside_name(dest)
        os.rename(dest, new)
        _remove(new)
    elif not _exchange(aside, dest):
        new = _aside_name(dest)
        os.rename(dest, new)
        os.rename(aside, dest)
        _remove(new)


def _aside_name(dest: Path) -> Path:
    return dest.parent / staging.name("old", dest.name)


def _exchange(a: Path, b: Path) -> bool:
    """Linux renameat2(RENAME_EXCHANGE): both names stay valid at every instant."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def remove_stale(out_dir: Path, started: float) -> list[Path]:
    """Delete what killed relc runs left: relc's staging names, an owner that is gone, older than this run."""
    removed = []
    for entry in os.scandir(out_dir):
        pid = staging.owner(entry.name)
        if pid is None or pid == os.getpid() or _alive(pid):
            continue
        if entry.stat(follow_symlinks=False).st_mtime < started:
            _remove(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    """Whether a process with this id runs (on Windows os.kill would end it, so assume it does)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, ValueError):
        return False
    except OSError:
        return True  # e.g. another user's process
    return True
