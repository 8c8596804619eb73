"""The one place the watch loop and the alerts ask how each coin is doing.

:func:`coin_health` calls :func:`core.monitor.assess` (live hit rates against what the card
promised, feature drift) and returns its :class:`Health` records: ``symbol``, ``status``
(``on_track`` / ``degraded`` / ``not_enough_calls``), ``drifted`` (how many features drifted) and
``reason``. When the monitor is not installed (or fails), it returns nothing and says why, so the
watch keeps running; alerts then only cover failing cycles.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["Health", "coin_health"]

log = logging.getLogger("cryptovolt.watch")


@dataclass(frozen=True)
class Health:
    """One coin's forward-test health, as :func:`core.monitor.assess` reports it."""

    symbol: str
    status: str
    drifted: int = 0
    reason: str = ""

    @property
    def degraded(self) -> bool:
        return self.status == "degraded"


def coin_health(
    symbols: Sequence[str] | None = None,
    *,
    home: Path,
    now: datetime | None = None,
) -> tuple[list[Health], str | None]:
    """``(health per coin, None)``, or ``([], why not)`` when the monitor cannot say."""
    try:
        from core.monitor import assess
    except ImportError as exc:
        return [], f"the monitor is not available ({exc}); only failing cycles raise alerts"
    try:
        found: Sequence[Any] = assess(list(symbols) if symbols else None, home=home, now=now)
    except Exception as exc:  # the monitor must never stop the watch
        log.exception("monitor failed")
        return [], f"the monitor failed: {type(exc).__name__}: {exc}"
    return [
        Health(
            str(h.symbol),
            str(getattr(h.status, "value", h.status)),
            int(getattr(h, "drifted", 0) or 0),
            str(getattr(h, "reason", "") or ""),
        )
        for h in found
    ], None
