"""The live commands' plumbing without a Prometheus: connection settings, retries against a real HTTP server,
rule comparison by meaning, and Alertmanager routing kept equal to `amtool config routes test`."""
from __future__ import annotations

import http.server
import json
import subprocess
import threading
from pathlib import Path

import pytest
import yaml

from conftest import require_tool
from relc.compiler.live.client import PrometheusAPI, QueryFailed, Unreachable
from relc.compiler.live.connection import Connection, SettingsError, from_settings, safe_url
from relc.compiler.live.routing import Routing, receivers_for
from relc.compiler.live.rules_diff import canonical, compare_group


def test_flag_then_environment_then_config(monkeypatch, tmp_path: Path):
    block = {"url": "http://config:9090", "bearer_token_file": "t", "headers": {"X-Scope-OrgID": "a"}}
    monkeypatch.setenv("RELC_PROMETHEUS_URL", "http://env:9090")
    assert from_settings("http://flag:9090", block, tmp_path).url == "http://flag:9090"
    assert from_settings(None, block, tmp_path).url == "http://env:9090"
    monkeypatch.delenv("RELC_PROMETHEUS_URL")
    chosen = from_settings(None, block, tmp_path)
    assert chosen.url == "http://config:9090" and chosen.bearer_token_file == str(tmp_path / "t")
    assert chosen.headers == {"X-Scope-OrgID": "a"}
    assert from_settings(None, None, None) is None
    for bad in ("localhost:9090", "ftp://x", "http://"):
        with pytest.raises(SettingsError):
            from_settings(bad, None, None)


def test_messages_never_show_credentials(tmp_path: Path):
    assert safe_url("https://alice:hunter2@prom.example:9443/prometheus?token=x#f") == \
        "https://prom.example:9443/prometheus"
    (tmp_path / "token").write_text("s3cr3t\n")
    connection = Connection("http://127.0.0.1:1", bearer_token_file=str(tmp_path / "token"))
    assert connection.secrets()[0]["Authorization"] == "Bearer s3cr3t"
    assert "s3cr3t" in connection.secret_values()
    with pytest.raises(Unreachable, match="cannot read bearer_token_file"):
        PrometheusAPI(Connection("http://127.0.0.1:1", bearer_token_file=str(tmp_path / "missing")))


class Scripted:
    """A real HTTP server answering each request with the next (status, body) of a script; records what it got."""

    def __init__(self, replies: list[tuple[int, dict | str]]):
        self.replies, self.seen = list(replies), []

    def __enter__(self) -> str:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                owner.seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length).decode()))
                status, body = owner.replies.pop(0) if owner.replies else (500, "script ended")
                data = (json.dumps(body) if isinstance(body, dict) else body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


VECTOR = {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {"a": "b"}, "value": [1, "2"]}]}}


def test_overload_is_retried_then_answered_and_headers_are_sent():
    script = Scripted([(503, "busy"), (429, "slow down"), (200, VECTOR)])
    with script as url, PrometheusAPI(Connection(url, headers={"X-Scope-OrgID": "t1"}), backoff=0) as api:
        (sample,) = api.query("up")
    assert (sample.labels, sample.value) == ({"a": "b"}, 2.0)
    assert len(script.seen) == 3 and all(seen[2].get("X-Scope-OrgID") == "t1" for seen in script.seen)
    assert script.seen[-1][0] == "POST" and "query=up" in script.seen[-1][3]


def test_a_path_prefix_is_kept_for_mimir():
    script = Scripted([(200, VECTOR)])
    with script as url, PrometheusAPI(Connection(url + "/prometheus")) as api:
        api.query("up")
    assert script.seen[0][1] == "/prometheus/api/v1/query"


