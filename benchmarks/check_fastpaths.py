"""Check relc's two fast paths against the slow references they stand in for.

    python3 benchmarks/check_fastpaths.py [--mutants 20000] [--seed 1]

1. The parser: every .relc file in the repository, every ```relc block in docs/, a generated
   workload, and mutants of all of these (tokens deleted, duplicated, swapped, or replaced by
   keywords and punctuation). Where the fast parser returns a tree, lark must return the same tree
   and the same diagnostics; where it gives up, lark parses anyway, so only accepted input matters.
2. The YAML writer: every YAML document the targets write for those projects (all Prometheus
   layouts, tests and Alertmanager included), plus random documents of awkward strings, must be
   byte for byte what PyYAML writes.

Exits 1 on the first disagreement, printing the input.
"""
from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from relc.compiler.syntax import parser as P  # noqa: E402
from relc.compiler.syntax.fastparse import FastParser  # noqa: E402
from relc.targets.shared import yamlout as yamlout  # noqa: E402

import generate  # noqa: E402

PIECES = ["import", "true", "false", "{", "}", "[", "]", ",", ".", "=", "=~", "!=", "!~", '"s"', 'r"x"',
          'r#"a\n"b"#', "99.9%", "5m", "1h30m", "-3", "1e3", "name", "a.b", "r", "#c\n", "//c\n", "\n", " ",
          "x{}", '"\\d"', "service", "slo", "sli"]
SPLIT = re.compile(r'r#"(?:.|\n)*?"#|"(?:[^"\\\n]|\\.)*"|\s+|[A-Za-z0-9_:.%-]+|.', re.S)


def corpus() -> list[tuple[str, str]]:
    out = []
    for path in sorted(ROOT.rglob("*.relc")):
        if ".git" in path.parts or "build" in path.parts:
            continue
        try:
            out.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8-sig")))
        except (UnicodeDecodeError, OSError):
            continue
    for doc in sorted((ROOT / "docs").glob("*.md")):
        for i, block in enumerate(re.findall(r"```relc\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)):
            out.append((f"{doc.name}#{i}", block))
    gen = Path("/tmp/relc-check-parser")
    generate.write_project(100, gen)
    out += [(str(p), p.read_text()) for p in sorted(gen.rglob("*.relc"))]
    return out


def mutate(text: str, rng: random.Random) -> str:
    parts = SPLIT.findall(text)
    for _ in range(rng.randint(1, 3)):
        if not parts:
            break
        i = rng.randrange(len(parts))
        op = rng.randrange(4)
        if op == 0:
            del parts[i]
        elif op == 1:
            parts.insert(i, parts[i])
        elif op == 2:
            j = rng.randrange(len(parts))
            parts[i], parts[j] = parts[j], parts[i]
        else:
            parts.insert(i, rng.choice(PIECES))
    return "".join(parts)


def agree(name: str, text: str) -> bool | None:
    """True when both accept with the same result, None when the fast path gave up, False otherwise."""
    try:
        fast = FastParser("t.relc", text).module()
    except Exception:  # noqa: BLE001
        return None
    slow = P._parse_with_lark("t.relc", text)
    if fast == slow:
        return True
    print(f"DISAGREE on {name}:\n---\n{text}\n---\nfast: {fast}\nlark: {slow}")
    return False


ODD = ["", " ", ":", ": ", " #", "#", "-", "- ", "?", "'", '"', "\\", "\n", "\t", "\r", "é", "yes", "null", "1",
       "0.5", "1e3", "~", "{", "}", "[", "]", ",", "|", ">", "&", "*", "!", "%", "@", "`", "a", "b_c", "$x", "(",
       "/", "---", "...", "\u2028", "\x85", "\ufeff", "  ", "=", "<<"]


def random_document(rng: random.Random, depth: int = 0):
    def text() -> str:
        return "".join(rng.choice(ODD) for _ in range(rng.randint(0, 6)))

    def scalar():
        return rng.choice([text, text, text, lambda: rng.randint(-5, 500), lambda: rng.random() * 100,
                           lambda: rng.choice([True, False, None])])()
    if depth > 3:
        return scalar()
    choice = rng.randrange(5)
    if choice == 0:
        return [random_document(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if choice == 1 or depth == 0:
        return {text() if rng.random() < 0.9 else rng.randint(0, 9): random_document(rng, depth + 1)
                for _ in range(rng.randint(0 if depth else 1, 4))}
    return scalar()


def check_yaml(rng: random.Random, count: int) -> bool:
    import yaml

    seen: list[object] = []
    original = yamlout.dump

    def spy(data: object, header: str = "") -> str:
        seen.append(data)
        return original(data, header)

    from relc.compiler.output import build as builder
    from relc.compiler.pipeline import compile_paths
    from relc.targets import Options

    yamlout.dump = spy
    import relc.targets.prometheus.alertmanager as am
    import relc.targets.grafana as gf
    import relc.targets.prometheus as pm
    import relc.targets.prometheus.proofs as pt
    for module in (am, gf, pm, pt):
        module.dump = spy
    projects = [ROOT / "examples" / "shop", Path("/tmp/relc-check-parser")]
    projects += sorted(p for p in (ROOT / "tests" / "good").iterdir() if p.suffix == ".relc" or p.is_dir())
    for project in projects:
        result = compile_paths([str(project)])
        if not result.ok:
            continue
        for layout in ("plain", "operator", "mimir"):
            settings = {"prometheus.layout": layout, "prometheus.tests": "true", "prometheus.alertmanager": "true"}
            builder.generate(result.project, ["prometheus"], Options(settings=settings))
        builder.generate(result.project, ["grafana"], Options())
    documents = seen + [random_document(rng) for _ in range(count)]
    for i, data in enumerate(documents):
        try:
            slow = yaml.dump(data, **yamlout._OPTIONS)
        except yaml.YAMLError:
            continue
        if yamlout.dump(data) != slow:
            print(f"DISAGREE on YAML document {i}: {data!r}\nfast:\n{yamlout.dump(data)}\npyyaml:\n{slow}")
            return False
    print(f"yaml: {len(seen)} target documents and {count} random ones written alike")
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mutants", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    base = corpus()
    counts = {True: 0, None: 0}
    for name, text in base:
        result = agree(name, text)
        if result is False:
            return 1
        counts[result] += 1
    print(f"corpus: {len(base)} inputs, {counts[True]} parsed alike, {counts[None]} left to lark")
    counts = {True: 0, None: 0}
    small = [(n, t) for n, t in base if len(t) < 4000]
    for k in range(args.mutants):
        name, text = rng.choice(small)
        result = agree(f"mutant {k} of {name}", mutate(text, rng))
        if result is False:
            return 1
        counts[result] += 1
    print(f"mutants: {args.mutants}, {counts[True]} parsed alike, {counts[None]} left to lark")
    return 0 if check_yaml(rng, args.mutants) else 1


if __name__ == "__main__":
    sys.exit(main())
