"""What another tool's spec leaves to that tool's command line, given to relc by relc.yaml or `relc import`."""
from __future__ import annotations

from dataclasses import dataclass

SLOTH_PERIOD_S = 30 * 86400   # Sloth's own default for --default-slo-period


@dataclass(frozen=True)
class ImportSettings:
    """Sloth's `--default-slo-period`, and whether to keep Sloth's own labels (`sloth_id`, `sloth_service`,
    `sloth_slo` on every series and alert, `sloth_severity` on alerts) so Alertmanager routes and dashboards
    written against Sloth's rules keep matching."""

    sloth_period_s: int = SLOTH_PERIOD_S
    sloth_labels: bool = False


DEFAULT = ImportSettings()
