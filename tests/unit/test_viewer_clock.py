"""ui.clock: times core words in UTC reach the page in the viewer's zone."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from ui.clock import localize


def test_core_utc_stamps_in_a_reason_are_shown_in_the_viewers_zone():
    reason = "Not enough calls (the newest call is on the candle of 2023-09-12 13:00 UTC)."
    tokyo = localize(reason, zone=ZoneInfo("Asia/Tokyo"))
    assert tokyo == "Not enough calls (the newest call is on the candle of 2023-09-12 22:00 JST)."
    assert localize(reason, zone=UTC) == reason
    assert localize("no time here", zone=ZoneInfo("Asia/Tokyo")) == "no time here"
