"""Nothing from a source file, a file name or an argument reaches the terminal as an escape sequence or hidden text."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
SEQUENCES = ["\x1b[31m", "\x1b]0;pwned\x07", "\x1b]8;;https://evil.example\x1b\\", "\x07", "\x9b2J", "\u202e",
             "\u2066", "\u200b", "\x1bc"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "relc.compiler", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("sequence", SEQUENCES, ids=lambda s: repr(s))
def test_diagnostics_print_no_escape_sequence_from_a_source_or_its_name(tmp_path: Path, sequence: str):
    name = f"bad{sequence}.relc".replace("/", "_")
    (tmp_path / name).write_text(f'service a {{\n  owner = "x{sequence}y"\n  bogus{sequence} = 1\n}}\n')
    proc = run("check", ".", cwd=tmp_path)
    assert proc.returncode == 1
    assert "bad" in proc.stderr and not UNSAFE.search(proc.stderr + proc.stdout), repr(proc.stderr)


@pytest.mark.parametrize("sequence", SEQUENCES[:3], ids=lambda s: repr(s))
def test_arguments_echoed_back_are_terminal_safe(tmp_path: Path, sequence: str):
    for args in (("check", f"missing{sequence}"), (f"bogus{sequence}",), ("build", ".", "-O", f"x{sequence}=1")):
        proc = run(*args, cwd=tmp_path)
        assert proc.returncode in (1, 2) and not UNSAFE.search(proc.stderr + proc.stdout), (args, proc.stderr)
