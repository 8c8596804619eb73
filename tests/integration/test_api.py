"""The read-only HTTP API against running servers: ``python -m core serve`` and the dashboard's own
``streamlit run`` (which mounts it at ``/api/v1``), read with a real HTTP client.

Each answer is compared with the CLI's ``--json`` run as a subprocess on the same home and clock:
the same bytes. Off this machine (a proxy's ``X-Forwarded-For``, another ``Host``, a peer on a
non-loopback address, or a server listening beyond the loopback) a request without the bearer
token is refused with 401; any method but GET is 405; nothing is written to the journal.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psutil
import pytest
import requests

from core.data.store import load_candles
from tests.card_home import ROOT, copy_carded_into
from tests.streamlit_server import Streamlit
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

TOKEN = "s3cret-token-for-tests"
OFF_MACHINE = {"X-Forwarded-For": "203.0.113.9"}  # what a reverse proxy adds


def cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.rstrip("\n")


class Serve:
    """``python -m core serve --port 0 ARGS`` in its own process group; ``.url`` once it listens."""

    def __init__(
        self, log: Path, *args: str, env: dict[str, str] | None = None, home: Path | None = None
    ) -> None:
        self.log = log
        first = ["--home", str(home)] if home is not None else []  # a global option
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "core", *first, "serve", "--port", "0", *args],
                cwd=ROOT,
                env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self.port = wait_until(self._port, 60, f"serve to print its URL in {log}")
        except BaseException:
            self.stop()
            raise

    def _port(self) -> int | None:
        if self.proc.poll() is not None:
            raise AssertionError(f"serve exited {self.proc.returncode}:\n{self.log.read_text()}")
        found = re.search(r"http://\S+:(\d+)/api/v1", self.log.read_text())
        return int(found.group(1)) if found else None

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@contextlib.contextmanager
def serving(
    log: Path, *args: str, env: dict[str, str] | None = None, home: Path | None = None
) -> Iterator[Serve]:
    server = Serve(log, *args, env=env, home=home)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def carded(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The carded home (BTC calls, ETH has no edge) with the clock one hour after BTC's last
    candle closed, for the servers and the CLI alike."""
    copy_carded_into(home)
    last = load_candles("BTCUSDT")["open_time"].iloc[-1]
    monkeypatch.setenv("CRYPTOVOLT_NOW", (last + pd.Timedelta(hours=2)).isoformat())
    monkeypatch.delenv("CRYPTOVOLT_API_TOKEN", raising=False)
    return home


def _same_as_the_cli(base: str, headers: dict[str, str] | None = None) -> None:
    """Every read route of the API at ``base`` answers the bytes the CLI prints."""
    pairs = {
        "/signals": ("signals", "--json", "--no-journal"),
        "/signals?coins=ETH": ("signals", "--coins", "ETH", "--json", "--no-journal"),
        "/models": ("models", "--json"),
        "/models/xgb_direction_btcusdt": ("models", "show", "xgb_direction_btcusdt", "--json"),
        "/models/xgb_direction_ethusdt?version=v2": (
            "models",
            "show",
            "xgb_direction_ethusdt",
            "v2",
            "--json",
        ),
    }
    for path, args in pairs.items():
        answer = requests.get(base + path, headers=headers, timeout=120)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["content-type"] == "application/json"
        assert answer.text == cli(*args), path
    one = requests.get(base + "/signals/btc", headers=headers, timeout=120)
    assert one.status_code == 200, one.text
    signals = requests.get(base + "/signals", headers=headers, timeout=120).json()
    assert one.json() == signals[0] and one.json()["symbol"] == "BTCUSDT"
    assert {s["signal"] for s in signals} >= {"NO_EDGE"}  # ETH: no edge, as the CLI says


def test_serve_answers_what_the_cli_prints_and_writes_nothing(carded: Path):
    with serving(carded / "serve.log") as server:
        base = f"http://127.0.0.1:{server.port}/api/v1"
        health = requests.get(base + "/health", timeout=30).json()
        assert health["status"] == "ok" and health["api"] == "v1"
        _same_as_the_cli(base)
        missing = requests.get(base + "/signals/SOL", timeout=120)
        assert missing.status_code == 404 and "SOLUSDT" in missing.json()["error"]
        assert requests.get(base + "/models/nope_x", timeout=30).status_code == 404
        assert requests.get(base + "/models/..", timeout=30).status_code == 404
        assert requests.get(base + "/signals?vol_target=abc", timeout=30).status_code == 400
        spec = requests.get(base + "/openapi.json", timeout=30).json()
        assert spec["openapi"].startswith("3.") and set(spec["paths"]) == {
            f"/api/v1{p}"
            for p in (
                "/health",
                "/signals",
                "/signals/{coin}",
                "/models",
                "/models/{name}",
                "/openapi.json",
            )
        }
        for verb in ("POST", "PUT", "DELETE", "PATCH"):
            refused = requests.request(verb, base + "/signals", timeout=30)
            assert refused.status_code == 405, verb
            # Starlette keeps a route's methods in a set: the order varies between runs
            assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD"}
            assert "read-only" in refused.json()["error"]
    # the CLI's comparisons ran with --no-journal and the API never journals: nothing recorded
    assert not (carded / "journal").exists() or not any((carded / "journal").rglob("*.jsonl"))


