"""Notifications through Apprise URLs to loopback receivers: several targets at once, the JSON
body, a 429's Retry-After honoured, a slow receiver that never holds up the caller, redirects
never followed (our transport and Apprise's), a signal change alerted once per change, and
``python -m core alerts test`` saying per target whether it was delivered."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from core.errors import ConfigError
from core.live.alerts import Alerts, CoinCall
from core.live.health import Health
from core.live.notify import (
    URLS_ENV,
    WEBHOOK_ENV,
    Notifier,
    configured_urls,
    probe_message,
    save_urls,
    webhook_as_url,
)
from core.live.targets import Target
from tests.conftest import ROOT
from tests.core_cli import run_core
from tests.integration.test_alerts import Receiver

NOW = pd.Timestamp("2025-03-01T12:00:05Z")
HOUR = pd.Timedelta(hours=1)


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_every_configured_url_gets_each_alert(
    receivers, home: Path, monkeypatch: pytest.MonkeyPatch
):
    a, b = receivers(), receivers()
    monkeypatch.setenv(URLS_ENV, f"{a.json_url}, {b.json_url}")
    alerts = Alerts(home=home)
    fired = alerts.observe([Health("BTCUSDT", "degraded", 0, "hit rate 20% below 55%")], NOW)
    alerts.close(10)
    assert len(fired) == 1
    for r in (a, b):
        assert len(r.bodies) == 1
        body = r.bodies[0]
        assert body["title"] == "CryptoVolt: BTCUSDT degraded"
        assert body["message"].splitlines() == [
            "BTCUSDT is degraded: hit rate 20% below 55%",
            "http://localhost:8501/monitor",
        ]
        assert (body["kind"], body["symbol"], body["type"]) == ("degraded", "BTCUSDT", "warning")


def test_a_429_is_retried_only_after_the_retry_after_it_names(receivers):
    r = receivers(answers=[(429, {"Retry-After": "1"})])
    delivery = Target(r.json_url, tries=3, backoff=0.01).deliver(probe_message())
    assert delivery.ok and delivery.tries == 2, delivery
    assert r.statuses == [429, 200]
    assert r.times[1] - r.times[0] >= 1.0  # the backoff alone would be 0.01 s


def test_a_retry_after_beyond_the_limit_is_a_failed_delivery_not_an_early_retry(receivers):
    r = receivers(answers=[(429, {"Retry-After": "3600"})])
    started = time.monotonic()
    delivery = Target(r.json_url, tries=3, backoff=0.01).deliver(probe_message())
    assert time.monotonic() - started < 5
    assert not delivery.ok and "asked to wait 3600 s" in delivery.answer, delivery
    assert r.statuses == [429]


def test_a_target_that_keeps_failing_is_logged_with_its_answer(receivers, caplog):
    r = receivers(answers=[(503, {})] * 3)
    notifier = Notifier([Target(r.json_url, tries=3, backoff=0.01)])
    with caplog.at_level("INFO", logger="cryptovolt.watch"):
        notifier.send(probe_message())
        assert notifier.flush(10)
    assert r.statuses == [503, 503, 503]
    assert "failed after 3 tries: HTTP 503 Service Unavailable: nope" in caplog.text


def test_a_slow_receiver_never_holds_up_the_caller(receivers, home: Path):
    slow = receivers()
    slow.gate.clear()  # it answers nothing until the caller has returned
    alerts = Alerts(home=home, notifier=Notifier([Target(slow.json_url, timeout=5)]))
    started = time.monotonic()
    alerts.observe([Health("BTCUSDT", "degraded", 0, "planted")], NOW)
    alerts.signals_changed({"BTCUSDT": CoinCall("NEUTRAL")}, NOW)
    assert time.monotonic() - started < 5  # waiting on the receiver would take the timeout
    assert slow.bodies == []
    slow.gate.set()
    alerts.close(60)
    assert len(slow.bodies) == 1


def test_an_apprise_plugin_target_does_not_follow_a_redirect(receivers):
    elsewhere = receivers()
    site = receivers(redirect=(307, elsewhere.url + "/stolen"))
    form_url = site.url.replace("http://", "form://")  # Apprise's own transport, not ours
    delivery = Target(form_url, tries=2, backoff=0.01).deliver(probe_message())
    assert not delivery.ok and "307" in delivery.answer, delivery
    assert elsewhere.requests == []
    assert 1 <= len(site.requests) <= 2


def test_a_signal_change_alerts_once_per_change_and_survives_a_restart(receivers, home: Path):
    r = receivers()

    def step(k: int, signal: str, regime: str | None = None) -> list[str]:
        alerts = Alerts(
            home=home, notifier=Notifier([Target(r.json_url)])
        )  # a new process each time
        fired = alerts.signals_changed({"BTCUSDT": CoinCall(signal, regime)}, NOW + k * HOUR)
        alerts.close(10)
        return [a.message for a in fired]

    assert step(0, "NEUTRAL", "low") == []  # the first signal seen: nothing to compare
    assert step(1, "NEUTRAL", "low") == []
    assert step(2, "BULLISH", "low") == ["BTCUSDT: BULLISH (was no call (NEUTRAL))"]
    assert step(3, "BULLISH", "low") == []
    assert step(4, "STALE") == []  # no candles: says nothing about the call
    assert step(5, "BULLISH", "low") == []
    assert step(6, "BEARISH", "low") == ["BTCUSDT: BEARISH (was BULLISH)"]
    assert step(7, "BEARISH", "high") == ["BTCUSDT: volatility regime high (was low)"]
    assert step(8, "NO_EDGE", "high") == ["BTCUSDT: no call (NO EDGE) (was BEARISH)"]
    assert step(9, "NO_EDGE", "high") == []
    assert [b["kind"] for b in r.bodies] == ["signal_changed"] * 4
    assert {b["link"] for b in r.bodies} == {"http://localhost:8501/signals"}
    state = json.loads((home / "live" / "alerts_state.json").read_text())
    assert state["signals"]["BTCUSDT"] == {"signal": "NO_EDGE", "regime": "high"}


def test_urls_come_from_the_environment_the_monitor_page_and_the_old_webhook(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(URLS_ENV, "json://127.0.0.1:1/a\nntfy://topic")
    monkeypatch.setenv(WEBHOOK_ENV, "https://hooks.example/x?k=v")
    names = save_urls(["json://127.0.0.1:2/b", "json://127.0.0.1:1/a"], home)
    assert names == ["json://127.0.0.1:2/b", "json://127.0.0.1:1/a"]
    saved = home / "settings" / "alert_urls.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600  # URLs hold tokens
    assert configured_urls(home) == [
        "json://127.0.0.1:1/a",
        "ntfy://topic",
        "json://127.0.0.1:2/b",
        "jsons://hooks.example/x?-k=v",
    ]
    with pytest.raises(ConfigError, match="not a notification URL"):
        save_urls(["json://127.0.0.1:3/c", "nonsense://x"], home)
    assert json.loads(saved.read_text())["urls"] == ["json://127.0.0.1:2/b", "json://127.0.0.1:1/a"]
    assert webhook_as_url("http://h:8080/p") == "json://h:8080/p"


def _alerts_test(home: Path, urls: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRYPTOVOLT_HOME": str(home), URLS_ENV: urls}
    env.pop(WEBHOOK_ENV, None)
    return subprocess.run(
        [sys.executable, "-m", "core", "alerts", "test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_alerts_test_says_per_target_whether_it_was_delivered(receivers, home: Path):
    good, bad = receivers(), receivers(answers=[(500, {})] * 10)
    done = _alerts_test(home, f"{good.json_url} {bad.json_url}")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert f"{good.json_url}: delivered (1 try): delivered (HTTP 200)" in lines
    assert f"{bad.json_url}: FAILED (3 tries): HTTP 500 Internal Server Error: nope" in lines
    assert lines[-1] == "1 of 2 target(s) delivered."
    assert good.bodies[0]["title"] == "CryptoVolt: test alert"
    done = _alerts_test(home, good.json_url)
    assert done.returncode == 0 and "1 of 1 target(s) delivered." in done.stdout
    done = _alerts_test(home, "")
    assert done.returncode == 1 and done.stderr.startswith("error: no alert targets")


def test_a_url_apprise_cannot_use_stops_the_watch_in_one_line_saying_where_it_is(home: Path):
    done = run_core(
        home, "watch", "--once", timeout=120, **{URLS_ENV: "json://127.0.0.1:1/a bogus://x"}
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: 'bogus://…' is not a notification URL")
    assert lines[0].endswith(f"It is set in {URLS_ENV}.")
