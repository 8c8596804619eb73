"""Live: the headless watch loop, alerts and retraining when stale (issue 11).

* :mod:`core.live.watch`: :class:`Watch` runs a cycle a few seconds after every candle close
  (top-up, signals, journal, resolution, health, alerts); ``python -m core watch``.
* :mod:`core.live.alerts`: edge-triggered alerts (degraded, drifted, signal changed, watch
  failing) to ``logs/alerts.log`` and the notification targets; :func:`recent` reads them back.
* :mod:`core.live.notify`: the targets (Apprise URLs) and the background sender.
* :mod:`core.live.retrain`: challengers for stale or degraded champions; ``python -m core retrain``.
* :mod:`core.live.health`: the one call into the monitor.

Importing this package loads no model library.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Where each public name lives; loaded on first use, so the app's banner (which reads alerts)
#: does not pull the watch loop and with it the signal and training stages into every page.
_WHERE = {
    "Alert": "alerts",
    "Alerts": "alerts",
    "CoinCall": "alerts",
    "Notifier": "notify",
    "recent": "alerts",
    "Health": "health",
    "coin_health": "health",
    "CycleReport": "watch",
    "Watch": "watch",
    "WatchConfig": "watch",
    "state_path": "watch",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)


__all__ = [
    "Alert",
    "Alerts",
    "CoinCall",
    "CycleReport",
    "Health",
    "Notifier",
    "Watch",
    "WatchConfig",
    "coin_health",
    "recent",
    "state_path",
]
