"""Time `relc check` and `relc build` on generated projects of N SLOs, beside baselines and peers.

    python3 benchmarks/run.py                 # N = 10, 100, 1000, 10000; peers included
    python3 benchmarks/run.py --quick         # N = 10, 100 only
    python3 benchmarks/run.py --sizes 1000 --runs 3 --no-peers --json /tmp/r.json

Every command runs as a subprocess RUNS times (fewer for N >= 10000, see --large-runs); each run
is measured with os.wait4 (wall time, CPU time user + sys) and GNU time (peak RSS of that process).
Reported: the median, with min and max. The baselines (`python -c pass`, importing relc's CLI)
and the peers (benchmarks/peers.py, each in its own venv under --work) are measured in the same
run, so ratios compare like with like. Markdown goes to stdout, everything to the --json file.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import peers  # noqa: E402


def relc_venv(work: Path) -> Path:
    """relc installed from this checkout (not editable) in a fresh venv under WORK, as users install it and as the
    peers are installed: this machine's global Python may start slowly (site-packages .pth files), which would
    be charged to relc alone. Returns the venv's python."""
    venv = work / "relc-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)],
                   check=True)
    return python


def relc_command(python: str = sys.executable) -> list[str]:
    """The installed `relc` script next to the Python (a pyenv shim would add its own start-up)."""
    script = Path(python).with_name("relc")
    if script.exists():
        return [str(script)]
    found = shutil.which("relc")
    if not found:
        sys.exit("run.py: no `relc` command; install relc first (pip install -e .)")
    return [found]


ENV: dict[str, str] = dict(os.environ)  # the children's environment, see bench_env()


