"""A rebuild hard-links the files that did not change from the previous output, and only those.

Each check below is about what could go wrong by sharing a file with the previous output: the new
output must hold exactly what the build generates, and nothing a user or another program put there
(edited content, another link, another mode, a symlink) may end up shared.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from relc.compiler.output import manifest as manifest

from relc.compiler.output import writer as writer
from relc.targets import Artifact

pytestmark = pytest.mark.skipif(not hasattr(os, "link"), reason="no hard links on this platform")


def build(out: Path, files: dict[str, str]) -> None:
    writer.write_targets(out, {"t": [Artifact(path, text) for path, text in files.items()]})


def inode(path: Path) -> int:
    return path.stat().st_ino


FILES = {"a.md": "alpha\n", "svc/b.md": "beta\n", "svc/c.md": "gamma\n"}


def test_unchanged_files_keep_their_inode_and_changed_ones_get_a_new_one(tmp_path: Path):
    build(tmp_path, FILES)
    before = {path: inode(tmp_path / "t" / path) for path in FILES}
    build(tmp_path, {**FILES, "svc/c.md": "gamma, changed\n", "new.md": "new\n"})
    out = tmp_path / "t"
    assert inode(out / "a.md") == before["a.md"] and inode(out / "svc/b.md") == before["svc/b.md"]
    assert inode(out / "svc/c.md") != before["svc/c.md"]
    assert (out / "svc/c.md").read_text() == "gamma, changed\n" and (out / "new.md").read_text() == "new\n"
    assert all((out / path).stat().st_nlink == 1 for path in ("a.md", "svc/b.md", "svc/c.md", "new.md"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [manifest.MANIFEST_NAME, "t"], "the old output is gone"


def test_staging_leaves_the_previous_file_untouched_until_the_swap(tmp_path: Path):
    build(tmp_path, FILES)
    staged = writer.stage_target(tmp_path, "t", [Artifact(p, t.upper()) for p, t in FILES.items()]
                                 + [Artifact("a2.md", "alpha\n")])
    try:
        assert (tmp_path / "t/a.md").read_text() == "alpha\n"
        assert (staged.path / "a.md").read_text() == "ALPHA\n"
        assert inode(staged.path / "a2.md") != inode(tmp_path / "t/a.md"), "only the same path is reused"
    finally:
        writer.discard({"t": staged})


@pytest.mark.parametrize("tamper", ["edited", "extra link", "mode", "symlink"])
def test_a_previous_file_changed_outside_relc_is_not_shared(tmp_path: Path, tamper: str):
    build(tmp_path, FILES)
    old = tmp_path / "t" / "a.md"
    outside = tmp_path / "outside.md"
    if tamper == "edited":
        old.write_text("alphA\n")  # same size, other bytes
    elif tamper == "extra link":
        os.link(old, outside)
    elif tamper == "mode":
        old.chmod(0o600)
    else:
        outside.write_text("alpha\n")
        old.unlink()
        old.symlink_to(outside)
    build(tmp_path, FILES) if tamper != "symlink" else writer.write_targets(
        tmp_path, {"t": [Artifact(p, t) for p, t in FILES.items()]}, force=True)
    new = tmp_path / "t" / "a.md"
    assert new.read_text() == "alpha\n" and not new.is_symlink()
    assert new.stat().st_nlink == 1, "the new output shares its file with nothing"
    assert os.stat(new).st_mode & 0o777 == 0o666 & ~manifest._umask()
    if outside.exists():
        assert inode(new) != inode(outside)
        outside.write_text("changed through the other name\n")
        assert new.read_text() == "alpha\n"


def test_a_previous_output_that_is_a_symlinked_directory_is_not_read(tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.md").write_text("alpha\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "t").symlink_to(elsewhere, target_is_directory=True)
    staged = writer.stage_target(out, "t", [Artifact("a.md", "alpha\n")])
    try:
        assert inode(staged.path / "a.md") != inode(elsewhere / "a.md")
    finally:
        writer.discard({"t": staged})
