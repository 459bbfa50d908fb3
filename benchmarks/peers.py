"""The Python peers that generate SLO rules, each in its own virtualenv, fed the benchmark workload.

For each peer: `setup()` makes a venv under the work directory and pip-installs the pinned version;
`write_input()` translates `generate.slos(n)` into the peer's input format; `command()` is what
run.py times. What a peer cannot express is listed in `LIMITS` (and in docs/performance.md); such
SLOs are given to it in the nearest form it accepts, so every tool is timed on N SLOs.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from generate import slos

PEERS = {"slo-guard": "0.2.0", "slokit-sre": "1.0.1", "metrics-forge": "1.0.0"}

# relc's tier tables as (name, severity, long, short, "budget" or "burn", amount); budget tiers become
# burn rate = budget * window / long, so each peer gets the thresholds relc computes.
TIERS = {
    "workbook": [("page-fast", "page", "1h", "5m", "budget", 0.02), ("page-slow", "page", "6h", "30m", "budget", 0.05),
                 ("ticket-fast", "ticket", "1d", "2h", "budget", 0.10),
                 ("ticket-slow", "ticket", "3d", "6h", "budget", 0.10)],
    "fast-only": [("page", "page", "1h", "5m", "budget", 0.02)],
    "async-pipeline": [("page-fast", "page", "1h", "5m", "budget", 0.02),
                       ("ticket-slow", "ticket", "3d", "6h", "burn", 1.0)],
    "strict": [("page-fast", "page", "1h", "5m", "budget", 0.02), ("page-slow", "page", "6h", "30m", "budget", 0.05),
               ("ticket-fast", "ticket", "1d", "2h", "burn", 3.0), ("ticket-slow", "ticket", "3d", "6h", "burn", 1.0)],
}
HOURS = {"5m": 5 / 60, "30m": 0.5, "1h": 1, "2h": 2, "6h": 6, "1d": 24, "3d": 72, "7d": 168, "28d": 672, "30d": 720, "90d": 2160}

LIMITS = {
    "slo-guard": "one SLO per YAML file and per `slo-guard rules` run, so a driver script calls its CLI entry "
                 "point once per SLO in one process; only `error_selector`/`total_selector` pairs: `good` "
                 "SLIs become `outcome!=\"success\"` selectors, latency SLIs `_bucket`/`_count` selectors of "
                 "the same size (not the same meaning), raw SLIs a selector pair; no custom alert policies, "
                 "windows, budget policies, runbooks, labels or dashboards.",
    "slokit-sre": "one multi-document YAML file for all SLOs (one `slo-kit gen-alerts` run); events, latency "
                  "and raw SLIs are expressible as good/total queries (raw as `1 - ratio` over `vector(1)`); "
                  "custom burn-rate conditions per SLO; no `alert_policy = none` (defaults apply), no budget "
                  "policies, runbooks, low-traffic guards or dashboards.",
    "metrics-forge": "one services YAML file; SLOs are typed (availability/latency/error_rate) over fixed "
                     "`http_requests_total`/`http_request_duration_seconds` metrics, so the workload's "
                     "selectors, raw PromQL, alert and budget policies and runbooks cannot be expressed; "
                     "events SLIs map to availability, latency to latency, raw to error_rate. It writes rules "
                     "and a dashboard per service, so it is compared with relc's prometheus+grafana build.",
}

SLO_GUARD_DRIVER = '''"""Run `slo-guard rules` (its CLI entry point) for every config in a directory, in one process."""
import contextlib, io, sys
from pathlib import Path
from slo_guard.cli import main

src, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
for config in sorted(src.glob("*.yaml")):
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["rules", "--config", str(config), "--out", str(out / (config.stem + ".rules.yml"))])
    if code:
        sys.exit(code)
'''


def venv_python(work: Path, peer: str) -> Path:
    return work / "venvs" / peer / "bin" / "python"


def setup(work: Path, peer: str) -> str | None:
    """Create the venv and install the peer; None when ready, else the error (last lines of output)."""
    python = venv_python(work, peer)
    marker = python.parent.parent / f".installed-{PEERS[peer]}"
    if marker.exists():
        return None
    steps = [[sys.executable, "-m", "venv", str(python.parent.parent)],
             [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{peer}=={PEERS[peer]}"]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            return f"`{' '.join(step[-2:])}` failed: " + " / ".join(lines[-3:])
    marker.touch()
    return None


def _selectors(s: dict) -> tuple[str, str]:
    """(bad, total) selectors for the selector-only peer."""
    m, job, h = s["metric"], s["job"], s["histogram"]
    if s["kind"] == "bad":
        return f'{m}{{job="{job}",code=~"5..",route!="/healthz"}}', f'{m}{{job="{job}",route!="/healthz"}}'
    if s["kind"] == "good":
        return f'{m}{{job="{job}",outcome!="success"}}', f'{m}{{job="{job}"}}'
    if s["kind"] == "latency":
        return f'{h}_bucket{{job="{job}",method!="OPTIONS",le="{s["threshold_ms"] / 1000:g}"}}', \
            f'{h}_count{{job="{job}",method!="OPTIONS"}}'
    return f'queue_checks_total{{job="{job}",fresh="false"}}', f'queue_checks_total{{job="{job}"}}'


def _queries(s: dict) -> tuple[str, str]:
    """(good, total) queries with slokit's `{window}` placeholder."""
    m, job, h = s["metric"], s["job"], s["histogram"]
    if s["kind"] == "raw":
        ratio = f'avg_over_time((max(queue_head_age_seconds{{job="{job}"}}) > bool 120)[{{window}}:1m])'
        return f"(1 - ({ratio}))", "vector(1)"
    if s["kind"] == "latency":
        sel = f'job="{job}",method!="OPTIONS"'
        return (f'sum(rate({h}_bucket{{{sel},le="{s["threshold_ms"] / 1000:g}"}}[{{window}}]))',
                f"sum(rate({h}_count{{{sel}}}[{{window}}]))")
    if s["kind"] == "good":
        return (f'sum(rate({m}{{job="{job}",outcome="success"}}[{{window}}]))',
                f'sum(rate({m}{{job="{job}"}}[{{window}}]))')
    total = f'sum(rate({m}{{job="{job}",route!="/healthz"}}[{{window}}]))'
    return f'{total} - sum(rate({m}{{job="{job}",code=~"5..",route!="/healthz"}}[{{window}}]))', total


