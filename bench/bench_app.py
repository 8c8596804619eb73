"""App speed in a real browser (issue 12.4): cold start to the Data page, Signals for ten coins.

    .venv/bin/python bench/bench_app.py [--home DIR] [--cold-runs 3] [--repeat 5]

The app runs as TESTING-NOTES.md says (``python -m streamlit run streamlit_app.py --server.headless
true ...`` in its own process group, stopped with ``killpg``), driven by Playwright in Debian's
Chromium (``/usr/bin/chromium``, launched before the clock starts). Times are to a visible element:

1. cold start: from starting the ``streamlit run`` process to the Data page's "Fetch 2 years"
   button visible in the browser (the server's health check and the first script run included),
   ``--cold-runs`` fresh server processes; target <= 3 s;
2. Signals, ten coins, once the models are loaded: the first visit loads every model (reported);
   then, ``--repeat`` times, back to Data, every candle file touched (a new mtime: candles and
   signals are recomputed, the models stay loaded, as after a top-up), click Signals, until ten
   signal cards are visible; target <= 1 s (median); and the same without touching (all cached).

The home folder holds ten coins trained with every default kind (bench_signals.py's setup: the
nine sample coins plus POL from the fake Binance; minutes); ``--home`` reuses one, and
``make bench`` shares one with bench_signals.py. Exit code 0 when both targets are met.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_signals import SAMPLE_COINS, SETUP, _python  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

COLD_S, SIGNALS_S = 3.0, 1.0
CARDS = '[class*="st-key-signal_card_"]'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(home: Path, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py"]
    cmd += ["--server.headless", "true", "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    cmd += ["--server.fileWatcherType", "none"]
    env = {**os.environ, "CRYPTOVOLT_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "2"}
    log = open(home / f"streamlit-bench-{port}.log", "wb")  # noqa: SIM115 (the child keeps it)
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _wait_healthy(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/_stcore/health", timeout=1).text.strip() == "ok":
                return
        if proc.poll() is not None:
            raise SystemExit("streamlit did not start; see its log in the home folder")
        time.sleep(0.02)
    raise SystemExit("streamlit did not answer its health check within 60 s")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _no_exception(page) -> None:
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        raise SystemExit(f"the app raised: {errors.first.inner_text()[:500]}")


def _cold_start(page, home: Path) -> tuple[float, float, subprocess.Popen, str]:
    """Seconds from Popen to healthy and to the Data page's fetch button; the running server."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    proc = _start(home, port)
    _wait_healthy(url, proc)
    healthy = time.perf_counter() - started
    page.goto(url)
    page.get_by_role("button", name="Fetch 2 years").wait_for(state="visible", timeout=60_000)
    shown = time.perf_counter() - started
    _no_exception(page)
    return healthy, shown, proc, url


def _to_signals(page, expected: int) -> float:
    started = time.perf_counter()
    page.get_by_role("link", name="Signals").first.click()
    page.wait_for_function(
        f"document.querySelectorAll('{CARDS}').length >= {expected}", timeout=120_000
    )
    took = time.perf_counter() - started
    _no_exception(page)
    return took


def _to_data(page) -> None:
    page.get_by_role("link", name="Data").first.click()
    page.get_by_role("button", name="Fetch 2 years").wait_for(state="visible", timeout=60_000)
    page.wait_for_function(f"document.querySelectorAll('{CARDS}').length === 0", timeout=30_000)


def _touch_candles(home: Path) -> None:
    now = time.time()
    for path in (home / "data" / "raw").glob("*.parquet"):
        os.utime(path, (now, now))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="reuse (or create) this trained home folder")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--kinds",
        default="",
        help="train only these kinds in the setup (default: every default kind, as bench_signals)",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    home = args.home or Path(tempfile.mkdtemp(prefix="cryptovolt-bench-app-"))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "models").exists():
        print(f"training ten coins in {home} (setup, a few minutes)…", flush=True)
        setup = SETUP % ([*SAMPLE_COINS, "POL"],)
        if args.kinds:  # a quicker setup: fewer kinds per coin (the caveat goes in the results)
            setup = setup.replace(
                "train_coin(coin, ", f"train_coin(coin, models={args.kinds.split(',')!r}, "
            )
        _python(setup, home)
    coins = len(list((home / "data" / "raw").glob("*.parquet")))
    print(
        f"home {home}: {coins} coins with models; {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    colds, healths = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for run in range(args.cold_runs):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                healthy, shown, proc, _ = _cold_start(page, home)
                healths.append(healthy)
                colds.append(shown)
                print(f"  cold start {run + 1}: healthy {healthy:.2f} s, Data page {shown:.2f} s")
                if run < args.cold_runs - 1:
                    page.close()
                    _stop(proc)
            try:
                first = _to_signals(page, coins)
                print(f"  Signals, first visit (loads every model): {first:.2f} s", flush=True)
                touched, cached = [], []
                for _ in range(args.repeat):
                    _to_data(page)
                    _touch_candles(home)
                    touched.append(_to_signals(page, coins))
                    _to_data(page)
                    cached.append(_to_signals(page, coins))
            finally:
                _stop(proc)
        finally:
            browser.close()
    cold, touched_med, cached_med = (
        statistics.median(colds),
        statistics.median(touched),
        statistics.median(cached),
    )
    print(f"cold start to the Data page: {', '.join(f'{s:.2f}' for s in colds)} s")
    print(
        f"Signals ({coins} cards), candles touched (signals recomputed, models loaded): "
        f"{', '.join(f'{s:.2f}' for s in touched)} s"
    )
    print(f"Signals ({coins} cards), all cached: {', '.join(f'{s:.2f}' for s in cached)} s")
    checks = {
        f"cold start to the Data page, median {cold:.2f} s <= {COLD_S} s": cold <= COLD_S,
        f"Signals for {coins} coins once models are loaded, median {touched_med:.2f} s "
        f"<= {SIGNALS_S} s": touched_med <= SIGNALS_S and coins >= 10,
        f"Signals, all cached, median {cached_med:.2f} s <= {SIGNALS_S} s": (
            cached_med <= SIGNALS_S
        ),
    }
    for label, passed in checks.items():
        print(f"  [{'ok' if passed else 'FAIL'}] {label}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
