"""Names of what a build writes aside (staging directories, previous outputs, the manifest's temporary file).

A later build deletes such an entry when the build that made it is gone, so the name must prove that relc made
it: a fixed `.relc-` prefix, the kind, what it stands for, the owner's pid, a random part, and a checksum of all
of these. A user's `.env.old-2019-backup` or `.terraform.tmp-31337-cache` can never pass for one."""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

_NAME = re.compile(r"\.relc-(?P<kind>tmp|old)\.(?P<what>[A-Za-z0-9_.-]+)\.(?P<pid>[0-9]{1,10})\."
                   r"(?P<random>[0-9a-f]{12})\.(?P<check>[0-9a-f]{12})")


def _check(kind: str, what: str, pid: int, random: str) -> str:
    return hashlib.sha256(f"relc staging\0{kind}\0{what}\0{pid}\0{random}".encode()).hexdigest()[:12]


def name(kind: str, what: str, pid: int | None = None) -> str:
    """A new name for `what` (a target, `manifest`) staged (`tmp`) or set aside (`old`) by process `pid`."""
    pid = os.getpid() if pid is None else pid
    random = secrets.token_hex(6)
    return f".relc-{kind}.{what}.{pid}.{random}.{_check(kind, what, pid, random)}"


def owner(entry_name: str) -> int | None:
    """The pid of the relc process that made an entry of this name; None for any name relc did not make."""
    match = _NAME.fullmatch(entry_name)
    if match is None or match["check"] != _check(match["kind"], match["what"], int(match["pid"]), match["random"]):
        return None
    return int(match["pid"])


def make_dir(parent: Path, kind: str, what: str, pid: int | None = None) -> Path:
    """Create a new private directory with a staging name under parent."""
    return _create(parent, kind, what, pid, lambda path: path.mkdir(mode=0o700))[0]


def make_file(parent: Path, kind: str, what: str) -> tuple[Path, int]:
    """Create a new private file with a staging name under parent: its path and a descriptor open for writing."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    return _create(parent, kind, what, None, lambda path: os.open(path, flags, 0o600))


def _create(parent: Path, kind: str, what: str, pid: int | None, create) -> tuple[Path, object]:
    while True:
        path = parent / name(kind, what, pid)
        try:
            return path, create(path)
        except FileExistsError:  # 48 random bits met an earlier name: draw again
            continue
