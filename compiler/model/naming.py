"""Names derived from definitions that several targets must agree on (dashboard uids, Kubernetes names)."""
from __future__ import annotations

import hashlib
import re


def dashboard_uid(service: str) -> str:
    """Grafana uids are at most 40 characters of [A-Za-z0-9_-]; long names keep a hash suffix to stay unique."""
    uid = "relc-" + re.sub(r"[^A-Za-z0-9_-]", "-", service)
    if len(uid) <= 40:
        return uid
    digest = hashlib.sha256(service.encode()).hexdigest()[:8]
    return f"{uid[:31]}-{digest}"


def k8s_name(name: str) -> str:
    """A DNS-1123 subdomain for Kubernetes metadata.name."""
    cleaned = re.sub(r"[^a-z0-9.-]+", "-", name.lower()).strip("-.") or "relc"
    if len(cleaned) <= 253:
        return cleaned
    return cleaned[:244] + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]
