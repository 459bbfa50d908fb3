"""Reading input files safely: only regular files, never a FIFO or device that would block, within a size."""
from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 16 * 1024 * 1024  # a source or spec file; real ones are a few KiB
MANIFEST_NAME = ".relc-manifest.json"  # what a build writes into its output directory (manifest.py)


class Unreadable(Exception):
    """Why a file cannot be read, in words for a diagnostic."""


def path_kind(path: Path) -> tuple[str | None, str | None]:
    """("dir" or "file", None) for what relc may read; (None, why not) for anything else: missing, a name
    too long, a FIFO or device (reading one would block or never end), a loop of links."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError) as err:  # ValueError: a NUL in the name
        return None, _why(err)
    if stat.S_ISDIR(mode):
        return "dir", None
    if stat.S_ISREG(mode):
        return "file", None
    return None, NOT_REGULAR


NOT_REGULAR = "not a regular file (a FIFO, socket or device is never read)"


def read_regular(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; Unreadable otherwise. Opened without blocking
    and checked on the open descriptor, so a FIFO put in the file's place meanwhile is refused too."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError) as err:
        raise Unreadable(_why(err)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(NOT_REGULAR)
        if info.st_size > limit:
            raise Unreadable(f"larger than {_size(limit)}")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError as err:
        raise Unreadable(_why(err)) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise Unreadable(f"larger than {_size(limit)}")
    return data


def shown_name(raw: str) -> str:
    """A path as typed, cut to a readable length (a hostile name can be thousands of characters)."""
    return raw if len(raw) <= 200 else f"{raw[:100]}...({len(raw)} characters)"


def _why(err: Exception) -> str:
    if isinstance(err, FileNotFoundError):
        return "no such file or directory"
    if isinstance(err, ValueError):
        return "the name holds a NUL character"
    return getattr(err, "strerror", None) or str(err)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"


def write_atomically(path: Path, data: bytes) -> None:
    """Write a temporary file beside the target and rename it over, so a reader sees the old file or the new one,
    never half of one. Through a symlink the file it points to is rewritten and the link kept; an existing file
    keeps its permissions, a new one gets what the umask allows."""
    import tempfile

    target = path.resolve()
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise