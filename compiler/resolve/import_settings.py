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


def sloth_settings(period: str | None, labels: bool) -> ImportSettings:
    """Settings from a period as written (`28d`; None for Sloth's default); ValueError when it is no duration."""
    from relc.compiler.units import parse_duration_ms

    if period is None:
        return ImportSettings(sloth_labels=labels)
    seconds = int(parse_duration_ms(period) // 1000)
    if seconds <= 0:
        raise ValueError(f"{period!r} is not a duration like 28d")
    return ImportSettings(seconds, labels)
