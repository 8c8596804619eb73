"""Times as the viewer reads them: in the browser's time zone, labelled, or in UTC on request.

Streamlit passes the browser's IANA zone with every run (``st.context.timezone``, e.g.
``"Asia/Tokyo"``). Pages show candle and job times in that zone with its abbreviation
("2025-05-31 08:00 JST"), tables name the zone in the column header, and the sidebar's
**Times in UTC** switch puts every page back on UTC. Only what is shown changes: files, CSV
exports, logs and the CLI stay UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

from ui import state

__all__ = [
    "column_label",
    "localize",
    "render_zone_switch",
    "to_viewer",
    "viewer_zone",
    "when",
    "zone_name",
]


def _browser_zone() -> str | None:
    try:
        return st.context.timezone
    except Exception:  # no browser behind this run (AppTest, a bare script): UTC
        return None


def viewer_zone() -> tzinfo:
    """The zone times are shown in: UTC when the switch says so or the browser names none."""
    if st.session_state.get(state.TIMES_UTC):
        return UTC
    name = _browser_zone()
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # a name this machine's tz database lacks
        return UTC


def zone_name(zone: tzinfo | None = None) -> str:
    """``"Asia/Tokyo"``, or ``"UTC"``: how a column header names the zone."""
    zone = zone or viewer_zone()
    return "UTC" if zone is UTC else str(getattr(zone, "key", zone))


def when(ts: object, *, zone: tzinfo | None = None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A moment as the viewer reads it: ``"2025-05-31 08:00 JST"`` (naive input is UTC);
    ``""`` for a missing one."""
    if ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return ""
    stamp = pd.Timestamp(ts)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    shown = stamp.tz_convert(zone or viewer_zone())
    abbr = shown.strftime("%Z") or zone_name(zone)
    if abbr[:1] in "+-":  # a zone without an abbreviation: name it ("+04" says little)
        abbr = f"{zone_name(zone)} ({abbr})"
    return f"{shown.strftime(fmt)} {abbr}"


_UTC_STAMP = re.compile(r"\b(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC\b")


def localize(text: str, *, zone: tzinfo | None = None) -> str:
    """``text`` from core (which words times in UTC, as files and the CLI do) with each
    ``"2025-05-30 00:00 UTC"`` in it shown as the viewer reads it (``"2025-05-30 09:00 JST"``)."""
    return _UTC_STAMP.sub(lambda m: when(m.group(1), zone=zone), text)


def to_viewer(values: pd.Series, *, zone: tzinfo | None = None) -> pd.Series:
    """Times (aware, or naive UTC) as naive wall-clock times of the viewer's zone, for a table
    whose header says the zone (:func:`column_label`)."""
    times = pd.to_datetime(values, utc=True)
    return times.dt.tz_convert(zone or viewer_zone()).dt.tz_localize(None)


def column_label(name: str, *, zone: tzinfo | None = None) -> str:
    """``"last candle (Asia/Tokyo)"``."""
    return f"{name} ({zone_name(zone)})"


def render_zone_switch(container: object | None = None) -> None:
    """The **Times in UTC** toggle (the sidebar draws it on every page)."""
    where = container if container is not None else st
    local = _browser_zone()
    where.toggle(  # type: ignore[attr-defined]
        "Times in UTC",
        key=state.TIMES_UTC,
        help=(
            f"Off: times are shown in your browser's zone ({local})."
            if local and local != "UTC"
            else "Off: times are shown in your browser's zone."
        )
        + " Files, CSV exports and logs are always UTC.",
    )
