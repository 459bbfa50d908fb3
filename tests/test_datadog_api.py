"""Datadog API files: one per service, every request body valid for datadog-api-client, the documented loop works."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from relc.compiler.pipeline import compile_paths
from relc.targets.datadog.check import BURN_RATE

from conftest import ROOT, require_tool
from test_datadog import EVENTS, POLICY, SHOP, api_files, api_problems, generate, require_client, snippet, tiers_of

API = "https://api.datadoghq.com"
ORDERED = """alert_policy ordered {
  tier zeta {
    severity = "page"
    burn_rate = 14.4
    long = 1h
    short = 5m
  }
  tier alpha {
    severity = "ticket"
    burn_rate = 6
    long = 6h
    short = 30m
  }
}
"""


def slo(name: str, extra: str = "") -> str:
    return f"  slo {name} {{\n    objective = 99.9%\n    window = 30d\n{extra}    sli {EVENTS}  }}\n"


# Two services, four SLOs: the default policy, tiers declared out of alphabetical order, none, and moved tiers.
PROJECT = (ORDERED + POLICY.format(fast=10)
           + "service web {\n" + slo("availability") + slo("latency", "    alert_policy = ordered\n") + "}\n"
           + "service api {\n" + slo("availability", "    alert_policy = none\n")
           + slo("moved", "    alert_policy = custom\n") + "}\n")


def test_one_file_per_service_each_slo_holding_only_its_own_placeholder(tmp_path: Path):
    files, _, _ = snippet(tmp_path, PROJECT)
    project = compile_paths([str(tmp_path / "snippet.relc")]).project
    keys = sorted(f"{s.service}.{s.name}" for service in project.services for s in service.slos)
    assert keys == ["api.availability", "api.moved", "web.availability", "web.latency"]
    assert sorted(files) == ["api/api.json", "api/web.json", "terraform/relc.tf.json", "terraform/versions.tf.json"]
    assert {path: list(json.loads(files[path])) for path in ("api/api.json", "api/web.json")} == {
        "api/api.json": ["api.availability", "api.moved"], "api/web.json": ["web.availability", "web.latency"]}
    documents = api_files(files)
    assert sorted(documents) == keys
    for key, document in documents.items():
        own = f"<RELC_SLO_ID:{key}>"
        assert re.findall(r"<RELC_SLO_ID:[^>]*>", json.dumps(document)) == [own] * len(document["monitors"])
        assert [BURN_RATE.match(m["query"])["slo"] for m in document["monitors"]] == [own] * len(document["monitors"])
    assert {key: tiers_of(d) for key, d in documents.items()} == {
        "web.availability": ["page-fast", "page-slow", "ticket-fast"],  # ticket-slow moves onto ticket-fast
        "web.latency": ["zeta", "alpha"],  # the policy's order, not the names' order
        "api.availability": [], "api.moved": ["fast", "slow"]}


def test_terraform_has_the_same_objects_as_the_api_files(tmp_path: Path):
    files, _, _ = snippet(tmp_path, PROJECT)
    resources = json.loads(files["terraform/relc.tf.json"])["resource"]
    monitors = {name: body["name"] for name, body in resources["datadog_monitor"].items()}
    documents = api_files(files)
    assert sorted(resources["datadog_service_level_objective"]) == sorted(k.replace(".", "__") for k in documents)
    assert sorted(monitors.values()) == sorted(m["name"] for d in documents.values() for m in d["monitors"])


@pytest.mark.parametrize("build", ["shop", "shop-defaults", "project"])
def test_every_request_body_passes_the_client_models(build: str, tmp_path: Path):
    require_client()
    if build == "project":
        files = snippet(tmp_path, PROJECT)[0]
    else:
        files = generate("examples/shop", SHOP if build == "shop" else {})[0]
    documents = api_files(files)
    assert documents and any(d["monitors"] for d in documents.values())
    for key, document in documents.items():
        assert api_problems(key, document) == []


# --- the apply loop of docs/datadog.md, against a fake curl -------------------------------------------------

FAKE_CURL = r"""
curl() {
  local method="" url="" headers=() n
  while [ "$#" -gt 0 ]; do
    case "$1" in
      -X) method=$2; shift 2 ;;
      -H) headers+=("$2"); shift 2 ;;
      --data-binary) [ "$2" = "@-" ] || return 2; shift 2 ;;
      -sf) shift ;;
      -*) echo "fake curl: unexpected option $1" >&2; return 2 ;;
      *) url=$1; shift ;;
    esac
  done
  n=$(( $(cat "$LOG/count") + 1 ))
  echo "$n" > "$LOG/count"
  { printf '%s %s\n' "$method" "$url"; printf '%s\n' "${headers[@]}"; } > "$LOG/$n.head"
  cat > "$LOG/$n.body"
  [ "$n" != "${FAIL_AT:-}" ] || return 22
  case "$url" in
    */api/v1/slo) if [ -n "${NO_ID:-}" ]; then echo '{"errors": []}'; else echo "{\"data\": [{\"id\": \"id-$n\"}]}"; fi ;;
    *) echo "{\"id\": $n}" ;;
  esac
}
"""


def apply_script() -> str:
    """The bash block of docs/datadog.md's "The API" section, exactly as documented."""
    text = (ROOT / "docs" / "datadog.md").read_text(encoding="utf-8")
    section = text.split("\n### The API\n", 1)[1]
    return section.split("\n```sh\n", 1)[1].split("\n```\n", 1)[0] + "\n"