def test_serve_answers_from_the_home_its_home_option_names(carded: Path, tmp_path: Path):
    """``core --home X serve`` answers from X although ``CRYPTOVOLT_HOME`` names another (empty)
    folder: the CLI's context is handed to the API, no module global holds the home."""
    empty = tmp_path / "empty-home"
    empty.mkdir()
    log = tmp_path / "serve-home.log"
    with serving(log, env={"CRYPTOVOLT_HOME": str(empty)}, home=carded) as server:
        base = f"http://127.0.0.1:{server.port}/api/v1"
        models = requests.get(base + "/models", timeout=60)
        assert models.status_code == 200 and "xgb_direction_btcusdt" in models.text
        btc = requests.get(base + "/signals/BTC", timeout=120)
        assert btc.status_code == 200, btc.text
    assert not any(empty.iterdir())  # nothing was read from or written to the other home


def test_off_this_machine_a_request_needs_the_token(carded: Path):
    with serving(carded / "serve.log", env={"CRYPTOVOLT_API_TOKEN": TOKEN}) as server:
        base = f"http://127.0.0.1:{server.port}/api/v1"
        assert requests.get(base + "/health", timeout=30).status_code == 200  # this machine
        for headers in (OFF_MACHINE, {"Host": "cryptovolt.example.com"}):
            refused = requests.get(base + "/models", headers=headers, timeout=30)
            assert refused.status_code == 401, headers
            assert refused.headers["www-authenticate"] == "Bearer"
            assert "Authorization: Bearer" in refused.json()["error"]
            wrong = {**headers, "Authorization": "Bearer nope"}
            assert requests.get(base + "/models", headers=wrong, timeout=30).status_code == 401
        with_token = {**OFF_MACHINE, "Authorization": f"Bearer {TOKEN}"}
        assert requests.get(base + "/models", headers=with_token, timeout=30).status_code == 200
        posted = requests.post(base + "/models", headers=with_token, timeout=30)
        assert posted.status_code == 405
    with serving(carded / "serve2.log") as server:  # no token set: off-machine requests refused
        base = f"http://127.0.0.1:{server.port}/api/v1"
        refused = requests.get(base + "/health", headers=OFF_MACHINE, timeout=30)
        assert refused.status_code == 401 and "no API token is set" in refused.json()["error"]


def _outside_address() -> str | None:
    """An IPv4 address of this machine that is not a loopback one (None when it has none)."""
    for addresses in psutil.net_if_addrs().values():
        for a in addresses:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                return str(a.address)
    return None


def test_serving_beyond_the_loopback_needs_a_token_on_every_request(carded: Path):
    done = subprocess.run(
        [sys.executable, "-m", "core", "serve", "--host", "0.0.0.0", "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: --host 0.0.0.0 listens beyond this machine")
    outside = _outside_address()
    with serving(carded / "serve.log", "--host", "0.0.0.0", "--token", TOKEN) as server:
        for host in ["127.0.0.1"] + ([outside] if outside else []):
            base = f"http://{host}:{server.port}/api/v1"
            refused = requests.get(base + "/health", timeout=30)
            assert refused.status_code == 401, host
            auth = {"Authorization": f"Bearer {TOKEN}"}
            assert requests.get(base + "/health", headers=auth, timeout=30).status_code == 200


def test_the_dashboard_serves_the_api_beside_its_pages(carded: Path):
    app = Streamlit(ROOT / "streamlit_app.py", dict(os.environ), carded / "streamlit.log")
    try:
        base = f"{app.url}/api/v1"
        _same_as_the_cli(base)
        assert requests.post(base + "/signals", timeout=30).status_code == 405
        assert requests.get(base + "/models", headers=OFF_MACHINE, timeout=30).status_code == 401
        assert requests.get(app.url + "/", timeout=30).status_code == 200  # the pages still
    finally:
        app.stop()


def test_a_dashboard_listening_beyond_the_loopback_asks_every_request_for_the_token(
    carded: Path,
):
    args = ("--server.headless", "true", "--server.address", "0.0.0.0")
    args += ("--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none")
    env = {**os.environ, "CRYPTOVOLT_API_TOKEN": TOKEN}
    app = Streamlit(ROOT / "streamlit_app.py", env, carded / "streamlit.log", args=args)
    try:
        base = f"{app.url}/api/v1"
        assert requests.get(base + "/health", timeout=30).status_code == 401  # even from here
        auth = {"Authorization": f"Bearer {TOKEN}"}
        answer = requests.get(base + "/models", headers=auth, timeout=60)
        assert answer.status_code == 200 and answer.text == cli("models", "--json")
    finally:
        app.stop()


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_reading_signals_leaves_a_journal_with_due_calls_as_it_was(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    from tests.monitor_journal import journal_home

    now = journal_home(home)  # 110 recorded calls, every one past its horizon, none judged
    monkeypatch.setenv("CRYPTOVOLT_NOW", now.isoformat())
    monkeypatch.delenv("CRYPTOVOLT_API_TOKEN", raising=False)
    before = _files(home / "journal")
    assert before
    with serving(home / "serve.log") as server:
        base = f"http://127.0.0.1:{server.port}/api/v1"
        answer = requests.get(base + "/signals", timeout=120)
        assert answer.status_code == 200 and answer.json()[0]["symbol"] == "BTCUSDT"
        assert requests.get(base + "/signals/BTC", timeout=120).status_code == 200
    assert _files(home / "journal") == before  # the CLI's signals would have judged them
