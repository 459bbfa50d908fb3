"""Time `relc doctor`, `report`, `gate` and `replay` on a generated project against a real Prometheus holding its
series and its rules, and check the report's accuracy against counters with known outages.

    python3 benchmarks/live.py [--slos 1000] [--hours 6] [--runs 3]

Needs the Debian `prometheus` and `promtool`. Everything runs under a temporary directory; the server listens on
127.0.0.1 and is stopped at the end. Prints a Markdown table of medians (and min-max) to stdout.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import write_project  # noqa: E402
from promserver import PrometheusServer, backfill  # noqa: E402
from synthetic_install import series_for, types_for  # noqa: E402


def relc(*args: str, env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "relc.compiler", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    return time.perf_counter() - started, proc


def timed(label: str, runs: int, *args: str, ok=(0,)) -> dict:
    seconds = []
    for _ in range(runs):
        took, proc = relc(*args)
        if proc.returncode not in ok:
            raise SystemExit(f"{label}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
        seconds.append(took)
    return {"label": label, "median": statistics.median(seconds), "min": min(seconds), "max": max(seconds)}


def serve_project(work: Path, slos: int, hours: int) -> tuple[PrometheusServer, Path, dict]:
    from relc.compiler.pipeline import compile_paths

    project = work / "project"
    summary = write_project(slos, project)
    end = int(time.time()) // 60 * 60
    series = series_for(compile_paths([str(project)]).project, end - hours * 3600, end)
    server = PrometheusServer(work / "prom", evaluation_interval="1m")
    started = time.perf_counter()
    backfill(server.tsdb_dir, series, types_for(series))
    summary |= {"series": len(series), "backfill_s": round(time.perf_counter() - started, 1)}
    _, built = relc("build", str(project), "-o", str(work / "out"), "-t", "prometheus", "--no-config")
    if built.returncode:
        raise SystemExit(built.stderr)
    for rules in (work / "out" / "prometheus").glob("*.rules.yml"):
        (server.rules_dir / rules.name).write_text(rules.read_text())
    server.start()
    begun = time.time()
    server.wait_until(lambda: server.evaluated_since(begun), 600, what="every rule group evaluated once")
    return server, project, summary


def accuracy(work: Path) -> dict:
    """Largest difference, in percentage points, between the report's attained SLI and the counters' own."""
    from live_fixtures import GOOD, write_project as write_relc
    from live_history import DAY, History

    history = History()
    server = PrometheusServer(work / "accuracy", evaluation_interval="1m")
    backfill(server.tsdb_dir, history.series(), history.TYPES)
    project = write_relc(work, "accuracy-project", GOOD)
    worst = 0.0
    with server:
        for days in (1, 7, 10, 30):
            lo, hi = history.end - 31 * DAY, history.end - (31 - days) * DAY
            _, proc = relc("report", str(project), "--prometheus", server.url, "--from", str(lo), "--to", str(hi),
                           "--format", "json", "--no-config")
            slos = {s["slo"]: s for s in json.loads(proc.stdout)["slos"]}
            worst = max(worst, abs(slos["availability"]["attained"] - (1 - history.ratio(lo, hi))) * 100)
    return {"periods": "1, 7, 10, 30 days", "max_error_pp": worst}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--slos", type=int, default=1000)
    ap.add_argument("--hours", type=int, default=6, help="history backfilled for the generated project")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="relc-live-bench-") as tmp:
        work = Path(tmp)
        server, project, summary = serve_project(work, args.slos, args.hours)
        url = ["--prometheus", server.url, "--no-config"]
        now = int(time.time()) // 60 * 60
        window = ["--from", str(now - args.hours * 3600), "--to", str(now)]
        try:
            rows = [
                timed("relc check", args.runs, "check", str(project), "--no-config"),
                timed("relc doctor", args.runs, "doctor", str(project), *url),
                timed("relc doctor --concurrency 1", args.runs, "doctor", str(project), *url, "--concurrency", "1"),
                timed("relc doctor --no-rules", args.runs, "doctor", str(project), *url, "--no-rules"),
                timed(f"relc report ({args.hours}h, JSON)", args.runs, "report", str(project), *url, *window,
                      "--format", "json"),
                timed("relc gate", args.runs, "gate", str(project), *url, "--min-remaining", "1%", ok=(0, 1)),
                timed(f"relc replay --since {args.hours}h --step 5m", args.runs, "replay", str(project), *url,
                      "--since", f"{args.hours}h", "--step", "5m"),
            ]
        finally:
            server.stop()
        check = accuracy(work)
    print(f"{summary['slos']} SLOs, {summary['services']} services, {summary['series']} series over {args.hours} h "
          f"(backfill {summary['backfill_s']} s), Prometheus 2.42 on 127.0.0.1, {args.runs} runs each\n")
    print("| command | median s | min-max s |\n|---|---|---|")
    for row in rows:
        print(f"| {row['label']} | {row['median']:.2f} | {row['min']:.2f}-{row['max']:.2f} |")
    print(f"\nreport accuracy over {check['periods']}: largest difference from the counters "
          f"{check['max_error_pp']:.6f} percentage points")


if __name__ == "__main__":
    main()
