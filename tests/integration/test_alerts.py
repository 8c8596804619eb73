"""Alerts: a planted degradation reaches a loopback receiver exactly once (through the older
CRYPTOVOLT_ALERT_WEBHOOK, now a json:// target); a failing Binance raises one alert at the second
failed cycle and the watch keeps running; a receiver that fails is retried off the watch loop's
thread; a redirect is a failed delivery. Apprise targets, Retry-After, signal changes and
``alerts test`` are in test_notify.py."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.clock import FileClock, set_file_clock
from core.live.alerts import Alert, Alerts, message_for, recent
from core.live.notify import WEBHOOK_ENV, Notifier
from core.live.targets import Target
from core.live.watch import Watch, WatchConfig
from core.signals import journal
from core.signals.ensemble import SignalKind
from tests.conftest import ROOT
from tests.live_home import DELAY, HOUR, continue_prices, prepare
from tests.unit.test_journal import make_signal
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


class Receiver:
    """A webhook receiver on 127.0.0.1: records every POST body; answers ``fail_first`` of them
    with 500, and none before ``gate`` is set (it is unless a test clears it); ``answers`` (status,
    headers) answer the first POSTs; with ``redirect`` (a status and a Location) it answers every
    request with that redirect instead. ``requests`` lists every (method, path), ``times`` when
    each POST arrived."""

    def __init__(
        self,
        *,
        fail_first: int = 0,
        redirect: tuple[int, str] | None = None,
        answers: list[tuple[int, dict[str, str]]] | None = None,
    ) -> None:
        self.bodies: list[dict] = []
        self.statuses: list[int] = []
        self.requests: list[tuple[str, str]] = []
        self.times: list[float] = []  # time.monotonic() of each POST
        self.fail_first, self.redirect = fail_first, redirect
        self.gate = threading.Event()
        self.gate.set()
        self.answers = list(answers or [])  # (status, headers) for the first POSTs, then 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

            def do_GET(self) -> None:  # noqa: N802
                receiver.requests.append(("GET", self.path))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:  # noqa: N802
                receiver.requests.append(("POST", self.path))
                receiver.times.append(time.monotonic())
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    body = json.loads(raw)
                except ValueError:  # a form or text target
                    body = {"raw": raw.decode("utf-8", "replace")}
                receiver.gate.wait()
                if receiver.answers:
                    status, headers = receiver.answers.pop(0)
                    receiver.statuses.append(status)
                    self.send_response(status)
                    for name, value in {**headers, "Content-Length": "4"}.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(b"nope")
                    return
                if receiver.redirect is not None:
                    status, location = receiver.redirect
                    receiver.statuses.append(status)
                    self.send_response(status)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 500 if len(receiver.statuses) < receiver.fail_first else 200
                receiver.statuses.append(status)
                if status == 200:
                    receiver.bodies.append(body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.json_url = self.url.replace("http://", "json://")

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def watched_home(home: Path) -> pd.Timestamp:
    return prepare(home)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _plant_missed_calls(home: Path, end: pd.Timestamp, n: int = 30) -> None:
    """``n`` BULLISH BTC calls of the champions (v1), shown at 60%, that all went down."""
    start = end - pd.Timedelta(hours=n + 40)
    times = [start + k * HOUR for k in range(n)]
    journal.record(
        home, [make_signal(SignalKind.BULLISH, time=t, confidence=0.6, version="v1") for t in times]
    )
    closes = pd.DataFrame({"open_time": times[0] + HOUR * np.arange(n + 10)})
    closes["close"] = closes["open"] = 99.0  # every exit below the 100 the calls were made at
    assert journal.resolve(home, {"BTCUSDT": closes}) == n


def _watch_once(home: Path, clock: Path, url: str, hook: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRYPTOVOLT_HOME": str(home), "BINANCE_BASE_URL": url}
    env[WEBHOOK_ENV] = hook
    return subprocess.run(
        [sys.executable, "-m", "core", "watch", "--once", "--coins", "BTC"]
        + ["--clock-file", str(clock)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_planted_degradation_fires_one_webhook_post_and_no_more_while_it_lasts(
    home: Path,
    watched_home: pd.Timestamp,
    fake_binance,
    receiver: Receiver,
):
    t0 = watched_home + DELAY
    clock = home / "clock.txt"
    set_file_clock(clock, t0)
    fake_binance.state.now_ms = lambda: int(FileClock(clock).now().timestamp() * 1000)
    continue_prices(fake_binance)
    _plant_missed_calls(home, watched_home)

    done = _watch_once(home, clock, fake_binance.url, receiver.url)
    assert done.returncode == 0, done.stdout + done.stderr
    set_file_clock(clock, t0 + HOUR)  # the next close: still degraded, so no second alert
    done = _watch_once(home, clock, fake_binance.url, receiver.url)
    assert done.returncode == 0, done.stdout + done.stderr

    state = json.loads((home / "live" / "alerts_state.json").read_text())
    assert state["signals"]["BTCUSDT"]["signal"] in {"BULLISH", "BEARISH", "NEUTRAL", "NO_EDGE"}
    assert not [b for b in receiver.bodies if b["kind"] == "signal_changed"]  # the same signal
    degraded = [b for b in receiver.bodies if b["kind"] == "degraded"]
    assert len(degraded) == 1
    assert degraded[0]["symbol"] == "BTCUSDT" and "degraded" in degraded[0]["message"]
    assert receiver.statuses.count(200) == len(receiver.bodies)
    logged = recent(home)
    assert [a.kind for a in logged if a.kind == "degraded"] == ["degraded"]
    assert len(logged) == len(receiver.bodies)  # every line in alerts.log was posted once
    assert recent(home, since=t0 + HOUR) == [a for a in logged if pd.Timestamp(a.time) >= t0 + HOUR]


def test_the_watch_alerts_a_changed_signal_once_and_not_again_while_it_holds(
    home: Path,
    watched_home: pd.Timestamp,
    fake_binance,
    receiver: Receiver,
):
    t0 = watched_home + DELAY
    clock = home / "clock.txt"
    set_file_clock(clock, t0)
    fake_binance.state.now_ms = lambda: int(FileClock(clock).now().timestamp() * 1000)
    continue_prices(fake_binance)
    done = _watch_once(home, clock, fake_binance.url, receiver.url)
    assert done.returncode == 0, done.stdout + done.stderr
    path = home / "live" / "alerts_state.json"
    state = json.loads(path.read_text())
    seen = state["signals"]["BTCUSDT"]["signal"]
    assert not [b for b in receiver.bodies if b["kind"] == "signal_changed"]  # first sight
    # the previous watch (as far as the state file knows) saw the opposite of what it sees now
    before = "NO_EDGE" if seen in {"BULLISH", "BEARISH"} else "BULLISH"
    state["signals"]["BTCUSDT"]["signal"] = before
    path.write_text(json.dumps(state))
    for k in (1, 2):  # the change, then the same signal again
        set_file_clock(clock, t0 + k * HOUR)
        done = _watch_once(home, clock, fake_binance.url, receiver.url)
        assert done.returncode == 0, done.stdout + done.stderr
    changed = [b for b in receiver.bodies if b["kind"] == "signal_changed"]
    assert len(changed) == 1, changed
    was = before if before in {"BULLISH", "BEARISH"} else "no call (NO EDGE)"
    assert f"(was {was})" in changed[0]["message"]
    # then the coin's verdict in the words of the Signals page and `signals` (core.verdict)
    verdict = r"BTCUSDT: .*\): (no call: |(BULLISH|BEARISH|NEUTRAL)\b.*such calls were right)"
    assert re.search(verdict, changed[0]["message"]), changed[0]["message"]
    assert changed[0]["title"] == "CryptoVolt: BTCUSDT signal changed"
    assert changed[0]["link"] == "http://localhost:8501/signals"
    assert [a.kind for a in recent(home)].count("signal_changed") == 1


def test_watch_keeps_running_while_binance_is_unreachable_and_alerts_once(
    home: Path,
    watched_home: pd.Timestamp,
    fake_binance,
    receiver: Receiver,
    monkeypatch,
):
    # an hour past the stored candles: each cycle has a candle to fetch (a top-up with
    # nothing missing asks Binance nothing, and would pass)
    t0 = watched_home + HOUR + DELAY
    clock = home / "clock.txt"
    set_file_clock(clock, t0)
    fake_binance.state.now_ms = lambda: int(FileClock(clock).now().timestamp() * 1000)
    continue_prices(fake_binance)
    monkeypatch.setenv("BINANCE_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv(WEBHOOK_ENV, receiver.url)
    watch = Watch(
        WatchConfig(coins=("BTCUSDT",), patient=False),
        home=home,
        clock=FileClock(clock, poll=0.02),
    )
    thread = threading.Thread(target=watch.run, daemon=True)
    thread.start()

    def wait_cycles(n: int) -> dict:
        """The state of cycle ``n`` (at t0 + n - 1 hours) once the watch wrote it (the counter
        moves before the state file is written)."""
        at = t0 + (n - 1) * HOUR

        def written() -> dict | None:
            try:
                last = json.loads((home / "live" / "watch.json").read_text())["last_cycle"] or {}
            except (OSError, ValueError, KeyError):
                return None
            return last if last.get("at") and pd.Timestamp(last["at"]) == at else None

        return wait_until(written, 120, f"the watch's cycle {n} at {at}")

    try:
        for k in range(3):  # three closes with Binance down
            if k:
                set_file_clock(clock, t0 + k * HOUR)
            cycle = wait_cycles(k + 1)
            assert not cycle["ok"] and "Binance cannot be reached" in cycle["why"]
        assert thread.is_alive()
        monkeypatch.setenv("BINANCE_BASE_URL", fake_binance.url)  # Binance is back
        set_file_clock(clock, t0 + 3 * HOUR)
        assert wait_cycles(4)["ok"]
    finally:
        watch.stop.set()
        thread.join(30)
    failing = [a for a in recent(home) if a.kind == "watch_failing"]
    assert len(failing) == 1 and "two watch cycles in a row failed" in failing[0].message
    assert [b["kind"] for b in receiver.bodies].count("watch_failing") == 1
    assert "trying again at the next close" in (home / "logs" / "watch.log").read_text()


def test_a_failing_receiver_is_retried_with_backoff_without_blocking_the_sender():
    slow = Receiver(fail_first=2)
    slow.gate.clear()  # the receiver answers nothing until the sender has returned
    try:
        notifier = Notifier([Target(slow.json_url, tries=4, backoff=0.05, timeout=5)])
        alert = Alert("2025-03-01T12:00:05+00:00", "degraded", "BTCUSDT", "planted")
        started = time.monotonic()
        notifier.send(message_for(alert))
        # the loop never waits on the receiver: a send that did would take the 5 s timeout
        assert time.monotonic() - started < 5
        assert slow.statuses == []
        slow.gate.set()
        assert notifier.flush(60)
        assert slow.statuses == [500, 500, 200]
        assert slow.bodies == [
            {
                "version": "1.0",
                "title": "CryptoVolt: BTCUSDT degraded",
                "message": "planted\nhttp://localhost:8501/monitor",
                "attachments": [],
                "type": "warning",
                "source": "cryptovolt",
                "time": "2025-03-01T12:00:05+00:00",
                "kind": "degraded",
                "symbol": "BTCUSDT",
                "link": "http://localhost:8501/monitor",
            }
        ]
        assert [(d.ok, d.tries) for d in notifier.deliveries] == [(True, 3)]
    finally:
        slow.close()


def test_alert_state_survives_a_restart_so_a_lasting_degradation_alerts_once(home: Path):
    from core.live.health import Health

    now = pd.Timestamp("2025-03-01T12:00:05Z")
    bad = [Health("BTCUSDT", "degraded", 0, "hit rate 20% below 55%")]
    assert len(Alerts(home=home).observe(bad, now)) == 1
    assert Alerts(home=home).observe(bad, now + HOUR) == []  # a new process, same state: no alert
    Alerts(home=home).observe([Health("BTCUSDT", "on_track", 0, "")], now + 2 * HOUR)
    again = Alerts(home=home).observe(bad + [Health("ETHUSDT", "on_track", 3, "")], now + 3 * HOUR)
    assert [(a.kind, a.symbol) for a in again] == [("degraded", "BTCUSDT"), ("drifted", "ETHUSDT")]


@pytest.mark.parametrize("status", [302, 307])
def test_a_redirecting_receiver_is_a_failed_delivery_and_nothing_is_sent_elsewhere(
    status: int, caplog: pytest.LogCaptureFixture
):
    elsewhere = Receiver()
    hook_site = Receiver(redirect=(status, elsewhere.url + "/stolen"))
    try:
        notifier = Notifier([Target(hook_site.json_url, tries=3, backoff=0.01)])
        with caplog.at_level(logging.INFO, logger="cryptovolt.watch"):
            notifier.send(message_for(Alert("2025-03-01T12:00:05+00:00", "degraded", "X", "p")))
            assert notifier.flush(10)
        assert hook_site.requests == [("POST", "/hook")]  # asked once: a redirect is no retry
        assert elsewhere.requests == []  # neither a bodiless GET (302) nor a re-post (307)
        assert "delivered" not in caplog.text
        assert f"failed after 1 try: HTTP {status} redirect to {elsewhere.url}/stolen" in (
            caplog.text
        )
    finally:
        elsewhere.close()
        hook_site.close()
