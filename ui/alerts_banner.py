"""The alert banner at the top of every page: what the watch loop alerted in the last day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from core.live.alerts import Alert, recent
from ui.context import context
from ui.text import plain

__all__ = ["BANNER_WINDOW", "render_alert_banner"]

#: How far back the banner looks.
BANNER_WINDOW = timedelta(hours=24)

_KIND_WORDS = {
    "degraded": "degraded",
    "drifted": "drifted",
    "watch_failing": "watch failing",
    "signal_changed": "signal changed",
}


def _line(alert: Alert) -> str:
    stamp = alert.time.replace("T", " ")[:16]
    coin = alert.symbol or "watch"
    kind = _KIND_WORDS.get(alert.kind, alert.kind)
    return plain(f"{stamp} UTC · {coin} · {kind}: {alert.message}")  # read back from a file


def render_alert_banner(now: datetime | None = None) -> None:
    """A warning with the last day's alerts (newest first), or nothing when there were none."""
    now = now or datetime.now(UTC)
    alerts = recent(context().home, since=now - BANNER_WINDOW, limit=50)
    if not alerts:
        return
    newest = alerts[::-1]
    coins = sorted({a.symbol for a in alerts if a.symbol})
    about = plain(f" ({', '.join(coins)})") if coins else ""
    with st.container(key="alert_banner"):
        st.warning(
            f"**{len(alerts)} alert{'s' if len(alerts) != 1 else ''} in the last 24 hours"
            f"{about}.** Latest: {_line(newest[0])}  \n"
            "See the **Monitor** page for each coin's status; the full list is in "
            "`logs/alerts.log`.",
            icon=":material/notifications_active:",
        )
        if len(newest) > 1:
            with st.expander("All recent alerts"):
                st.markdown("\n".join(f"- {_line(a)}" for a in newest))
