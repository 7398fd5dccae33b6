"""The body of ``GET /api/v2/status``: what Alertmanager's API answers, so its clients and probes are satisfied.

Fields follow Alertmanager's OpenAPI `alertmanagerStatus` (cluster, versionInfo, config, uptime), all required
there; aiops runs no Alertmanager cluster and has no Alertmanager configuration, which the body says. Pure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any


def aiops_version() -> str:
    """The installed aiops version (``unknown`` when not installed as a distribution)."""
    try:
        return version("aiops")
    except PackageNotFoundError:
        return "unknown"


def alertmanager_status(started_at: float) -> dict[str, Any]:
    """Alertmanager's status object for a service started at `started_at` (epoch seconds)."""
    uptime = datetime.fromtimestamp(started_at, UTC).isoformat().replace("+00:00", "Z")
    return {
        "cluster": {"status": "disabled", "peers": [], "name": "aiops"},
        "versionInfo": {"version": f"aiops-{aiops_version()}", "revision": "", "branch": "", "buildUser": "",
                        "buildDate": "", "goVersion": "none (aiops is Python)"},
        "config": {"original": "# aiops: Alertmanager API v2 compatible ingest; see docs/ingest.md\n"},
        "uptime": uptime,
    }
