"""Live: the headless watch loop, alerts and retraining when stale (issue 11).

* :mod:`core.live.watch`: :class:`Watch` runs a cycle a few seconds after every candle close
  (top-up, signals, journal, resolution, health, alerts); ``python -m core watch``.
* :mod:`core.live.clock`: the system clock, or a file a test moves (:class:`FileClock`).
* :mod:`core.live.alerts`: edge-triggered alerts to ``logs/alerts.log`` and a webhook;
  :func:`recent` reads them back for the app's banner.
* :mod:`core.live.retrain`: challengers for stale or degraded champions; ``python -m core retrain``.
* :mod:`core.live.health`: the one call into the monitor.

Importing this package loads no model library.
"""

from __future__ import annotations

from core.live.alerts import Alert, Alerts, Webhook, recent
from core.live.clock import Clock, FileClock, SystemClock, next_wake, set_file_clock
from core.live.health import Health, coin_health
from core.live.watch import CycleReport, Watch, WatchConfig, state_path

__all__ = [
    "Alert",
    "Alerts",
    "Clock",
    "CycleReport",
    "FileClock",
    "Health",
    "SystemClock",
    "Watch",
    "WatchConfig",
    "Webhook",
    "coin_health",
    "next_wake",
    "recent",
    "set_file_clock",
    "state_path",
]
