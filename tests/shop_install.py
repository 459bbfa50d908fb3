"""A Prometheus holding a made-up day and a half of the shop example's metrics and its relc rules: what the live
examples of docs/live.md run against (tests/test_doc_commands.py starts it; `python3 tests/shop_install.py`
starts it by hand and prints its URL)."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from promserver import PrometheusServer, backfill  # noqa: E402
from synthetic_install import series_for, types_for  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HISTORY_S = 36 * 3600


def shop_server(workdir: Path, project: Path = ROOT / "examples" / "shop") -> PrometheusServer:
    """A started server (the caller stops it) with the project's history backfilled and its rules loaded."""
    from relc.compiler.pipeline import compile_paths

    end = int(time.time()) // 60 * 60
    series = series_for(compile_paths([str(project)]).project, end - HISTORY_S, end)
    server = PrometheusServer(workdir, evaluation_interval="5s")
    backfill(server.tsdb_dir, series, types_for(series))
    out = workdir / "out"
    built = subprocess.run([sys.executable, "-m", "relc.compiler", "build", str(project), "-o", str(out), "-t",
                            "prometheus", "--no-config"], capture_output=True, text=True)
    if built.returncode != 0:
        raise RuntimeError(built.stderr)
    for rules in (out / "prometheus").glob("*.rules.yml"):
        (server.rules_dir / rules.name).write_text(rules.read_text())
    server.start()
    start = time.time()
    server.wait_until(lambda: server.evaluated_since(start), 60, what="every rule group evaluated")
    return server


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        prom = shop_server(Path(tmp))
        print(prom.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            prom.stop()
