"""Projects, servers and a runner shared by the live commands' tests (tests/test_live_*.py)."""
from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

GOOD = """\
service api {
  owner = "team-api"

  slo availability {
    objective = 99.5%
    window = 7d
    sli events {
      bad = http_requests_total{job="api", code=~"5.."}
      total = http_requests_total{job="api"}
    }
  }

  slo latency {
    objective = 99%
    window = 7d
    sli latency {
      histogram = http_request_duration_seconds{job="api"}
      threshold = 250ms
    }
  }
}
"""

# Each SLO is one finding; the line of the selector each finding points at is marked `# <- CODE`.
BROKEN = """\
service broken {
  slo typo {
    objective = 99%
    window = 7d
    sli events {
      bad = http_request_total{job="api", code=~"5.."}  # <- RELC701
      total = http_request_total{job="api"}  # <- RELC701
    }
  }

  slo wrong_value {
    objective = 99%
    window = 7d
    sli events {
      bad = http_requests_total{job="apii", code=~"5.."}  # <- RELC701
      total = http_requests_total{job="apii"}  # <- RELC701
    }
  }

  slo wrong_label {
    objective = 99%
    window = 7d
    sli events {
      bad = http_requests_total{jobname="api", code=~"5.."}  # <- RELC702
      total = http_requests_total{job="api"}
    }
  }

  slo sampled_gauge {
    objective = 99%
    window = 7d
    sli events {
      bad = http_requests_total{job="api", code=~"5.."}
      total = inflight_requests{job="api"}  # <- RELC703
    }
  }

  slo scraped_gauge {
    objective = 99%
    window = 7d
    sli events {
      bad = http_requests_total{job="api", code=~"5.."}
      total = queue_depth  # <- RELC703
    }
  }

  slo threshold {
    objective = 99%
    window = 7d
    sli latency {
      histogram = http_request_duration_seconds{job="api"}  # <- RELC704
      threshold = 300ms
    }
  }

  slo stale {
    objective = 99%
    window = 7d
    sli events {
      good = legacy_requests_total{job="old"}
      total = legacy_requests_total{job="old"}  # <- RELC705
    }
  }
}
"""

GONE = """\
service legacy {
  slo gone {
    objective = 99%
    window = 7d
    sli events {
      bad = retired_requests_total{code="500"}
      total = retired_requests_total
    }
  }
}
"""

GAUGE_PAGE = b"# HELP queue_depth Jobs waiting.\n# TYPE queue_depth gauge\nqueue_depth 3\n"


def write_project(root: Path, name: str, text: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.relc").write_text(text, encoding="utf-8")
    return folder


def relc(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """The installed relc, as users run it, without a relc.yaml from the checkout or a server from the environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RELC_")} | (env or {})
    proc = subprocess.run([sys.executable, "-m", "relc.compiler", *args], capture_output=True, text=True,
                          cwd=cwd, env=clean, timeout=300, stdin=subprocess.DEVNULL)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def json_out(proc: subprocess.CompletedProcess):
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"not JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}") from None


class GaugeExporter:
    """A real HTTP endpoint Prometheus scrapes, serving one gauge with its TYPE line (so the metadata API has it)."""

    def __enter__(self) -> "GaugeExporter":
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the stdlib's name
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                self.wfile.write(GAUGE_PAGE)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


HEALTH = """\
service api {
  slo broken {
    objective = 99%
    window = 7d
    sli events {
      bad = http_requests_total{job="api", code=~"5.."}
      total = http_requests_total{job="api"}
    }
  }
}
"""
# A group with relc's name whose rule fails at every evaluation (many-to-many matching), as a hand-edited or
# corrupted deployment would.
UNHEALTHY_GROUP = {"groups": [{"name": "relc-api-broken", "rules": [
    {"record": "relc_slo:total_events:rate5m", "expr": "http_requests_total / on(job) http_requests_total"}]}]}


class LiveInstall:
    """A Prometheus holding History, the GOOD project's rules, an unhealthy group and a scraped gauge."""

    def __init__(self, root: Path):
        import yaml

        from live_history import History
        from promserver import PrometheusServer, backfill

        self.root, self.history = root, History()
        self.good = write_project(root, "good", GOOD)
        self.broken = write_project(root, "broken", BROKEN)
        self.health = write_project(root, "health", HEALTH)
        self.exporter = GaugeExporter().__enter__()
        scrape = [{"job_name": "gauges", "scrape_interval": "1s", "static_configs": [{"targets": [self.exporter.address]}]}]
        self.prom = PrometheusServer(root / "prom", evaluation_interval="1s", scrape_configs=scrape)
        backfill(self.prom.tsdb_dir, self.history.series(), self.history.TYPES)
        built = relc("build", str(self.good), "-o", str(root / "out"), "-t", "prometheus")
        assert built.returncode == 0, built.stderr
        (self.prom.rules_dir / "api.yml").write_text((root / "out" / "prometheus" / "api.rules.yml").read_text())
        (self.prom.rules_dir / "unhealthy.yml").write_text(yaml.safe_dump(UNHEALTHY_GROUP))

    def __enter__(self) -> "LiveInstall":
        self.prom.start()
        self.url = self.prom.url
        self.prom.wait_until(self._ready, 60, what="rules evaluated and the gauge's metadata scraped")
        return self

    def _ready(self) -> bool:
        import urllib.request

        with urllib.request.urlopen(f"{self.url}/api/v1/metadata?metric=queue_depth", timeout=5) as resp:
            scraped = bool(json.load(resp)["data"])
        rules = [r for g in self.prom.rules() for r in g["rules"]]
        return scraped and bool(rules) and all(r.get("lastEvaluation", "").startswith("20") for r in rules)

    def __exit__(self, *exc) -> None:
        self.prom.stop()
        self.exporter.__exit__()
