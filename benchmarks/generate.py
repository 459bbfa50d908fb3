"""Generate a synthetic relc project of N SLOs for the benchmarks (and the same workload for peers).

The project looks like a large real one: services of five SLOs each, twenty services to a file,
shared alert and budget policies in their own file and one runbook per service in runbook files.
SLIs are mixed: 40% events with `bad` (regex matchers), 20% events with `good`, 30% latency
histograms, 10% raw PromQL; SLIs that Datadog cannot translate (regexes, raw PromQL) carry a
`datadog` block, so every target builds, with warnings only. Alert policies rotate through
the built-in workbook, three custom policies and, for one SLO in fifty, `none`.

    python3 benchmarks/generate.py 1000 /tmp/relc-bench/1000

`slos(n)` yields the same workload as plain dicts; benchmarks/peers.py translates them into each
peer's input format, so every tool is timed on the same SLOs.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

SLOS_PER_SERVICE = 5
SERVICES_PER_FILE = 20

# (objective %, window) pairs; every policy below is valid for each of them (no tier's long window
# exceeds 7d, and no burn rate reaches 1 / (1 - 0.99) = 100), and the windows are Datadog timeframes.
OBJECTIVES = [("99.9", "30d"), ("99.5", "90d"), ("99", "7d"), ("99.95", "30d")]
POLICIES = ["workbook", "fast-only", "async-pipeline", "strict"]
THRESHOLDS_MS = [100, 250, 300, 500, 1000, 2500]

POLICIES_RELC = '''# Shared policies, referred to by name from every service file.

budget_policy standard {
  description = "Company-wide error-budget policy"
  threshold { remaining = 50%  actions = ["Review the top budget consumers in the weekly ops meeting"] }
  threshold {
    remaining = 25%
    actions = ["Freeze risky launches", "Move one engineer to reliability work"]
    notify = "#reliability"
  }
  threshold { remaining = 0%  severity = "page"  actions = ["Freeze all launches but fixes"]  notify = "eng-leads@example.com" }
}

budget_policy relaxed {
  threshold { remaining = 10%  actions = ["Discuss in the team retro"] }
}

alert_policy fast-only {
  description = "Page on fast burns only"
  tier page { severity = "page"  budget = 2%  long = 1h  short = 5m }
}

alert_policy async-pipeline {
  description = "Page on fast burns; tickets for the rest"
  labels = { team = "pipelines" }
  annotations = { playbook = "https://wiki.example.com/pipelines/oncall" }
  no_data_after = 30m
  tier page-fast { severity = "page"  budget = 2%  long = 1h  short = 5m }
  tier ticket-slow { severity = "ticket"  burn_rate = 1  long = 3d  short = 6h }
}

alert_policy strict {
  description = "Four tiers with a low-traffic guard"
  min_events = 100
  tier page-fast { severity = "page"  budget = 2%  long = 1h  short = 5m }
  tier page-slow { severity = "page"  budget = 5%  long = 6h  short = 30m }
  tier ticket-fast { severity = "ticket"  burn_rate = 3  long = 1d  short = 2h }
  tier ticket-slow { severity = "ticket"  burn_rate = 1  long = 3d  short = 6h }
}
'''


def slos(n: int) -> list[dict]:
    """The workload as data: one dict per SLO, in service order."""
    out = []
    for i in range(n):
        svc, k = divmod(i, SLOS_PER_SERVICE)
        objective, window = OBJECTIVES[i % len(OBJECTIVES)]
        kind = ("bad", "bad", "bad", "bad", "good", "good", "latency", "latency", "latency", "raw")[i % 10]
        policy = "none" if i % 50 == 49 else POLICIES[i % len(POLICIES)]
        if kind == "raw" and policy == "strict":  # a raw ratio has no event count for min_events
            policy = "fast-only"
        out.append({
            "index": i, "service": f"svc-{svc:05d}", "slo": f"{kind}-{k}", "kind": kind,
            "objective": objective, "window": window, "policy": policy,
            "budget_policy": ("standard", "relaxed", None)[i % 3],
            "runbook": f"rb-{svc:05d}",
            "metric": f"app{svc % 97}_requests_total", "job": f"svc-{svc:05d}",
            "histogram": f"app{svc % 97}_request_duration_seconds",
            "threshold_ms": THRESHOLDS_MS[i % len(THRESHOLDS_MS)],
            "min_events": 50 if i % 7 == 0 and kind != "raw" and policy != "none" else None,
            "labels": {"tier": str(1 + i % 3)} if i % 4 == 0 else {},
        })
    return out


def _sli(s: dict) -> str:
    m, job = s["metric"], s["job"]
    if s["kind"] == "bad":
        return (f'    sli events {{\n      bad = {m}{{job="{job}", code=~"5..", route!="/healthz"}}\n'
                f'      total = {m}{{job="{job}", route!="/healthz"}}\n'
                '      datadog {  # Datadog has no exact form of code=~"5.."\n'
                f'        bad = "sum:app.requests.count{{job:{job},code:5*,!route:/healthz}}.as_count()"\n'
                f'        total = "sum:app.requests.count{{job:{job},!route:/healthz}}.as_count()"\n      }}\n    }}\n')
    if s["kind"] == "good":
        return (f'    sli events {{\n      good = {m}{{job="{job}", outcome="success"}}\n'
                f'      total = {m}{{job="{job}"}}\n    }}\n')
    if s["kind"] == "latency":
        return (f'    sli latency {{\n      histogram = {s["histogram"]}{{job="{job}", method!="OPTIONS"}}\n'
                f'      threshold = {s["threshold_ms"]}ms\n    }}\n')
    return ('    sli raw {\n'
            f'      error_ratio = r#"avg_over_time((max(queue_head_age_seconds{{job="{job}"}}) > bool 120)'
            '[$window:1m])"#\n'
            '      datadog {\n'
            f'        good = "sum:queue.checks{{job:{job},fresh:true}}.as_count()"\n'
            f'        total = "sum:queue.checks{{job:{job}}}.as_count()"\n'
            '      }\n    }\n')


def _slo(s: dict) -> str:
    lines = [f'  slo {s["slo"]} {{',
             f'    description = "{s["kind"]} SLO {s["index"]} of {s["service"]}"',
             f'    objective = {s["objective"]}%', f'    window = {s["window"]}',
             f'    runbook = {s["runbook"]}']
    if s["policy"] != "workbook":
        lines.append(f'    alert_policy = {s["policy"]}')
    if s["budget_policy"]:
        lines.append(f'    budget_policy = {s["budget_policy"]}')
    if s["min_events"]:
        lines.append(f'    min_events = {s["min_events"]}')
    if s["labels"]:
        lines.append("    labels = { " + ", ".join(f'{k} = "{v}"' for k, v in s["labels"].items()) + " }")
    return "\n".join(lines) + "\n" + _sli(s) + "  }\n"


def _service(name: str, items: list[dict], index: int) -> str:
    head = (f'service {name} {{\n  description = "Synthetic service {index}"\n'
            f'  owner = "team-{index % 13}"\n  labels = {{ domain = "d{index % 7}" }}\n\n')
    return head + "\n".join(_slo(s) for s in items) + "}\n"


def _runbook(name: str, service: str) -> str:
    return (f'runbook {name} {{\n  summary = "{service} is failing its SLOs"\n'
            f'  escalation = "#oncall-{service}"\n'
            f'  step "Check recent deploys of {service}" {{\n    command = "kubectl rollout history deploy/{service}"\n  }}\n'
            f'  step "Roll back if a deploy went out in the last hour"\n'
            f'  links = {{ "Dashboard" = "https://grafana.example.com/d/{service}" }}\n}}\n')


def by_service(items: list[dict]) -> list[tuple[str, list[dict]]]:
    groups: dict[str, list[dict]] = {}
    for s in items:
        groups.setdefault(s["service"], []).append(s)
    return list(groups.items())


def write_project(n: int, out: Path) -> dict:
    """Write the relc project for N SLOs under OUT (replaced whole); return a summary."""
    if out.exists():
        shutil.rmtree(out)
    (out / "services").mkdir(parents=True)
    (out / "runbooks").mkdir()
    (out / "policies.relc").write_text(POLICIES_RELC, encoding="utf-8")
    services = by_service(slos(n))
    files = 1
    for start in range(0, len(services), SERVICES_PER_FILE):
        chunk = services[start:start + SERVICES_PER_FILE]
        part = start // SERVICES_PER_FILE
        body = "\n".join(_service(name, items, start + j) for j, (name, items) in enumerate(chunk))
        (out / "services" / f"part-{part:03d}.relc").write_text(body, encoding="utf-8")
        books = "\n".join(_runbook(items[0]["runbook"], name) for name, items in chunk)
        (out / "runbooks" / f"part-{part:03d}.relc").write_text(books, encoding="utf-8")
        files += 2
    return {"slos": n, "services": len(services), "files": files}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int, help="number of SLOs")
    ap.add_argument("out", type=Path, help="output directory (replaced)")
    args = ap.parse_args()
    print(write_project(args.n, args.out))


if __name__ == "__main__":
    main()