def test_retries_are_bounded_and_failures_are_classified():
    with Scripted([(503, "busy")] * 3) as url, PrometheusAPI(Connection(url), backoff=0) as api:
        with pytest.raises(Unreachable, match="HTTP 503 .tried 3 times"):
            api.query("up")
    bad = {"status": "error", "errorType": "bad_data", "error": "parse error at char 3"}
    with Scripted([(400, bad)]) as url, PrometheusAPI(Connection(url), backoff=0) as api:
        with pytest.raises(QueryFailed, match="parse error"):
            api.query("up{")
    with Scripted([(200, "<html>Grafana</html>")]) as url, PrometheusAPI(Connection(url), backoff=0) as api:
        with pytest.raises(Unreachable, match="without the Prometheus API's JSON"):
            api.query("up")
    with Scripted([(404, "404 page not found")] * 2) as url, PrometheusAPI(Connection(url), backoff=0) as api:
        assert api.metadata() == {}  # optional: a store without the metadata API is still usable
        with pytest.raises(Unreachable, match="does not serve /api/v1/rules"):
            api.rule_groups()
    with Scripted([(401, "no")]) as url, PrometheusAPI(Connection(url), backoff=0) as api:
        with pytest.raises(Unreachable, match="refused the credentials"):
            api.query("up")


def test_range_queries_are_split_under_the_point_limit():
    matrix = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    script = Scripted([(200, matrix)] * 3)
    with script as url, PrometheusAPI(Connection(url)) as api:
        api.query_range("up", 0, 60 * 25_000, 60)
    assert len(script.seen) == 3  # 25 001 points in pieces of at most 11 000


def test_rules_are_compared_by_meaning():
    assert canonical('sum(rate(x{job="a", code=~"5.."}[30d]))') == canonical('sum(rate(x{code=~"5..",job="a"}[4w2d]))')
    assert canonical('x{a="1,2",b="c"}') == canonical('x{b="c",a="1,2"}')
    assert canonical("x / 0.001 > 14.4") != canonical("x / 0.001 > 14.5")
    want = [{"record": "r", "expr": "sum_over_time(x[30d])", "labels": {"slo": "a"}}]
    have = [{"type": "recording", "name": "r", "query": "sum_over_time(x[4w2d])", "labels": {"slo": "a"}}]
    assert compare_group(want, have) == ""
    assert "other labels" in compare_group(want, [{**have[0], "labels": {"slo": "b"}}])
    assert "another expression" in compare_group(want, [{**have[0], "query": "sum_over_time(x[1d])"}])
    assert "1 rule(s) loaded, 2 expected" in compare_group(want * 2, have)


CONFIGS = [
    {"route": {"receiver": "default", "routes": [
        {"matchers": ['severity="page"'], "receiver": "pager"},
        {"matchers": ["severity=~\"ticket|info\"", 'service!="billing"'], "receiver": "tickets", "continue": True},
        {"match": {"team": "db"}, "receiver": "db", "routes": [{"match_re": {"alert_tier": "ticket-.*"},
                                                                  "receiver": "db-tickets"}]},
        {"matchers": ["{service=\"checkout\", slo=~\"avail.*\"}"], "receiver": "checkout"}]},
     "receivers": [{"name": n} for n in ("default", "pager", "tickets", "db", "db-tickets", "checkout")]},
]
LABELS = [
    {"severity": "page", "service": "checkout", "slo": "availability"},
    {"severity": "ticket", "service": "checkout", "slo": "availability", "team": "db", "alert_tier": "ticket-slow"},
    {"severity": "ticket", "service": "billing", "team": "db", "alert_tier": "page-fast"},
    {"severity": "info", "service": "search"},
    {"severity": "warning", "service": "checkout", "slo": "availability"},
    {"severity": "warning"},
]


@pytest.mark.parametrize("labels", LABELS, ids=lambda labels: ",".join(f"{k}={v}" for k, v in labels.items()))
def test_routing_agrees_with_amtool(labels: dict, tmp_path: Path):
    amtool = require_tool("amtool")
    config = tmp_path / "alertmanager.yml"
    config.write_text(yaml.safe_dump(CONFIGS[0]))
    proc = subprocess.run([amtool, "config", "routes", "test", f"--config.file={config}",
                           *(f"{k}={v}" for k, v in labels.items())], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert receivers_for(CONFIGS[0]["route"], labels) == [r.strip() for r in proc.stdout.strip().split(",")]


def test_a_receiver_without_integrations_notifies_nobody():
    routing = Routing.from_yaml(yaml.safe_dump({
        "route": {"receiver": "null", "routes": [{"matchers": ['severity="page"'], "receiver": "pager"}]},
        "receivers": [{"name": "null"}, {"name": "pager", "pagerduty_configs": [{"routing_key": "k"}]}]}))
    assert routing.silent_receivers({"severity": "page"}) == []
    assert routing.silent_receivers({"severity": "ticket"}) == ["null"]
