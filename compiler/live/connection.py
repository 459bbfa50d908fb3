"""Where the live commands find the server: --prometheus, RELC_PROMETHEUS_URL, or relc.yaml, and its credentials.

Secrets (tokens, passwords, header values) are read from files or the config only when a request is made, and
never appear in messages: `Connection.shown` is the URL without user information or query.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ENV_URL = "RELC_PROMETHEUS_URL"
ENV_ALERTMANAGER = "RELC_ALERTMANAGER_URL"


class SettingsError(Exception):
    """A connection setting that cannot be used (a missing token file, a URL that is not http(s))."""


@dataclass(frozen=True)
class Connection:
    """One server's address and how to authenticate; paths already relative to the working directory."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    bearer_token_file: str | None = None
    basic_auth_username: str | None = None
    basic_auth_password_file: str | None = None
    tls_ca_file: str | None = None
    tls_insecure_skip_verify: bool = False

    @property
    def shown(self) -> str:
        """The URL as messages print it: no user, password, query or fragment."""
        return safe_url(self.url)

    def secrets(self) -> tuple[dict[str, str], tuple[str, str] | None]:
        """(headers with Authorization when a token file is set, basic-auth pair or None), read now."""
        headers = dict(self.headers)
        if self.bearer_token_file:
            headers["Authorization"] = "Bearer " + _read_secret(self.bearer_token_file, "bearer_token_file")
        auth = None
        if self.basic_auth_username is not None:
            password = (_read_secret(self.basic_auth_password_file, "basic_auth.password_file")
                        if self.basic_auth_password_file else "")
            auth = (self.basic_auth_username, password)
        return headers, auth

    def secret_values(self) -> list[str]:
        """Every secret this connection sends, so error text quoting a server's reply can blank them out."""
        try:
            headers, auth = self.secrets()
        except SettingsError:
            return []
        values = [v for v in headers.values() if v] + ([auth[1]] if auth and auth[1] else [])
        return values + [v.split(" ", 1)[1] for v in values if v.startswith("Bearer ")]


def safe_url(url: str) -> str:
    """A URL with its user information, query and fragment removed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def check_url(url: str, what: str) -> str:
    """The URL itself, or SettingsError when it is not an absolute http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{what} must be an http:// or https:// URL, not {safe_url(url)!r}")
    return url.rstrip("/")


def _read_secret(path: str, key: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise SettingsError(f"cannot read {key} {path}: {getattr(err, 'strerror', None) or err}") from None


def from_settings(flag_url: str | None, config_block: dict | None, base: Path | None, *,
                  env: str = ENV_URL, what: str = "--prometheus") -> Connection | None:
    """The connection the command line, the environment or relc.yaml gives, in that order; None when none does.

    A URL from the flag or environment still takes credentials from relc.yaml's block, so a CI job can point at
    another address without repeating the token file."""
    block = dict(config_block or {})
    url = flag_url or os.environ.get(env) or block.get("url")
    if not url:
        return None
    rebase = (lambda p: str(base / p)) if base is not None else str  # noqa: E731 - absolute paths stay absolute
    basic = block.get("basic_auth") or {}
    return Connection(
        url=check_url(str(url), what),
        headers={str(k): str(v) for k, v in (block.get("headers") or {}).items()},
        bearer_token_file=rebase(block["bearer_token_file"]) if block.get("bearer_token_file") else None,
        basic_auth_username=basic.get("username"),
        basic_auth_password_file=rebase(basic["password_file"]) if basic.get("password_file") else None,
        tls_ca_file=rebase(block["tls_ca_file"]) if block.get("tls_ca_file") else None,
        tls_insecure_skip_verify=bool(block.get("tls_insecure_skip_verify", False)),
    )
