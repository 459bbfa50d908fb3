"""A real Prometheus server for tests: backfilled history, rule files, reloads, and its HTTP API."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import yaml

from conftest import require_tool


def binary(name: str) -> str:
    """Path of `prometheus` or `promtool`: a skip when missing (a failure in CI, as for every tool; see conftest)."""
    return require_tool(name)


def free_port() -> int:
    """A free loopback port, the kernel's pick (start() retries if another process takes it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


Series = tuple[str, dict[str, str], list[tuple[int, float]]]  # metric name, labels, (unix seconds, value) samples


def counter_series(name: str, labels: dict[str, str], start_s: int, end_s: int, step_s: int,
                   rate_per_s: float) -> Series:
    """A counter growing at rate_per_s from 0 at start_s, one sample every step_s up to end_s inclusive."""
    return name, dict(labels), [(t, round((t - start_s) * rate_per_s, 6)) for t in range(start_s, end_s + 1, step_s)]


def _label_text(labels: dict[str, str]) -> str:
    """OpenMetrics label set; values escaped as the format requires."""
    def esc(v: str) -> str:
        return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in sorted(labels.items())) + "}" if labels else ""


def openmetrics(series: Iterable[Series], types: dict[str, str] | None = None) -> str:
    """OpenMetrics text for promtool: one `# TYPE` per family, families contiguous, samples in time order, `# EOF`.

    promtool needs a timestamp on every sample and the final `# EOF`, and silently drops a sample older
    than the one before it in its series, so each series is sorted here. Counters are declared by their
    family name (the sample name without `_total`), as OpenMetrics says; `types` names families of another type
    (gauge, or unknown for histogram parts written as plain series).
    """
    types = types or {}
    families: dict[str, list[Series]] = {}
    for name, labels, samples in series:
        family = name if name in types else name.removesuffix("_total")
        families.setdefault(family, []).append((name, labels, sorted(samples)))
    lines = []
    for family, members in families.items():
        lines.append(f"# TYPE {family} {types.get(family, 'counter')}")
        for name, labels, samples in members:
            head = name + _label_text(labels)
            lines.extend(f"{head} {float(v)!r} {int(t)}" for t, v in samples)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def backfill(tsdb_dir: Path, series: Iterable[Series], types: dict[str, str] | None = None,
             max_block_duration: str = "744h") -> None:
    """Write history into a TSDB directory with `promtool tsdb create-blocks-from openmetrics`, before the server starts.

    Blocks of up to 31 days: promtool's default of 2h makes a block per two hours of history (36 days took 62 s
    against 0.7 s), and Prometheus reads the long blocks the same way."""
    tsdb_dir.mkdir(parents=True, exist_ok=True)
    source = tsdb_dir.parent / "backfill.om"
    source.write_text(openmetrics(series, types), encoding="utf-8")
    proc = subprocess.run([binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                           f"--max-block-duration={max_block_duration}", str(source), str(tsdb_dir)], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:  # not an AssertionError: a harness failure must not pass for an expected one
        raise RuntimeError(f"promtool backfill failed:\n{proc.stdout}{proc.stderr}")


class PrometheusServer:
    """`with PrometheusServer(tmp) as prom:` runs /usr/bin/prometheus on 127.0.0.1 and always stops it."""

    def __init__(self, workdir: Path, *, evaluation_interval: str = "1s", scrape_configs: list | None = None,
                 extra_args: Iterable[str] = (), ready_timeout: float = 60.0, stop_timeout: float = 10.0):
        self.workdir = Path(workdir)
        self.rules_dir = self.workdir / "rules"
        self.tsdb_dir = self.workdir / "data"
        self.config_path = self.workdir / "prometheus.yml"
        self.log_path = self.workdir / "prometheus.log"
        self.evaluation_interval = evaluation_interval
        self.scrape_configs = scrape_configs or []
        self.extra_args = list(extra_args)
        self.ready_timeout, self.stop_timeout = ready_timeout, stop_timeout
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.rules_dir.mkdir(parents=True, exist_ok=True)
        self.tsdb_dir.mkdir(parents=True, exist_ok=True)

    def write_config(self) -> None:
        """prometheus.yml: the evaluation interval, every *.yml in rules_dir, optional scrapes."""
        config = {"global": {"evaluation_interval": self.evaluation_interval, "scrape_interval": "15s"},
                  "rule_files": [str(self.rules_dir / "*.yml")], "scrape_configs": self.scrape_configs}
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    def log_tail(self, lines: int = 40) -> str:
        """The server's last log lines, for failure messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def start(self) -> "PrometheusServer":
        """Start the server and wait until /-/ready answers; retry on a port taken between pick and bind."""
        self.write_config()
        for _attempt in range(3):
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            args = [binary("prometheus"), f"--config.file={self.config_path}",
                    f"--web.listen-address=127.0.0.1:{port}", f"--storage.tsdb.path={self.tsdb_dir}",
                    "--storage.tsdb.retention.time=400d", "--web.enable-lifecycle", *self.extra_args]
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                             cwd=self.workdir)  # same process group: Ctrl-C stops it too
            deadline = time.monotonic() + self.ready_timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as resp:
                        if resp.status == 200:
                            return self
                except (urllib.error.URLError, OSError):
                    pass
                time.sleep(0.1)
            code = self.proc.poll()
            self.stop()
            if code is None or "address already in use" not in self.log_tail():
                break
        raise RuntimeError(f"Prometheus at {self.url} not ready within {self.ready_timeout}s "
                           f"(exit code {code}); log tail:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after stop_timeout; always reaps the process."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> "PrometheusServer":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    def _request(self, path: str, params: dict | None = None, method: str = "GET") -> Any:
        """One HTTP call; the API's `data`, or the body for non-API paths; errors carry the server's text."""
        url = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                body = resp.read().decode()
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} {path} -> {e.code}: {e.read().decode(errors='replace')}") from None
        if not path.startswith("/api/"):
            return body
        doc = json.loads(body)
        if doc.get("status") != "success":
            raise RuntimeError(f"{path}: {doc}")
        return doc["data"]

    def reload(self) -> None:
        """POST /-/reload (needs --web.enable-lifecycle); returns once the new config and rules are loaded."""
        self._request("/-/reload", method="POST")

    def query(self, expr: str, time: float | None = None) -> list[dict]:
        """Instant query; the result list (for a vector: [{'metric': {...}, 'value': [t, 'v']}, ...])."""
        params = {"query": expr} | ({"time": f"{time:.3f}"} if time is not None else {})
        return self._request("/api/v1/query", params)["result"]

    def rules(self) -> list[dict]:
        """The rule groups of /api/v1/rules, each with its `rules` (health, lastError, lastEvaluation...)."""
        return self._request("/api/v1/rules")["groups"]

    def all_rules(self) -> Iterator[dict]:
        """Every rule of every group."""
        for group in self.rules():
            yield from group["rules"]

    def alerts(self) -> list[dict]:
        """Active (pending or firing) alerts of /api/v1/alerts."""
        return self._request("/api/v1/alerts")["alerts"]

    def metric_total(self, name: str) -> float:
        """Sum of one metric's samples on the server's own /metrics page (e.g. its rule evaluation failures)."""
        lines = self._request("/metrics").splitlines()
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith((name + "{", name + " ")))

    def evaluated_since(self, t: float) -> bool:
        """Whether every rule group has finished an evaluation that started after wall-clock time t."""
        groups = self.rules()
        return bool(groups) and all(datetime.fromisoformat(g["lastEvaluation"]).timestamp() > t for g in groups)

    def poll(self, predicate: Callable[[], Any], timeout: float, interval: float = 0.25) -> Any:
        """predicate()'s first truthy value, or its last value once timeout seconds have passed."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value or time.monotonic() >= deadline:
                return value
            time.sleep(interval)

    def wait_until(self, predicate: Callable[[], Any], timeout: float, interval: float = 0.25,
                   what: str = "condition", explain: Callable[[], Any] | None = None) -> Any:
        """Poll until predicate() is truthy and return its value; a TimeoutError with explain() and the log tail otherwise."""
        value = self.poll(predicate, timeout, interval)
        if not value:
            state = f"; state: {explain()!r}" if explain else ""
            raise TimeoutError(f"{what} not met within {timeout}s{state}; log tail:\n{self.log_tail(15)}")
        return value


def install_rules(server: PrometheusServer, files: Iterable[Path]) -> list[Path]:
    """Copy *.yml rule files into the server's rule directory, each atomically (a reload never sees half a file)."""
    placed = []
    for src in files:
        dst = server.rules_dir / Path(src).name
        tmp = server.rules_dir / (dst.name + ".tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
        placed.append(dst)
    return placed
