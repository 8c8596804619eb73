"""Fetch benchmark (issue 12.1): ten coins x 730 days of 1h from the fake Binance at 50 ms/request.

Targets, each printed beside its figure and its bound:

- full fetch in-process <= 2.0 s wall (median of ``--runs``), with exactly the minimum number of
  klines requests (ceil(17,520 / 1000) = 18 per coin, 180 in all) plus one exchangeInfo (the
  weight limit, read before the first klines request); the latency bound is three round trips
  (exchangeInfo, every coin's probe page, then the other 17 pages of each at once) when 170
  requests fit in the requests in flight, about 0.15-0.35 s;
- up-to-date refetch of the ten in-process <= 0.3 s (no request);
- the same full fetch from the CLI (``python -m core fetch``, a fresh interpreter and home)
  <= 3.0 s wall including interpreter start;
- an unreachable host (a closed port) fails every coin in <= 1 s, in words.

The fake runs in its own process (like a remote server it does not share our GIL; its CPU time is
printed, since on 2 cores it competes with the client). ``--breakdown`` adds where the client's
CPU goes (thread CPU time per stage: HTTP, decoding, filtering, saving).

    .venv/bin/python bench/bench_fetch.py [--runs 3] [--workers N] [--latency 0.05] [--breakdown]

Exit code 0 when every target is met.
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FULL_S, REFETCH_S, CLI_S, UNREACHABLE_S = 2.0, 0.3, 3.0, 1.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_up(url: str, proc: subprocess.Popen) -> None:
    import requests

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/v3/ping", timeout=1).ok:
                return
        except requests.RequestException:
            if proc.poll() is not None:
                raise RuntimeError("the fake Binance did not start") from None
            time.sleep(0.1)
    raise RuntimeError("the fake Binance did not answer within 30 s")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Breakdown:
    """Thread CPU time per stage, by wrapping the functions of each stage (outermost call)."""

    def __init__(self) -> None:
        self.seconds: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def wrap(self, owner: object, attr: str, label: str) -> None:
        inner: Callable = getattr(owner, attr)

        def timed(*args, **kwargs):
            start = time.thread_time()
            try:
                return inner(*args, **kwargs)
            finally:
                with self._lock:
                    self.seconds[label] += time.thread_time() - start

        setattr(owner, attr, timed)

    def install(self) -> None:
        import requests

        from core.data import binance, coin_fetch, store

        self.wrap(requests.Session, "get", "HTTP (requests/urllib3, one GET)")
        self.wrap(binance, "decode_klines", "decode body -> frame (pyarrow CSV reader)")
        self.wrap(coin_fetch.CoinFetch, "_page", "one page in all (GET + decode + filter)")
        self.wrap(coin_fetch, "_join", "join pages onto the stored run")
        self.wrap(store, "save_candles", "save (normalize + parquet zstd + fsync)")
        self.wrap(store, "load_candles", "load stored file")
        self.wrap(store, "coverage", "coverage after the fetch")


def _cli_fetch(url: str, days: int, workers: int | None) -> tuple[float, int, str]:
    home = tempfile.mkdtemp(prefix="cryptovolt-bench-cli-")
    cmd = [sys.executable, "-m", "core", "fetch", "--days", str(days), "--base-url", url]
    if workers:
        cmd += ["--workers", str(workers)]
    env = {**os.environ, "CRYPTOVOLT_HOME": home}
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    return wall, proc.returncode, proc.stderr.strip().splitlines()[-1:] and proc.stderr or ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="cap on requests in flight")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--breakdown", action="store_true")
    args = parser.parse_args()

    os.environ["CRYPTOVOLT_HOME"] = tempfile.mkdtemp(prefix="cryptovolt-bench-")
    from core import config
    from core.data import fetch as fetch_module
    from core.data.binance import KLINES_LIMIT, BinanceClient
    from core.data.coins import DEFAULT_COINS
    from core.data.fetch import fetch_coins
    from core.data.fetch_status import FetchStatus, expected_candles
    from core.data.store import load_candles

    breakdown = Breakdown()
    if args.breakdown:
        breakdown.install()
    port = _free_port()
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_binance", "--port", str(port)]
        + ["--latency", str(args.latency)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    per_coin = expected_candles(days=args.days)
    minimum = len(DEFAULT_COINS) * math.ceil(per_coin / KLINES_LIMIT)
    fulls, refetches, requests_sent, rows_ok, status_ok = [], [], [], True, True
    other_requests: list[int] = []
    try:
        _wait_up(url, fake)
        fake_cpu0, our_cpu0 = _cpu_seconds(fake.pid), time.process_time()
        for run in range(args.runs):
            os.environ["CRYPTOVOLT_HOME"] = tempfile.mkdtemp(prefix=f"cryptovolt-bench-{run}-")
            with BinanceClient(url) as client:
                started = time.perf_counter()
                results = fetch_coins(
                    DEFAULT_COINS, days=args.days, max_workers=args.workers, client=client
                )
                fulls.append(time.perf_counter() - started)
                requests_sent.append(client.sent["/api/v3/klines"])
                other_requests.append(client.requests_sent - client.sent["/api/v3/klines"])
            rows_ok &= all(len(load_candles(r.symbol)) == per_coin for r in results)
            with BinanceClient(url) as client:
                started = time.perf_counter()
                again = fetch_coins(
                    DEFAULT_COINS, days=args.days, max_workers=args.workers, client=client
                )
                refetches.append(time.perf_counter() - started)
                requests_sent.append(client.requests_sent)  # the refetch's, of any kind: 0
            status_ok &= all(r.status is FetchStatus.UP_TO_DATE for r in results + again)
        fake_cpu = (_cpu_seconds(fake.pid) - fake_cpu0) / args.runs
        our_cpu = (time.process_time() - our_cpu0) / args.runs
        in_flight = fetch_module._in_flight(
            BinanceClient(url), args.workers or config.FETCH_MAX_IN_FLIGHT
        )
        cli_wall, cli_rc, cli_err = _cli_fetch(url, args.days, args.workers)
    finally:
        fake.terminate()
        fake.wait()

    dead = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    os.environ["CRYPTOVOLT_HOME"] = tempfile.mkdtemp(prefix="cryptovolt-bench-dead-")
    started = time.perf_counter()
    dead_results = fetch_coins(DEFAULT_COINS, days=args.days, base_url=dead)
    dead_s = time.perf_counter() - started
    dead_ok = all(
        r.status is FetchStatus.FAILED and "Cannot reach" in r.reason for r in dead_results
    )

    full, refetch = statistics.median(fulls), statistics.median(refetches)
    full_requests, refetch_requests = requests_sent[0::2], requests_sent[1::2]
    latency_bound = args.latency * (2 + math.ceil((minimum - len(DEFAULT_COINS)) / in_flight))
    total = len(DEFAULT_COINS) * per_coin
    print(
        f"coins: {len(DEFAULT_COINS)}, days: {args.days}, latency: {args.latency * 1000:.0f} "
        f"ms/request, requests in flight: {in_flight} (budget room, cap "
        f"{args.workers or config.FETCH_MAX_IN_FLIGHT}), runs: {args.runs}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"full fetch: {', '.join(f'{s:.2f}' for s in fulls)} s (median {full:.2f} s, "
        f"{total / full:,.0f} candles/s); latency bound {latency_bound:.2f} s; CPU per run: "
        f"client {our_cpu:.2f} s (incl. refetch), fake server {fake_cpu:.2f} s"
    )
    print(
        f"klines requests per full fetch: {full_requests} (minimum {minimum}); other requests "
        f"(exchangeInfo): {other_requests}"
    )
    print(
        f"up-to-date refetch: {', '.join(f'{s:.3f}' for s in refetches)} s (median "
        f"{refetch:.3f} s), requests {refetch_requests}"
    )
    print(f"CLI full fetch incl. interpreter start: {cli_wall:.2f} s (exit {cli_rc})")
    print(f"unreachable host, ten coins: {dead_s:.3f} s; reason: {dead_results[0].reason}")
    if args.breakdown:
        print("client thread CPU by stage, all runs (nested stages are inside 'one page'):")
        for label, seconds in breakdown.seconds.most_common():
            print(f"  {seconds:7.3f} s  {label}")
    checks = {
        f"full fetch median {full:.2f} s <= {FULL_S} s": full <= FULL_S,
        f"klines requests = minimum {minimum} ({sorted(set(full_requests))}), one exchangeInfo": (
            set(full_requests) == {minimum} and set(other_requests) == {1}
        ),
        f"up-to-date refetch median {refetch:.3f} s <= {REFETCH_S} s, no request": (
            refetch <= REFETCH_S and set(refetch_requests) == {0}
        ),
        f"every coin up to date with {per_coin:,} candles": status_ok and rows_ok,
        f"CLI full fetch {cli_wall:.2f} s <= {CLI_S} s, exit 0": cli_wall <= CLI_S and not cli_rc,
        f"unreachable host fails all ten in {dead_s:.3f} s <= {UNREACHABLE_S} s, in words": (
            dead_s <= UNREACHABLE_S and dead_ok
        ),
    }
    if cli_rc:
        print(cli_err, file=sys.stderr)
    for label, passed in checks.items():
        print(f"  [{'ok' if passed else 'FAIL'}] {label}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
