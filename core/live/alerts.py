"""Alerts: a coin turned degraded or drifted, its signal changed, or watch cycles keep failing.

Edge triggered: an alert fires once when a coin *turns* degraded (or drifted, or its call changes,
or cycles start failing twice in a row), not on every cycle while it stays so; the last state seen
is kept in ``{home}/live/alerts_state.json`` so a restarted watch does not fire again. Each alert
is one line in ``{home}/logs/alerts.log`` (``time | kind | coin | message``) and goes to every
notification target configured (:mod:`core.live.notify`: ``CRYPTOVOLT_ALERT_URLS``, the Monitor
page, the older ``CRYPTOVOLT_ALERT_WEBHOOK``) from a background thread, so a slow or dead receiver
never holds up the watch loop. :func:`recent` reads the log back for the app's banner.

A signal change is a call that appears (NEUTRAL or NO EDGE becomes BULLISH or BEARISH), disappears
or flips direction, or a change of the volatility regime when the watch passes one. A STALE signal
says nothing about the call (the candles did not arrive), so it neither fires nor resets anything;
the first signal seen for a coin is remembered without an alert.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core.atomic import atomic_write_json
from core.live.health import Health
from core.live.notify import Notifier, app_link
from core.live.targets import Message

__all__ = ["Alert", "Alerts", "CoinCall", "alerts_log", "message_for", "recent"]

#: What an alert is about.
DEGRADED, DRIFTED, WATCH_FAILING = "degraded", "drifted", "watch_failing"
SIGNAL_CHANGED = "signal_changed"
#: The calls a signal can make; anything else (NEUTRAL, NO EDGE) is no call.
CALLS = ("BULLISH", "BEARISH")
#: A signal that says nothing about the call: its candles are too old.
STALE = "STALE"

_KIND_WORDS = {
    DEGRADED: "degraded",
    DRIFTED: "drifted",
    WATCH_FAILING: "watch failing",
    SIGNAL_CHANGED: "signal changed",
}
_KIND_PAGE = {SIGNAL_CHANGED: "signals"}

log = logging.getLogger("cryptovolt.watch")


def alerts_log(home: Path) -> Path:
    """``{home}/logs/alerts.log``."""
    return Path(home) / "logs" / "alerts.log"


def _state_path(home: Path) -> Path:
    return Path(home) / "live" / "alerts_state.json"


@dataclass(frozen=True)
class Alert:
    """One alert: when (ISO 8601 UTC), what kind, which coin (``None``: the watch itself), why."""

    time: str
    kind: str
    symbol: str | None
    message: str

    def line(self) -> str:
        message = " ".join(self.message.split())  # one line, whatever the reason held
        return f"{self.time} | {self.kind} | {self.symbol or '-'} | {message}"

    @classmethod
    def parse(cls, line: str) -> Alert | None:
        parts = line.rstrip("\n").split(" | ", 3)
        if len(parts) != 4:
            return None
        when, kind, symbol, message = parts
        return cls(when, kind, None if symbol == "-" else symbol, message)

    def to_dict(self) -> dict[str, Any]:
        return {"source": "cryptovolt", **asdict(self)}


@dataclass(frozen=True)
class CoinCall:
    """What a coin's signal says, for change alerts: ``signal`` (BULLISH, BEARISH, NEUTRAL,
    NO_EDGE, STALE), the volatility ``regime`` when known, and words for the alert line."""

    signal: str
    regime: str | None = None
    detail: str = ""

    @property
    def call(self) -> str | None:
        return self.signal if self.signal in CALLS else None


def _call_words(call: str | None, signal: str) -> str:
    return call if call else f"no call ({signal.replace('_', ' ')})"


def message_for(alert: Alert) -> Message:
    """The notification of ``alert``: a title, its verdict line, a link to the page showing it."""
    about = alert.symbol or "watch"
    return Message(
        f"CryptoVolt: {about} {_KIND_WORDS.get(alert.kind, alert.kind)}",
        " ".join(alert.message.split()),
        app_link(_KIND_PAGE.get(alert.kind, "monitor")),
        {"time": alert.time, "kind": alert.kind, "symbol": alert.symbol, "message": alert.message},
    )


class Alerts:
    """Decides which changes are alerts and sends each one to the log and the targets.

    Raises:
        ConfigError: a configured notification URL Apprise cannot use (named).
    """

    def __init__(self, *, home: Path, notifier: Notifier | None = None) -> None:
        self.home = Path(home)
        self.notifier = notifier or Notifier.from_config(self.home)
        try:
            self.state = json.loads(_state_path(self.home).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.state = {}
        self.state.setdefault("coins", {})
        self.state.setdefault("failures", 0)
        self.state.setdefault("signals", {})

    def observe(self, health: Iterable[Health], now: datetime) -> list[Alert]:
        """Alerts for the coins that turned degraded or drifted since the last observation."""
        stamp = _stamp(now)
        alerts = []
        for h in health:
            before = self.state["coins"].get(h.symbol, {})
            if h.degraded and before.get("status") != "degraded":
                alerts.append(
                    Alert(stamp, DEGRADED, h.symbol, f"{h.symbol} is degraded: {h.reason}")
                )
            if h.drifted and not before.get("drifted"):
                alerts.append(
                    Alert(
                        stamp,
                        DRIFTED,
                        h.symbol,
                        f"{h.symbol}: {h.drifted} feature(s) drifted "
                        "from the training window (population stability index)",
                    )
                )
            if before.get("status") == "degraded" and not h.degraded:
                log.info("%s is no longer degraded (%s): %s", h.symbol, h.status, h.reason)
            self.state["coins"][h.symbol] = {"status": h.status, "drifted": h.drifted}
        self._emit(alerts)
        return alerts

    def signals_changed(self, calls: Mapping[str, CoinCall], now: datetime) -> list[Alert]:
        """Alerts for the coins whose call appeared, disappeared or flipped, or whose volatility
        regime changed, since the last signal seen for them (once per change)."""
        stamp = _stamp(now)
        alerts = []
        for symbol, now_call in calls.items():
            if now_call.signal == STALE:
                continue
            before = self.state["signals"].get(symbol)
            self.state["signals"][symbol] = {"signal": now_call.signal, "regime": now_call.regime}
            if before is None:
                log.info("%s: first signal seen: %s", symbol, now_call.signal)
                continue
            old = CoinCall(str(before.get("signal")), before.get("regime"))
            changes = []
            if old.call != now_call.call:
                changes.append(
                    f"{_call_words(now_call.call, now_call.signal)} "
                    f"(was {_call_words(old.call, old.signal)})"
                )
            if now_call.regime and old.regime and now_call.regime != old.regime:
                changes.append(f"volatility regime {now_call.regime} (was {old.regime})")
            if changes:
                detail = f": {now_call.detail}" if now_call.detail else ""
                alerts.append(
                    Alert(stamp, SIGNAL_CHANGED, symbol, f"{symbol}: {'; '.join(changes)}{detail}")
                )
        self._emit(alerts)
        return alerts

    def cycle_done(self, ok: bool, why: str, now: datetime) -> list[Alert]:
        """Count failing cycles; the second failure in a row is an alert (once per streak)."""
        self.state["failures"] = 0 if ok else int(self.state["failures"]) + 1
        alerts = []
        if self.state["failures"] == 2:
            alerts.append(
                Alert(_stamp(now), WATCH_FAILING, None, f"two watch cycles in a row failed: {why}")
            )
        self._emit(alerts)
        return alerts

    def _emit(self, alerts: list[Alert]) -> None:
        atomic_write_json(_state_path(self.home), self.state)
        if not alerts:
            return
        path = alerts_log(self.home)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("".join(a.line() + "\n" for a in alerts))
        for alert in alerts:
            log.warning("ALERT %s", alert.line())
            if self.notifier is not None:
                self.notifier.send(message_for(alert))

    def close(self, timeout: float = 10.0) -> None:
        """Give queued notifications up to ``timeout`` s to go out (before the process ends)."""
        if self.notifier is not None and not self.notifier.flush(timeout):
            log.warning("alerts: some notifications were not delivered before exit")


def _stamp(now: datetime) -> str:
    return str(pd.Timestamp(now).tz_convert("UTC").isoformat(timespec="seconds"))


def recent(home: Path, *, since: datetime | None = None, limit: int = 20) -> list[Alert]:
    """The last ``limit`` alerts from ``logs/alerts.log`` (oldest first), those at or after
    ``since`` when given; empty when nothing was ever alerted."""
    try:
        lines = alerts_log(home).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found = [a for a in map(Alert.parse, lines) if a is not None]
    if since is not None:
        cut = pd.Timestamp(since)
        cut = cut.tz_localize("UTC") if cut.tzinfo is None else cut
        found = [a for a in found if pd.Timestamp(a.time) >= cut]
    return found[-limit:] if limit else found
