"""One self-updating status line on a terminal, so a build of thousands of SLOs does not look hung.

Silent unless stderr is a terminal (CI logs and pipes stay clean), and silent for the first half second,
so small projects print nothing extra. Updates only set attributes; a daemon thread draws ten times a second.
"""
from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from typing import TextIO

FRAMES = "|/-\\"


class Progress:
    """A context manager: `stage()` and `count()` say what is happening; leaving it erases the line."""

    def __init__(self, stream: TextIO | None = None, delay: float = 0.5, interval: float = 0.1,
                 enabled: bool | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _terminal(self.stream) if enabled is None else enabled
        self.delay, self.interval = delay, interval
        self.label, self.done, self.total = "", 0, 0
        self._drawn = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = time.monotonic()

    def __enter__(self) -> "Progress":
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="relc-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def stage(self, label: str) -> None:
        self.label, self.done, self.total = label, 0, 0

    def count(self, label: str, done: int, total: int) -> None:
        self.label, self.done, self.total = label, done, total

    def close(self) -> None:
        """Stop drawing and erase the line, before diagnostics are printed."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        if self._drawn:
            self._write("\r\x1b[K")
            self._drawn = False

    def line(self, frame: int) -> str:
        counts = f" {self.done}/{self.total}" if self.total else ""
        return f"relc: {FRAMES[frame % len(FRAMES)]} {self.label}{counts} ({time.monotonic() - self._start:.0f}s)"

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        width = max(20, shutil.get_terminal_size().columns - 1)  # a wrapped line could not be erased
        frame = 0
        while not self._stop.is_set():
            self._write("\r\x1b[K" + self.line(frame)[:width])
            self._drawn = True
            frame += 1
            self._stop.wait(self.interval)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken terminal must not fail the build
            self._stop.set()


def _terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"