def run_apply(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, list[tuple], dict[str, dict]]:
    """Write the shop's Datadog output to out/, run the documented loop there, return what curl was sent."""
    require_tool("bash")
    require_tool("jq")
    files, _, _ = generate("examples/shop", SHOP)
    for path, content in files.items():
        (tmp_path / "out" / "datadog" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "out" / "datadog" / path).write_text(content, encoding="utf-8")
    log = tmp_path / "log"
    log.mkdir()
    (log / "count").write_text("0\n")
    environment = {"PATH": os.environ["PATH"], "LC_ALL": "C", "DD_API_KEY": "key", "DD_APP_KEY": "app",
                   "LOG": str(log), **env}
    done = subprocess.run(["bash", "-c", FAKE_CURL + apply_script()], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=60)
    sent = []
    for n in range(1, int((log / "count").read_text()) + 1):
        head = (log / f"{n}.head").read_text().splitlines()
        sent.append((*head[0].split(" ", 1), head[1:], json.loads((log / f"{n}.body").read_text())))
    return done, sent, api_files(files)


def test_the_documented_loop_creates_each_slo_then_its_monitors_with_the_id(tmp_path: Path):
    done, sent, documents = run_apply(tmp_path)
    assert done.returncode == 0, done.stderr
    expected = []
    for key in sorted(documents, key=lambda k: (k.partition(".")[0] + ".json", k)):  # files in glob order (C
        # locale), then each file's SLOs in key order
        expected.append(("POST", f"{API}/api/v1/slo", documents[key]["slo"]))
        slo_id = f"id-{len(expected)}"
        expected += [("POST", f"{API}/api/v1/monitor", {**m, "query": m["query"].replace(f"<RELC_SLO_ID:{key}>",
                                                                                            slo_id)})
                     for m in documents[key]["monitors"]]
    assert [(method, url, body) for method, url, _, body in sent] == expected
    assert len(sent) == 5 + 13 and "RELC_SLO_ID" not in json.dumps([body for *_, body in sent])
    for *_, headers, _ in sent:
        assert headers == ["DD-API-KEY: key", "DD-APPLICATION-KEY: app", "Content-Type: application/json"]


@pytest.mark.parametrize("failure", [{"NO_ID": "1"}, {"FAIL_AT": "1"}, {"FAIL_AT": "2"}])
def test_the_documented_loop_stops_at_the_first_failure(tmp_path: Path, failure: dict):
    """An SLO without an id sends none of its monitors; an HTTP error (curl -f) ends the run."""
    done, sent, _ = run_apply(tmp_path, **failure)
    assert done.returncode != 0
    assert len(sent) == int(failure.get("FAIL_AT", 1))
