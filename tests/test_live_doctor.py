"""`relc doctor` against a real Prometheus 2.42 (Debian package) on 127.0.0.1, over history backfilled with
promtool, relc's rules loaded, and a gauge scraped from a real HTTP endpoint; a real Alertmanager for routing."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import require_tool
from live_fixtures import BROKEN, LiveInstall, json_out, relc, write_project


def diagnostics(proc) -> list[dict]:
    return json_out(proc)["diagnostics"]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    require_tool("prometheus")
    with LiveInstall(tmp_path_factory.mktemp("live")) as install:
        yield install


def marked_findings() -> set[tuple[str, int]]:
    """(code, line) of every `# <- CODE` mark in BROKEN."""
    return {(m[1], n) for n, line in enumerate(BROKEN.splitlines(), 1) for m in [re.search(r"# <- (RELC\d+)", line)]
            if m}


def test_a_correct_install_has_no_findings(live):
    proc = relc("doctor", str(live.good), "--prometheus", live.url)
    assert proc.returncode == 0, proc.stderr
    assert "doctor: ok: 2 SLO(s) checked" in proc.stderr
    assert diagnostics(relc("doctor", str(live.good), "--prometheus", live.url, "--format", "json")) == []


def test_every_finding_at_its_selector(live):
    proc = relc("doctor", str(live.broken), "--prometheus", live.url, "--no-rules", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    found = diagnostics(proc)
    assert {(d["code"], d["span"]["line"]) for d in found} == marked_findings()
    by_line = {d["span"]["line"]: d for d in found}
    lines = BROKEN.splitlines()
    for line, d in by_line.items():  # the caret is under the metric's name
        assert lines[line - 1][d["span"]["col"] - 1:].startswith(("http_", "inflight", "queue", "legacy")), d
    hints = {d["code"] + ":" + str(d["span"]["line"]): d.get("hint") or "" for d in found}
    assert "did you mean `http_requests_total`?" in hints["RELC701:6"]
    assert "`job` on `http_requests_total` is never 'apii'; did you mean `api`?" in hints["RELC701:15"]
    assert "did you mean `job`?" in hints["RELC702:24"]
    assert "nearest bound is 0.25s" in hints["RELC704:51"]
    threshold = next(d for d in found if d["code"] == "RELC704")
    assert "its bounds are 0.1, 0.25, 1, +Inf" in threshold["message"]  # 2.5e-01 and 1.0 read as numbers
    severities = {d["span"]["line"]: d["severity"] for d in found if d["code"] == "RELC703"}
    assert severities == {34: "warning", 43: "error"}  # samples say gauge-like; the metadata API says gauge


def test_text_and_sarif_formats(live):
    text = relc("doctor", str(live.broken), "--prometheus", live.url, "--no-rules")
    assert text.returncode == 1
    assert "broken.relc:6:13: error[RELC701]" in text.stderr and "^^^^" in text.stderr
    sarif = json_out(relc("doctor", str(live.broken), "--prometheus", live.url, "--no-rules", "--format", "sarif"))
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {code for code, _ in marked_findings()}


def test_rule_groups_missing_unhealthy_and_out_of_date(live, tmp_path: Path):
    missing = diagnostics(relc("doctor", str(live.broken), "--prometheus", live.url, "--format", "json"))
    assert sum(d["code"] == "RELC706" for d in missing) == 7  # one per SLO: none of its groups is loaded
    unhealthy = diagnostics(relc("doctor", str(live.health), "--prometheus", live.url, "--format", "json"))
    (failing,) = [d for d in unhealthy if d["code"] == "RELC707"]
    assert "many-to-many" in failing["message"] or "duplicate series" in failing["message"]
    assert "RELC708" in {d["code"] for d in unhealthy}  # a hand-made group is not what relc builds either
    changed = write_project(tmp_path, "changed", (live.good / "good.relc").read_text().replace("99.5%", "99.9%"))
    stale = diagnostics(relc("doctor", str(changed), "--prometheus", live.url, "--format", "json"))
    assert [d["code"] for d in stale] == ["RELC708"]
    assert "relc-api-availability" in stale[0]["message"]


def test_lookback_decides_what_matched(live):
    """A series that stopped 30 minutes ago matched within 1h but not within 10m."""
    found = diagnostics(relc("doctor", str(live.broken), "--prometheus", live.url, "--no-rules", "--format", "json",
                          "--lookback", "10m"))
    assert ("RELC701", 61) in {(d["code"], d["span"]["line"]) for d in found}


ALERTMANAGER_CONFIG = {
    "route": {"receiver": "blackhole", "group_by": ["alertname"],
              "routes": [{"matchers": ['severity="page"'], "receiver": "pager"}]},
    "receivers": [{"name": "blackhole"},
                  {"name": "pager", "webhook_configs": [{"url": "http://127.0.0.1:9/hook"}]}],
}


@pytest.fixture
def alertmanager(tmp_path: Path):
    """A real Alertmanager on a free loopback port; pages go to a webhook, everything else to a receiver with
    no integration."""
    from promserver import free_port

    binary = require_tool("alertmanager" if shutil.which("alertmanager") else "prometheus-alertmanager")
    config = tmp_path / "alertmanager.yml"
    config.write_text(yaml.safe_dump(ALERTMANAGER_CONFIG))
    port = free_port()
    proc = subprocess.Popen([binary, f"--config.file={config}", f"--storage.path={tmp_path / 'am'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        import time
        import urllib.request

        deadline = time.monotonic() + 20
        while True:
            try:
                if urllib.request.urlopen(f"{url}/-/ready", timeout=1).status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        proc.kill()
        proc.wait()


def test_alerts_that_reach_nobody(live, alertmanager):
    found = diagnostics(relc("doctor", str(live.good), "--prometheus", live.url, "--alertmanager", alertmanager,
                          "--format", "json"))
    assert [(d["code"], d["span"]["line"]) for d in found] == [("RELC709", 4), ("RELC709", 13)]
    assert all("severity `ticket`" in d["message"] and "`blackhole`" in d["message"] for d in found)
    assert all("page" not in d["message"].split("(")[0] for d in found)
