"""Writers on relc's real output, side by side in one run: every JSON document the Grafana and Datadog targets
write for a generated project, by json.dumps (the reference), orjson and relc.targets.shared.jsonout (orjson with
json's fallbacks); every YAML document the Prometheus target writes (rules, tests, Alertmanager), by PyYAML
with its C emitter (the reference) and relc.targets.shared.yamlout.

    python3 benchmarks/writers.py [--slos 1000] [--rounds 3]

Prints the median seconds of each writer over all documents and how many came out byte-identical to the first.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import generate  # noqa: E402


def documents(slos: int) -> tuple[list[object], list[object]]:
    """What the targets hand to the JSON and the YAML writer, captured while they run."""
    import relc.targets.prometheus.alertmanager as alertmanager
    import relc.targets.datadog as datadog
    import relc.targets.grafana as grafana
    import relc.targets.prometheus as prometheus
    import relc.targets.prometheus.proofs as promtest
    from relc.compiler.output.build import generate as run_targets
    from relc.compiler.pipeline import compile_paths
    from relc.targets import Options
    from relc.targets.shared import jsonout as jsonout
    from relc.targets.shared import yamlout as yamlout

    json_docs: list[object] = []
    yaml_docs: list[object] = []
    json_dumps, yaml_dump = jsonout.dumps, yamlout.dump

    def json_spy(value: object) -> str:
        json_docs.append(value)
        return json_dumps(value)

    def yaml_spy(value: object, header: str = "") -> str:
        yaml_docs.append(value)
        return yaml_dump(value, header)

    datadog.dumps = grafana.dumps = json_spy
    for module in (alertmanager, prometheus, promtest):
        module.dump = yaml_spy
    project = Path(f"/tmp/relc-writers-{slos}")
    generate.write_project(slos, project)
    result = compile_paths([str(project)])
    settings = {"datadog.namespace": "bench", "prometheus.tests": "true", "prometheus.alertmanager": "true"}
    run_targets(result.project, ["grafana", "datadog", "prometheus"], Options(settings=settings))
    datadog.dumps = grafana.dumps = json_dumps
    for module in (alertmanager, prometheus, promtest):
        module.dump = yaml_dump
    return json_docs, yaml_docs


def race(title: str, writers: dict, inputs: dict, rounds: int) -> None:
    """Each writer over its inputs, `rounds` times; the first writer is the reference."""
    reference = None
    print(title)
    for name, write in writers.items():
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            out = [write(d) for d in inputs[name]]
            times.append(time.perf_counter() - start)
        reference = out if reference is None else reference
        same = sum(a == b for a, b in zip(out, reference))
        print(f"  {name:13} {statistics.median(times):.3f} s   identical to the first: {same}/{len(out)}")


def other_yaml_writers() -> dict:
    """ruamel.yaml and rapidyaml, when installed (they are not relc's dependencies), set as close to relc's
    YAML as each allows: block style, no line folding, unicode as is."""
    writers = {}
    try:
        import io

        from ruamel.yaml import YAML

        ruamel = YAML(typ="safe", pure=False)
        ruamel.default_flow_style, ruamel.width, ruamel.allow_unicode = False, 1_000_000, True

        def ruamel_dump(data: object) -> str:
            out = io.StringIO()
            ruamel.dump(data, out)
            return out.getvalue()
        writers["ruamel.yaml"] = ruamel_dump
    except ImportError:
        pass
    try:
        import json as _json

        import ryml

        def ryml_dump(data: object) -> str:
            tree = ryml.parse_in_arena(_json.dumps(data).encode())  # JSON is YAML: rapidyaml reads it, then emits
            return ryml.emit_yaml(tree)
        writers["rapidyaml"] = ryml_dump
    except ImportError:
        pass
    return writers


def main() -> int:
    import os

    os.environ["RELC_JOBS"] = "1"  # targets in this process, where the writers are watched
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--slos", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import orjson
    import yaml

    from relc.targets.shared import jsonout as jsonout

    from relc.targets.shared import yamlout as yamlout

    json_docs, yaml_docs = documents(args.slos)
    plain = [json.loads(jsonout.dumps(d)) for d in json_docs]  # the same data as plain dicts and lists
    race(f"JSON: {len(json_docs)} documents from a {args.slos}-SLO build (Grafana dashboards, Datadog payloads)", {
        "json.dumps": lambda d: json.dumps(d, indent=2, sort_keys=True, ensure_ascii=False),
        "orjson": lambda d: orjson.dumps(d, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode(),
        "relc jsonout": jsonout.dumps,
    }, {"json.dumps": plain, "orjson": plain, "relc jsonout": json_docs}, args.rounds)
    yaml_writers = {"PyYAML (C)": lambda d: yaml.dump(d, **yamlout._OPTIONS), "relc yamlout": yamlout.dump}
    yaml_writers.update(other_yaml_writers())
    race(f"YAML: {len(yaml_docs)} documents (rules, promtool tests, Alertmanager)", yaml_writers,
         dict.fromkeys(yaml_writers, yaml_docs), args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
