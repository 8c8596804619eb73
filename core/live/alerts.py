"""Alerts: a coin turned degraded or drifted, or watch cycles keep failing.

Edge triggered: an alert fires once when a coin *turns* degraded (or drifted, or cycles start
failing twice in a row), not on every cycle while it stays so; the last state seen is kept in
``{home}/live/alerts_state.json`` so a restarted watch does not fire again. Each alert is one
line in ``{home}/logs/alerts.log`` (``time | kind | coin | message``) and, when
``CRYPTOVOLT_ALERT_WEBHOOK`` is set, one JSON POST to that URL from a background thread, retried
with exponential backoff on network errors, 429 and 5xx, so a slow or dead receiver never holds
up the watch loop. :func:`recent` reads the log back for the app's banner.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core import config
from core.atomic import atomic_write_json
from core.live.health import Health

__all__ = ["WEBHOOK_ENV", "Alert", "Alerts", "Webhook", "alerts_log", "recent"]

WEBHOOK_ENV = "CRYPTOVOLT_ALERT_WEBHOOK"
#: What an alert is about.
DEGRADED, DRIFTED, WATCH_FAILING = "degraded", "drifted", "watch_failing"

log = logging.getLogger("cryptovolt.watch")


def alerts_log(home: Path | None = None) -> Path:
    """``{home}/logs/alerts.log``."""
    return (Path(home) if home else config.home()) / "logs" / "alerts.log"


def _state_path(home: Path | None) -> Path:
    return (Path(home) if home else config.home()) / "live" / "alerts_state.json"


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


class Webhook:
    """Posts alerts as JSON to ``url`` from one background thread; :meth:`send` never blocks.

    Each alert is tried up to ``tries`` times, waiting ``backoff`` seconds after the first
    failure and twice as long after each next one (capped at ``backoff_max``).
    """

    def __init__(
        self,
        url: str,
        *,
        tries: int = 5,
        backoff: float = 1.0,
        backoff_max: float = 60.0,
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.tries, self.backoff, self.backoff_max, self.timeout = (
            tries,
            backoff,
            backoff_max,
            timeout,
        )
        self._queue: queue.Queue[Alert] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(self, alert: Alert) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="alert-webhook", daemon=True)
                self._thread.start()
        self._queue.put_nowait(alert)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait up to ``timeout`` s for queued alerts to be delivered (or given up); True if done."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._queue.all_tasks_done.wait(left)
        return True

    def _run(self) -> None:
        import requests

        session = requests.Session()
        while True:
            alert = self._queue.get()
            try:
                self._deliver(session, alert)
            finally:
                self._queue.task_done()

    def _deliver(self, session: Any, alert: Alert) -> None:
        import requests

        wait = self.backoff
        for attempt in range(1, self.tries + 1):
            try:
                # A redirect is never followed: on a 302 requests would re-send the alert as a
                # bodiless GET, on a 307 post it in full to whatever host the Location names.
                resp = session.post(
                    self.url, json=alert.to_dict(), timeout=self.timeout, allow_redirects=False
                )
                if 300 <= resp.status_code < 400:
                    log.warning(
                        "alert webhook: failed to deliver %s: HTTP %d redirect to %s "
                        "(redirects are not followed; point the webhook at the final URL)",
                        alert.kind,
                        resp.status_code,
                        resp.headers.get("Location", "(no Location)"),
                    )
                    return
                if resp.status_code < 300:
                    log.info("alert webhook: delivered %s %s", alert.kind, alert.symbol or "")
                    return
                retry = resp.status_code == 429 or resp.status_code >= 500
                why = f"HTTP {resp.status_code}"
            except requests.RequestException as exc:
                retry, why = True, f"{type(exc).__name__}: {exc}"
            if not retry or attempt == self.tries:
                log.warning(
                    "alert webhook: gave up on %s after %d tries (%s)", alert.kind, attempt, why
                )
                return
            log.warning("alert webhook: try %d failed (%s); retrying in %.1fs", attempt, why, wait)
            time.sleep(wait)
            wait = min(wait * 2, self.backoff_max)


class Alerts:
    """Decides which changes are alerts and sends each one to the log and the webhook."""

    def __init__(self, *, home: Path | None = None, webhook: Webhook | None = None) -> None:
        self.home = Path(home) if home else config.home()
        url = os.environ.get(WEBHOOK_ENV, "").strip()
        self.webhook = webhook or (Webhook(url) if url else None)
        try:
            self.state = json.loads(_state_path(self.home).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.state = {}
        self.state.setdefault("coins", {})
        self.state.setdefault("failures", 0)

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
            if self.webhook is not None:
                self.webhook.send(alert)

    def close(self, timeout: float = 10.0) -> None:
        """Give queued webhook posts up to ``timeout`` s to go out (before the process ends)."""
        if self.webhook is not None and not self.webhook.flush(timeout):
            log.warning("alert webhook: some alerts were not delivered before exit")


def _stamp(now: datetime) -> str:
    return pd.Timestamp(now).tz_convert("UTC").isoformat(timespec="seconds")


def recent(
    home: Path | None = None, *, since: datetime | None = None, limit: int = 20
) -> list[Alert]:
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
