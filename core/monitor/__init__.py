"""Monitor: forward-test health of the live calls, and feature drift (issue 11, parts 3 and 4).

:func:`assess` is the public face: one :class:`CoinHealth` per coin with its status
(``on_track`` / ``degraded`` / ``not_enough_calls``), a one-sentence reason, the resolved-call
count and the number of drifted features. The watch loop calls it after each cycle to decide
alerts; the Monitor page and ``python -m core monitor`` show it. Importing this package loads
no model library.
"""

from __future__ import annotations

from core.monitor.calls import load_calls, version_key
from core.monitor.drift import BANDS, DriftReport, FeatureDrift, band, feature_drift, psi
from core.monitor.health import STATUSES, CoinHealth, MonitorConfig, VersionHealth, assess
from core.monitor.rates import KindRate, MemberScore

__all__ = [
    "BANDS",
    "STATUSES",
    "CoinHealth",
    "DriftReport",
    "FeatureDrift",
    "KindRate",
    "MemberScore",
    "MonitorConfig",
    "VersionHealth",
    "assess",
    "band",
    "feature_drift",
    "load_calls",
    "psi",
    "version_key",
]
