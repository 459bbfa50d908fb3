"""Before/after: time two relc trees on the same commands, alternating runs so both see the same load.

    python3 benchmarks/compare.py --before /tmp/relc-before [--sizes 1000 10000] [--rounds 5]

`--before` is a directory holding an older `relc/` package tree (compiler/, targets/, grammar/), for
example the repository at an earlier commit: `git archive OLD compiler targets grammar | tar -x -C
DIR/relc`. "after" is the installed relc. Each round runs every command once with each tree, in
alternating order. Reported: median wall and CPU seconds, peak RSS, and after/before ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import run  # noqa: E402


def scenarios(sizes: list[int], work: Path, relc: list[str]) -> list[tuple[str, list[str], Path | None]]:
    out = work / "out"
    items = [("check examples/shop", relc + ["check", "examples/shop"], None)]
    for n in sizes:
        project = work / "projects" / str(n)
        generate.write_project(n, project)
        items += [(f"N={n} check", relc + ["check", str(project)], None),
                  (f"N={n} build prometheus", relc + ["build", str(project), "-o", str(out), "-t", "prometheus"], out),
                  (f"N={n} build all", relc + ["build", str(project), "-o", str(out)], out),
                  (f"N={n} rebuild all", relc + ["build", str(project), "-o", str(out)], None)]
    return items


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", required=True, help="directory holding the older relc/ tree")
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--work", type=Path, default=Path("/tmp/relc-bench-compare"))
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    run.remove_spent(args.work)
    relc = run.relc_command()
    trees = {}
    for tree, path in (("before", args.before), ("after", None)):
        run.bench_env(args.work, path)
        run.warm_up(relc, args.work)
        trees[tree] = dict(run.ENV)
    samples: dict[str, dict[str, list[dict]]] = {}
    items = scenarios(args.sizes, args.work, relc)
    for round_no in range(args.rounds):
        order = ["before", "after"] if round_no % 2 == 0 else ["after", "before"]
        for name, cmd, clean in items:
            for tree in order:
                run.ENV.clear()
                run.ENV.update(trees[tree])
                if clean is not None:
                    run.make_empty(clean)
                sample = run.run_once(cmd, run.ROOT)
                if sample["code"] != 0:
                    sys.exit(f"compare.py: {tree} `{name}` exited {sample['code']}: {sample['stderr']}")
                samples.setdefault(name, {}).setdefault(tree, []).append(sample)
                print(f"  round {round_no + 1} {tree:6} {name}: {sample['wall']:.3f} s", file=sys.stderr)
    run.remove_spent()
    print(f"Load average at the end: {os.getloadavg()[0]:.2f}; {args.rounds} rounds, alternating.\n")
    print("| command | before wall s | after wall s | after / before | before CPU s | after CPU s "
          "| before RSS MiB | after RSS MiB |")
    print("|---|---|---|---|---|---|---|---|")
    summary = {}
    for name, by_tree in samples.items():
        med = {tree: {key: statistics.median(s[key] for s in runs) for key in ("wall", "cpu", "rss")}
               for tree, runs in by_tree.items()}
        summary[name] = med
        b, a = med["before"], med["after"]
        print(f"| {name} | {b['wall']:.3f} | {a['wall']:.3f} | {a['wall'] / b['wall']:.2f} | {b['cpu']:.3f} | "
              f"{a['cpu']:.3f} | {b['rss']:.0f} | {a['rss']:.0f} |")
    if args.json:
        args.json.write_text(json.dumps({"machine": run.machine(), "medians": summary, "samples": samples}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
