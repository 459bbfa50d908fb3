"""The `relc` command's entry point: Ctrl-C while relc is still loading is an interruption, not a traceback."""
from __future__ import annotations

import sys

INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C


def run() -> None:
    """Load the CLI and run it; the CLI itself turns interruptions during a command into exit 130."""
    try:
        from relc.compiler.commands.cli import run as run_cli
    except KeyboardInterrupt:
        sys.stderr.write("relc: interrupted\n")
        sys.exit(INTERRUPTED)
    run_cli()
