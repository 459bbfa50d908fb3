"""A small client of the Prometheus HTTP API (and Alertmanager's status), on httpx: timeouts, bounded retries,
errors that say what failed without quoting a secret.

Works against Prometheus, Thanos Query, Mimir, Cortex and VictoriaMetrics: it uses only /api/v1 endpoints they
all serve, and sends long queries as POST forms so a query over a thousand selectors never hits a URL limit.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterable

import httpx

from relc.compiler.live.connection import Connection, SettingsError

MAX_POINTS = 11_000          # Prometheus refuses a range query of more points per series
RETRIED_STATUS = {429, 502, 503, 504}


class Unreachable(Exception):
    """The server cannot be used: no answer, refused credentials, or an answer that is not the API's (exit 2)."""


class NotServed(Unreachable):
    """The server has no such endpoint (HTTP 404): a Prometheus-compatible store without a rules or metadata API."""


class QueryFailed(Exception):
    """The server answered, and refused this query (bad_data, execution, timeout): a finding, not an outage."""


@dataclass(frozen=True)
class Sample:
    """One series of a query result: its labels and its (unix seconds, value) points."""

    labels: dict[str, str]
    points: tuple[tuple[float, float], ...]

    @property
    def value(self) -> float:
        return self.points[-1][1]


class PrometheusAPI:
    """One server; `with PrometheusAPI(conn) as api:` closes its connections."""

    def __init__(self, connection: Connection, *, timeout: float = 30.0, retries: int = 2, backoff: float = 0.5):
        self.connection = connection
        self.retries, self.backoff = retries, backoff
        try:
            headers, auth = connection.secrets()
        except SettingsError as err:
            raise Unreachable(str(err)) from None
        verify: Any = True
        if connection.tls_insecure_skip_verify:
            verify = False
        elif connection.tls_ca_file:
            import ssl

            try:
                verify = ssl.create_default_context(cafile=connection.tls_ca_file)
            except (OSError, ssl.SSLError) as err:
                raise Unreachable(f"cannot use tls_ca_file {connection.tls_ca_file}: {err}") from None
        self._secrets = connection.secret_values()
        self._http = httpx.Client(base_url=connection.url, headers={"User-Agent": "relc", **headers}, auth=auth,
                                  verify=verify, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                                  follow_redirects=False, trust_env=False)

    def __enter__(self) -> "PrometheusAPI":
        return self

    def __exit__(self, *exc) -> None:
        self._http.close()

    # -- transport -------------------------------------------------------------------------------------------
    def call(self, path: str, params: dict | list | None = None, *, post: bool = False) -> Any:
        """The `data` of one API call, retrying connection failures and overload a bounded number of times."""
        for attempt in range(self.retries + 1):
            try:
                response = (self._http.post(path, data=params) if post else self._http.get(path, params=params))
            except httpx.TimeoutException:
                failure = f"{self.connection.shown} did not answer {path} in time"
            except httpx.HTTPError as err:
                failure = f"cannot reach {self.connection.shown}: {self._clean(str(err) or type(err).__name__)}"
            else:
                if response.status_code not in RETRIED_STATUS:
                    return self._data(path, response)
                failure = f"{self.connection.shown}{path} answered HTTP {response.status_code}"
            if attempt < self.retries:
                time.sleep(self.backoff * 2 ** attempt)
        raise Unreachable(failure + f" (tried {self.retries + 1} times)")

    def _data(self, path: str, response: httpx.Response) -> Any:
        if response.status_code == 404:
            raise NotServed(f"{self.connection.shown} does not serve {path} (HTTP 404)")
        if response.status_code in (401, 403):
            raise Unreachable(f"{self.connection.shown} refused the credentials (HTTP {response.status_code}); "
                              "check bearer_token_file, basic_auth or headers")
        try:
            doc = response.json()
        except ValueError:
            raise Unreachable(f"{self.connection.shown}{path} answered HTTP {response.status_code} without the "
                              "Prometheus API's JSON: is this the right URL (the server's root, not /graph)?") from None
        if not isinstance(doc, dict) or "status" not in doc:
            raise Unreachable(f"{self.connection.shown}{path} did not answer as a Prometheus API")
        if doc["status"] != "success":
            message = self._clean(str(doc.get("error", "unknown error")))
            if response.status_code in (400, 422) or doc.get("errorType") in ("bad_data", "execution", "timeout"):
                raise QueryFailed(message)
            raise Unreachable(f"{self.connection.shown}{path} failed: {message}")
        return doc.get("data")

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "<secret>")
        return text[:500]

    # -- the API ---------------------------------------------------------------------------------------------
    def query(self, expr: str, at: float | None = None) -> list[Sample]:
        """An instant query; each series of the vector with its one point."""
        params = {"query": expr} | ({"time": _ts(at)} if at is not None else {})
        data = self.call("/api/v1/query", params, post=True)
        if data.get("resultType") == "scalar":
            t, v = data["result"]
            return [Sample({}, ((float(t), float(v)),))]
        return [_sample(item) for item in data.get("result", [])] if data.get("resultType") == "vector" else []

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Sample]:
        """A range query split into pieces under the server's point limit, series joined across pieces."""
        joined: dict[tuple, list] = {}
        labels: dict[tuple, dict] = {}
        for lo, hi in _pieces(start, end, step):
            data = self.call("/api/v1/query_range", {"query": expr, "start": _ts(lo), "end": _ts(hi),
                                                     "step": _step(step)}, post=True)
            for item in data.get("result", []):
                key = tuple(sorted(item["metric"].items()))
                labels[key] = item["metric"]
                joined.setdefault(key, []).extend((float(t), float(v)) for t, v in item["values"])
        return [Sample(labels[key], tuple(sorted(set(points)))) for key, points in sorted(joined.items())]

    def label_names(self, match: str, start: float, end: float) -> list[str]:
        return list(self.call("/api/v1/labels", {"match[]": match, "start": _ts(start), "end": _ts(end)},
                              post=True) or [])

    def label_values(self, name: str, match: str | None, start: float, end: float) -> list[str]:
        params = {"start": _ts(start), "end": _ts(end)} | ({"match[]": match} if match else {})
        return list(self.call(f"/api/v1/label/{name}/values", params) or [])

    def metadata(self) -> dict[str, list[dict]]:
        """Every metric's metadata (type, help) the server knows from scrapes; empty when it keeps none."""
        try:
            return dict(self.call("/api/v1/metadata") or {})
        except (QueryFailed, NotServed):
            return {}

    def rule_groups(self) -> list[dict]:
        return list((self.call("/api/v1/rules") or {}).get("groups", []))

    def fetch_json(self, path: str) -> Any:
        """A GET of a JSON document outside the Prometheus API's envelope (Alertmanager's /api/v2/status)."""
        try:
            response = self._http.get(path)
        except httpx.HTTPError as err:
            raise Unreachable(f"cannot reach {self.connection.shown}: {self._clean(str(err))}") from None
        if response.status_code != 200:
            raise Unreachable(f"{self.connection.shown}{path} answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise Unreachable(f"{self.connection.shown}{path} did not answer JSON") from None

    def probe(self) -> None:
        """One cheap query every compatible server answers: proves the URL and credentials before the real work."""
        self.query("vector(1)")


def _sample(item: dict) -> Sample:
    t, v = item["value"]
    return Sample(item["metric"], ((float(t), float(v)),))


def _ts(t: float) -> str:
    return f"{t:.3f}"


def _step(step: float) -> str:
    return f"{step:g}s" if float(step).is_integer() else f"{step:.3f}s"


def _pieces(start: float, end: float, step: float) -> Iterable[tuple[float, float]]:
    """[start, end] cut into ranges of at most MAX_POINTS - 1 steps, aligned on the same step grid."""
    span = (MAX_POINTS - 1) * step
    lo = start
    while True:
        hi = min(end, lo + span)
        yield lo, hi
        if hi >= end:
            return
        lo = hi + step


class AlertmanagerAPI:
    """Alertmanager's v2 status: the configuration it runs, for the routing check."""

    def __init__(self, connection: Connection, *, timeout: float = 30.0, retries: int = 2):
        self._prom = PrometheusAPI(connection, timeout=timeout, retries=retries)
        self.connection = connection

    def __enter__(self) -> "AlertmanagerAPI":
        return self

    def __exit__(self, *exc) -> None:
        self._prom.__exit__()

    def config_text(self) -> str:
        """The YAML configuration Alertmanager loaded (`config.original` of /api/v2/status)."""
        try:
            return str(self._prom.fetch_json("/api/v2/status")["config"]["original"])
        except (KeyError, TypeError):
            raise Unreachable(f"{self.connection.shown} did not answer as an Alertmanager (/api/v2/status)") from None