def _conditions(s: dict) -> list[dict]:
    policy = "workbook" if s["policy"] == "none" else s["policy"]
    out = []
    for name, severity, long, short, kind, amount in TIERS[policy]:
        burn = amount * HOURS[s["window"]] / HOURS[long] if kind == "budget" else amount
        out.append({"name": name.replace("-", "_"), "long_window": long, "short_window": short,
                    "threshold": round(burn, 4), "severity": severity})
    return out


def write_input(peer: str, n: int, where: Path) -> Path:
    """Write the workload for `peer` under `where`; return the path its command reads."""
    where.mkdir(parents=True, exist_ok=True)
    items = slos(n)
    if peer == "slo-guard":
        configs = where / "configs"
        configs.mkdir(exist_ok=True)
        for s in items:
            bad, total = _selectors(s)
            doc = {"name": f'{s["service"]}-{s["slo"]}', "target": float(s["objective"]) / 100,
                   "period_days": int(s["window"][:-1]), "error_selector": bad, "total_selector": total}
            (configs / f'{s["index"]:06d}.yaml').write_text(yaml.safe_dump(doc, sort_keys=False))
        (where / "driver.py").write_text(SLO_GUARD_DRIVER)
        return configs
    if peer == "slokit-sre":
        docs = []
        for s in items:
            good, total = _queries(s)
            docs.append({"apiVersion": "slo-kit/v1", "name": f'{s["service"]}-{s["slo"]}', "service": s["service"],
                         "description": f'{s["kind"]} SLO {s["index"]}', "objective": float(s["objective"]) / 100,
                         "window": s["window"], "sli": {"good_query": good, "total_query": total},
                         "labels": {"domain": f'd{int(s["service"][4:]) % 7}', **s["labels"]},
                         "alerting": {"conditions": _conditions(s)}})
        path = where / "slos.yaml"
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
        return path
    services: dict[str, dict] = {}
    kinds = {"bad": "availability", "good": "availability", "latency": "latency", "raw": "error_rate"}
    for s in items:
        svc = services.setdefault(s["service"], {"name": s["service"], "tier": "standard", "namespace": "default",
                                                 "team": f'team-{int(s["service"][4:]) % 13}', "slos": []})
        target = s["threshold_ms"] if s["kind"] == "latency" else float(s["objective"])
        svc["slos"].append({"type": kinds[s["kind"]], "target": target, "window": s["window"],
                            "description": f'{s["kind"]} SLO {s["index"]}'})
    path = where / "services.yaml"
    path.write_text(yaml.safe_dump({"services": list(services.values())}, sort_keys=False))
    return path


def command(work: Path, peer: str, source: Path, out: Path) -> list[str]:
    bindir = venv_python(work, peer).parent
    if peer == "slo-guard":
        return [str(bindir / "python"), str(source.parent / "driver.py"), str(source), str(out)]
    if peer == "slokit-sre":
        return [str(bindir / "slo-kit"), "gen-alerts", str(source), "--out", str(out / "rules.yaml")]
    return [str(bindir / "metrics-forge"), "generate", str(source), "-o", str(out / "rules.yaml"),
            "-d", str(out / "dashboards")]


def single_slo_command(work: Path, source: Path, out: Path) -> list[str]:
    """slo-guard's own CLI on one SLO: what each SLO costs when run the way its README shows."""
    first = sorted(source.glob("*.yaml"))[0]
    return [str(venv_python(work, "slo-guard").parent / "slo-guard"), "rules", "--config", str(first),
            "--out", str(out / "one.rules.yml")]


if __name__ == "__main__":  # python3 benchmarks/peers.py WORKDIR: set up every peer and print the result
    work_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/relc-bench")
    print(json.dumps({peer: setup(work_dir, peer) or "ok" for peer in PEERS}, indent=2))
