"""A fuzz campaign over relc's front end, targets and formatter: mutants of the examples and test inputs must
give diagnostics or outputs, never an internal error, a crash or a hang.

Each mutant is a seed file (.relc, Sloth or OpenSLO YAML) changed one to four times: a token inserted, a span
cut, duplicated or moved, a number or name made extreme, hostile text put into a string. It is compiled; when
valid, every built-in target generates from it; a .relc mutant is also formatted. Mutants run in worker
processes under a memory limit and a per-mutant alarm, so a crash or hang is caught, saved and counted too.

    python scripts/fuzz.py --mutants 100000            # the campaign; prints mutants per second
    python scripts/fuzz.py --mutants 2000 --seed 7     # another stream; every mutant is (seed, index)
    python scripts/fuzz.py --replay fuzz-crashes/      # run saved failures again

Exit status 0 when no mutant failed, 1 otherwise; failures are saved under --crashes (one file per mutant).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import signal
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_GLOBS = ("examples/**/*.relc", "tests/good/**/*.relc", "tests/bad/*.relc", "tests/fuzz_seeds/*",
              "tests/sloth_compat/*.relc", "../shared/peers/**/*.y*ml")  # the peers' corpus, when it is there
TOKENS = ["{", "}", "[", "]", "=", ",", '"', "#", 'r#"', '"#', "%", "99.9", "5m", "\n", "\\", "=~", "!~",
          "import ", "use ", "slo x {", "service y {", "sli events {", "sli latency {", "sli raw {", "tier t {",
          "alert_policy", "budget_policy", "runbook", "${params.x}", "params.", "$window", "$windw", "{{", "}}",
          "\x00", "\t", "\r", "\u202e", "-", ":", "*", "&a", "*a", "!!python/object:os.system", "---", "- ",
          "objective = ", "window = ", "min_events = ", "burn_rate = ", "threshold = ", "long = ", "short = "]
EXTREMES = ["0", "-1", "1e999999999", "1e-9999", "9" * 60, "0.0000000001", "100%", "0%", "1e9999%", "0s", "1.5s",
            "99999999999999999999y", "1ms", "100y", "101y", "nan", "inf", "-0"]
HOSTILE = ["{{ query \\\"up\\\" }}", "\\u001b]8;;x\\u0007", "<script>", "](javascript:x)", "\\n- evil: 1",
           "../../etc/passwd", "a" * 300, "\\u202e", "$(rm -rf /)", "\\\"", "`", "|", "\\\\"]
NUMBER = re.compile(r"(?<![A-Za-z_])[0-9]+(?:\.[0-9]+)?(?:%|ms|[smhdwy])?")
STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
NAME = re.compile(r"\b[a-z][a-z0-9_-]{2,}\b")
BUILT = 0
MEMORY_LIMIT = 2 << 30   # bytes of address space per worker, as a small CI container would give
ALARM_SECONDS = 20       # one mutant: compile, generate every target, format


def seeds() -> list[tuple[str, str]]:
    """(file name, text) of every seed, in a stable order."""
    found = []
    for pattern in SEED_GLOBS:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file():
                try:
                    found.append((path.name, path.read_text(encoding="utf-8")))
                except (UnicodeDecodeError, OSError):
                    continue
    return found


def mutate(rng: random.Random, text: str) -> str:
    """One to four changes, each of a kind that has found bugs in parsers and compilers."""
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        at = rng.randint(0, len(text))
        if kind == 0:
            text = text[:at] + rng.choice(TOKENS) + text[at:]
        elif kind == 1:
            text = text[:at] + text[at + rng.randint(1, 40):]
        elif kind == 2:  # a span repeated: duplicate definitions, deeper nesting
            end = min(len(text), at + rng.randint(1, 400))
            text = text[:end] + text[at:end] * rng.randint(1, 3) + text[end:]
        elif kind == 3:
            text = _replace_one(rng, NUMBER, text, lambda m: rng.choice(EXTREMES))
        elif kind == 4:
            text = _replace_one(rng, STRING, text, lambda m: '"' + rng.choice(HOSTILE) + '"')
        elif kind == 5:
            text = _replace_one(rng, NAME, text, lambda m: rng.choice([m.group() * 40, m.group().upper(),
                                                                      m.group()[:-1], "x" * 300, "_", "a-b_c"]))
        else:  # a line moved elsewhere
            lines = text.split("\n")
            if len(lines) > 2:
                line = lines.pop(rng.randrange(len(lines)))
                lines.insert(rng.randrange(len(lines)), line)
                text = "\n".join(lines)
    return text


def _replace_one(rng: random.Random, pattern: re.Pattern, text: str, replacement) -> str:
    matches = list(pattern.finditer(text))
    if not matches:
        return text
    match = rng.choice(matches)
    return text[:match.start()] + replacement(match) + text[match.end():]


def mutant(seed: int, index: int, corpus: list[tuple[str, str]]) -> tuple[str, str]:
    """The mutant numbered `index` of stream `seed`: the same pair always gives the same file."""
    rng = random.Random(f"{seed}:{index}")
    name, text = corpus[rng.randrange(len(corpus))]
    return name, mutate(rng, text)


def try_one(name: str, text: str) -> str | None:
    """None when relc handled the file (diagnostics or outputs); else what went wrong, for the report.
    BUILT counts the mutants valid enough that every target generated from them."""
    global BUILT
    from relc.compiler import diagnostics as dg
    from relc.compiler.output.build import generate
    from relc.compiler.commands.fmt import format_source
    from relc.compiler.pipeline import compile_paths
    from relc.targets import Options

    with tempfile.TemporaryDirectory(prefix="relc-fuzz-") as work:
        path = Path(work) / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            result = compile_paths([str(path)])
            for diag in result.diagnostics:
                if diag.code not in dg.CODES:
                    return f"unregistered diagnostic code {diag.code}"
            if result.ok:
                generate(result.project, [], Options())
                BUILT += 1
            if path.suffix == ".relc":
                format_source(text, str(path))
        except Exception as err:  # noqa: BLE001 - an internal error is what this script looks for
            return f"{type(err).__name__}: {str(err)[:300]}"
    return None


def _worker_init() -> None:
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ValueError, OSError):
        pass


def _run_batch(seed: int, start: int, count: int, corpus: list[tuple[str, str]]) -> tuple[list[tuple[int, str]], int]:
    """Mutants start..start+count-1 in this worker; each under an alarm so a hang is reported, not waited on.
    Returns the failures and how many mutants built."""
    global BUILT
    BUILT = 0
    failures = []

    def hung(signum, frame):
        raise TimeoutError(f"no result within {ALARM_SECONDS} s")

    signal.signal(signal.SIGALRM, hung)
    for index in range(start, start + count):
        name, text = mutant(seed, index, corpus)
        signal.alarm(ALARM_SECONDS)
        try:
            problem = try_one(name, text)
        except TimeoutError as err:
            problem = f"hang: {err}"
        finally:
            signal.alarm(0)
        if problem is not None:
            failures.append((index, problem))
    return failures, BUILT


def campaign(total: int, seed: int, workers: int, batch: int, crashes: Path | None) -> tuple[int, list, float, int]:
    """Run `total` mutants; returns (mutants run, failures as (index, problem), seconds, mutants that built)."""
    corpus = seeds()
    failures: list[tuple[int, str]] = []
    built = 0
    started = time.monotonic()
    pending = list(range(0, total, batch))
    while pending:
        try:
            with ProcessPoolExecutor(workers, initializer=_worker_init) as pool:
                futures = {start: pool.submit(_run_batch, seed, start, min(batch, total - start), corpus)
                           for start in pending}
                for start, future in futures.items():
                    found, valid = future.result()
                    failures.extend(found)
                    built += valid
                    pending.remove(start)
        except BrokenProcessPool:  # a worker died (a signal, the memory limit): find the mutant one at a time
            start = pending.pop(0)
            failures.extend(_isolate(seed, start, min(batch, total - start), corpus))
    for index, problem in failures:
        if crashes is not None:
            name, text = mutant(seed, index, corpus)
            crashes.mkdir(parents=True, exist_ok=True)
            (crashes / f"{seed}-{index}-{name}").write_text(text, encoding="utf-8", errors="surrogatepass")
    return total, sorted(failures), time.monotonic() - started, built


def _isolate(seed: int, start: int, count: int, corpus) -> list[tuple[int, str]]:
    found = []
    for index in range(start, start + count):
        try:
            with ProcessPoolExecutor(1, initializer=_worker_init) as pool:
                found.extend(pool.submit(_run_batch, seed, index, 1, corpus).result()[0])
        except BrokenProcessPool:
            found.append((index, "crash: the worker process died (signal or memory limit)"))
    return found


def replay(directory: Path) -> int:
    """Run every saved failure again in this process; prints what still fails."""
    failed = 0
    for path in sorted(directory.iterdir()):
        name = path.name.split("-", 2)[-1]
        problem = try_one(name, path.read_text(encoding="utf-8", errors="surrogateescape"))
        if problem is not None:
            failed += 1
            print(f"{path}: {problem}")
    print(f"{failed} of {len(list(directory.iterdir()))} still fail")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=int, default=10_000, help="how many mutants (default 10 000)")
    parser.add_argument("--seed", type=int, default=1, help="the stream of mutants (default 1)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--batch", type=int, default=250, help="mutants per task")
    parser.add_argument("--crashes", type=Path, default=Path("fuzz-crashes"), help="where failures are saved")
    parser.add_argument("--replay", type=Path, help="run the failures saved in this directory again")
    args = parser.parse_args()
    if args.replay:
        return replay(args.replay)
    ran, failures, seconds, built = campaign(args.mutants, args.seed, args.workers, args.batch, args.crashes)
    for index, problem in failures:
        print(f"mutant {args.seed}:{index}: {problem}")
    print(f"{ran} mutants in {seconds:.1f} s ({ran / seconds:.0f} per second, {args.workers} workers), "
          f"{built} valid and built for every target, {len(failures)} internal errors, crashes or hangs")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