def bench_env(work: Path, pythonpath: str | None = None) -> None:
    """Children cache bytecode, as an installed relc does, but under WORK/pycache rather than in the
    source tree (this environment may set PYTHONDONTWRITEBYTECODE, which would make every run
    compile relc from source). `pythonpath` puts another relc tree first (benchmarks/compare.py)."""
    ENV.clear()
    ENV.update({k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")})
    ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache" / ("other" if pythonpath else "installed"))
    if pythonpath:
        ENV["PYTHONPATH"] = pythonpath


def warm_up(relc: list[str], work: Path) -> None:
    """Compile and cache every module the timed runs load, so no timed run pays for that."""
    for cmd in (relc + ["targets"], relc + ["check", "examples/shop"],
                relc + ["build", "examples/shop", "-o", str(work / "warm-up")], [sys.executable, "-c", "pass"]):
        subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True)


GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None


def run_once(cmd: list[str], cwd: Path) -> dict:
    """One run: wall seconds, CPU seconds and peak RSS (MiB) of the child alone, and its exit code.

    Linux counts a child's peak RSS from before its exec, when it still shares this (larger) process's
    memory, so the peak comes from GNU time (a small process in between) where it is installed."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss:
        wrapped = [GNU_TIME, "-f", "%M", "-o", rss.name, *cmd] if GNU_TIME else cmd
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err, env=ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read().decode(errors="replace")[-600:]
        peak_kb = usage.ru_maxrss
        if GNU_TIME:
            lines = rss.read().split()
            peak_kb = int(lines[-1]) if lines and lines[-1].isdigit() else peak_kb
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": peak_kb / 1024,
            "code": proc.returncode, "stderr": tail}


SPENT: list[Path] = []  # output directories moved aside by make_empty, removed by remove_spent at the end


def make_empty(out: Path) -> None:
    """`out` is a new, empty directory. What a previous run wrote there is moved aside, not deleted: on ext4
    without a journal, files created within a minute or so after many were deleted cost 10 to 30 times as
    much (the inode allocator skips recently freed inodes one by one), so deleting here would slow the next
    timed run for a reason no user's first build has. remove_spent deletes them, at start and at the end."""
    if os.path.lexists(out):
        aside = out.with_name(f"{out.name}.spent-{len(SPENT)}")  # free: remove_spent(work) ran at start
        os.rename(out, aside)
        SPENT.append(aside)
    out.mkdir(parents=True)


def remove_spent(work: Path | None = None) -> None:
    """Delete the outputs moved aside; with `work`, also those a killed run left there (before any timing)."""
    while SPENT:
        shutil.rmtree(SPENT.pop(), ignore_errors=True)
    for left in work.glob("*.spent-*") if work is not None else ():
        shutil.rmtree(left, ignore_errors=True)


def measure(name: str, cmd: list[str], runs: int, cwd: Path = ROOT, clean: Path | None = None,
            ok_codes: tuple[int, ...] = (0,)) -> dict:
    """RUNS runs of one command, each into an empty `clean` directory when given; the summary run.py reports."""
    samples = []
    for _ in range(runs):
        if clean is not None:
            make_empty(clean)
        sample = run_once(cmd, cwd)
        if sample["code"] not in ok_codes:
            print(f"run.py: `{name}` exited {sample['code']}: {sample['stderr']}", file=sys.stderr)
            return {"name": name, "cmd": cmd, "error": f"exit {sample['code']}: {sample['stderr'].strip()}"}
        samples.append(sample)
    summary = {"name": name, "cmd": cmd, "runs": runs, "code": samples[-1]["code"]}
    if samples[-1]["code"]:  # accepted but not 0: keep relc's closing line ("relc: 100 errors")
        summary["note"] = samples[-1]["stderr"].strip().splitlines()[-1][:120]
    for key in ("wall", "cpu", "rss"):
        values = [s[key] for s in samples]
        summary[key] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    print(f"  {name}: {summary['wall']['median']:.3f} s, {summary['rss']['median']:.0f} MiB", file=sys.stderr)
    return summary


def target_names(relc: list[str]) -> list[str]:
    listing = subprocess.run(relc + ["targets"], capture_output=True, text=True, check=True, env=ENV).stdout
    return [line.split()[0] for line in listing.splitlines() if line and not line[0].isspace()
            and "(failed to load" not in line]


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "system": platform.platform(),
            "relc_commit": commit.stdout.strip() + ("+uncommitted" if dirty.strip() else ""),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load_before": os.getloadavg()}


# A fixed amount of pure-Python work, timed before each size: this VM's speed drifts within the hour, and this
# says how fast it was while that size ran (`python -c pass` is mostly start-up and does not show it).
CALIBRATION = [sys.executable, "-c", "sum(i * i for i in range(3_000_000))"]


def run_sizes(args, relc: list[str], targets: list[str], work: Path) -> dict:
    results: dict = {}
    for n in args.sizes:
        runs = args.runs if n < 10_000 else min(args.runs, args.large_runs)
        project = work / "projects" / str(n)
        shape = generate.write_project(n, project)
        out = work / "out"
        print(f"N = {n} ({shape['files']} files, {runs} runs)", file=sys.stderr)
        calibration = measure("calibration loop", CALIBRATION, runs)
        rows = [measure("check", relc + ["check", str(project)], runs)]
        for target in targets:  # a target named with -t turns what it cannot express into errors (exit 1)
            rows.append(measure(f"build {target}", relc + ["build", str(project), "-o", str(out), "-t", target],
                                runs, clean=out, ok_codes=(0, 1)))
        rows.append(measure("build all", relc + ["build", str(project), "-o", str(out)], runs, clean=out))
        rows.append(measure("rebuild all, previous output in place", relc + ["build", str(project), "-o", str(out)],
                            runs))  # the daily case: the last run of `build all` left its output there
        if not args.no_peers:
            rows.append(measure("build prometheus+grafana", relc + ["build", str(project), "-o", str(out),
                                                                     "-t", "prometheus", "-t", "grafana"],
                                runs, clean=out))
            rows += run_peers(n, runs, work)
        results[str(n)] = {"shape": shape, "load_after": os.getloadavg(), "rows": rows, "calibration": calibration}
    return results


WARM: set[str] = set()


def run_peers(n: int, runs: int, work: Path) -> list[dict]:
    rows = []
    for peer in peers.PEERS:
        error = peers.setup(work, peer)
        if error:
            rows.append({"name": f"peer {peer}", "error": error})
            continue
        source = peers.write_input(peer, n, work / "peer-input" / peer / str(n))
        out = work / "peer-out"
        if peer not in WARM:  # its first run compiles the peer's modules into the bytecode cache
            WARM.add(peer)
            out.mkdir(parents=True, exist_ok=True)
            subprocess.run(peers.command(work, peer, source, out), env=ENV, capture_output=True)
        rows.append(measure(f"peer {peer}", peers.command(work, peer, source, out), runs, clean=out))
        if peer == "slo-guard":
            rows.append(measure("peer slo-guard CLI, one SLO", peers.single_slo_command(work, source, out), runs,
                                clean=out))
    return rows


def fmt(row: dict, key: str = "wall", digits: int = 3) -> str:
    if "error" in row:
        return "error"
    m = row[key]
    return f"{m['median']:.{digits}f} ({m['min']:.{digits}f}–{m['max']:.{digits}f})"


def find(rows: list[dict], name: str) -> dict | None:
    return next((r for r in rows if r["name"] == name and "error" not in r), None)


def markdown(report: dict) -> str:
    base = report["baselines"]
    py = base[0]["wall"]["median"]
    lines = [f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, Python "
             f"{report['machine']['python']}, relc {report['machine']['relc_commit']}, {report['machine']['date']}; "
             f"load average before {report['machine']['load_before'][0]:.2f}"
             + (f"; relc from PYTHONPATH={report['pythonpath']}." if report.get("pythonpath") else "."), "",
             "| command | wall s, median (min–max) | CPU s, median | peak RSS MiB | × `python -c pass` |",
             "|---|---|---|---|---|"]
    for row in base + [report["shop_check"]]:
        lines.append(f"| {row['name']} | {fmt(row)} | {row['cpu']['median']:.3f} | {row['rss']['median']:.0f} | "
                     f"{row['wall']['median'] / py:.1f} |")
    for n, block in report["sizes"].items():
        shape = block["shape"]
        speed = block.get("calibration", {}).get("wall", {}).get("median")
        lines += ["", f"N = {n} SLOs ({shape['services']} services, {shape['files']} files); load average "
                      f"after {block['load_after'][0]:.2f}"
                  + (f"; calibration loop {speed:.3f} s (baseline table)" if speed else ""), "",
                  "| command | wall s, median (min–max) | CPU s, median | peak RSS MiB | ms per SLO |", "|---|---|---|---|---|"]
        for row in block["rows"]:
            if "error" in row:
                lines.append(f"| {row['name']} | error: {' '.join(row['error'].split())[-200:]} | | | |")
                continue
            per = 1000 * row["wall"]["median"] / int(n)
            note = f" (exit {row['code']}, nothing written: {row['note']})" if row.get("code") else ""
            lines.append(f"| {row['name']}{note} | {fmt(row)} | {row['cpu']['median']:.3f} | "
                         f"{row['rss']['median']:.0f} | {per:.2f} |")
    lines += peer_table(report)
    lines += ["", "Growth of `build all` per 10× SLOs (1.0 would be perfectly linear):", ""]
    sizes = list(report["sizes"])
    for small, large in zip(sizes, sizes[1:]):
        a, b = find(report["sizes"][small]["rows"], "build all"), find(report["sizes"][large]["rows"], "build all")
        if a and b:
            factor = int(large) / int(small)
            lines.append(f"- {small} → {large}: time × {b['wall']['median'] / a['wall']['median']:.2f} "
                         f"(per-SLO × {b['wall']['median'] / a['wall']['median'] / factor:.2f}), "
                         f"RSS × {b['rss']['median'] / a['rss']['median']:.2f}")
    return "\n".join(lines) + "\n"


def peer_table(report: dict) -> list[str]:
    lines = ["", "Peers against the relc build that writes the same kind of output (ratio > 1: the peer is slower):",
             "", "| N | peer | peer wall s | relc command | relc wall s | peer / relc | peer RSS MiB |",
             "|---|---|---|---|---|---|---|"]
    compare = {"slo-guard": "build prometheus", "slokit-sre": "build prometheus",
               "metrics-forge": "build prometheus+grafana"}
    found = False
    for n, block in report["sizes"].items():
        for peer, relc_name in compare.items():
            row = next((r for r in block["rows"] if r["name"] == f"peer {peer}"), None)
            ours = find(block["rows"], relc_name)
            if row is None or ours is None:
                continue
            found = True
            if "error" in row:
                lines.append(f"| {n} | {peer} | error: {' '.join(row['error'].split())[-200:]} | {relc_name} | | | |")
                continue
            lines.append(f"| {n} | {peer} | {fmt(row)} | {relc_name} | {fmt(ours)} | "
                         f"{row['wall']['median'] / ours['wall']['median']:.2f} | {row['rss']['median']:.0f} |")
        single = find(block["rows"], "peer slo-guard CLI, one SLO")
        if single:
            lines.append(f"| {n} | slo-guard CLI, one SLO | {fmt(single)} | | | | {single['rss']['median']:.0f} |")
    return lines if found else []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="N = 10 and 100 only")
    ap.add_argument("--sizes", type=int, nargs="+", default=None, help="N values (default 10 100 1000 10000)")
    ap.add_argument("--runs", type=int, default=5, help="runs per command (default 5)")
    ap.add_argument("--large-runs", type=int, default=3, help="runs per command for N >= 10000 (default 3)")
    ap.add_argument("--no-peers", action="store_true", help="skip the peer tools")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "relc-bench",
                    help="scratch directory: projects, outputs, peer venvs (default: $TMPDIR/relc-bench)")
    ap.add_argument("--json", type=Path, default=None, help="where to write the JSON (default: WORK/results.json)")
    ap.add_argument("--targets", nargs="*", default=None, help="targets to build one by one (default: all)")
    ap.add_argument("--pythonpath", default=None,
                    help="a directory holding another relc/ package tree to time instead (e.g. an older version)")
    ap.add_argument("--global-python", action="store_true",
                    help="time the relc installed beside this Python instead of a fresh venv of this checkout")
    args = ap.parse_args()
    bench_env(args.work, args.pythonpath)
    args.sizes = args.sizes or ([10, 100] if args.quick else [10, 100, 1000, 10_000])
    args.work.mkdir(parents=True, exist_ok=True)
    remove_spent(args.work)
    python = sys.executable if args.global_python or args.pythonpath else str(relc_venv(args.work))
    relc = relc_command(python)
    warm_up(relc, args.work)
    targets = target_names(relc) if args.targets is None else args.targets
    report = {"machine": machine(), "targets": targets, "peer_limits": peers.LIMITS, "runs": args.runs,
              "pythonpath": args.pythonpath, "relc_python": python}
    print("baselines", file=sys.stderr)
    report["baselines"] = [measure("python -c pass", [python, "-c", "pass"], args.runs),
                           measure("python -c 'import relc.compiler.commands.cli'",
                                   [python, "-c", "import relc.compiler.commands.cli"], args.runs),
                           measure(f"calibration loop: python -c '{CALIBRATION[-1]}'", CALIBRATION, args.runs)]
    report["shop_check"] = measure("relc check examples/shop", relc + ["check", "examples/shop"], args.runs)
    try:
        report["sizes"] = run_sizes(args, relc, targets, args.work)
    finally:
        remove_spent()
    path = args.json or args.work / "results.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    sys.stdout.write(markdown(report))
    print(f"run.py: JSON written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
