"""Fetch benchmark: ten coins x 730 days of 1h from the fake Binance with 50 ms per request.

Targets (issue 2): the full fetch in at most 5 s wall with at most 1.05 x the minimum number of
klines requests (ceil(candles / 1000) per coin), and an up-to-date refetch of all ten in at most
1 s. The fake runs in its own process (like a remote server, it does not share our GIL); the
home folder is a temp dir, so nothing lands in the project.

    .venv/bin/python bench/bench_fetch.py [--workers 4] [--latency 0.05] [--days 730]

Exit code 0 when every target is met.
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--days", type=int, default=730)
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="cryptovolt-bench-")
    os.environ["CRYPTOVOLT_HOME"] = home
    from core.data.binance import KLINES_LIMIT, BinanceClient
    from core.data.coins import DEFAULT_COINS
    from core.data.fetch import FetchStatus, expected_candles, fetch_coins
    from core.data.store import load_candles

    port = _free_port()
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_binance", "--port", str(port)]
        + ["--latency", str(args.latency)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, fake)
        per_coin = expected_candles(days=args.days)
        minimum = len(DEFAULT_COINS) * math.ceil(per_coin / KLINES_LIMIT)

        client = BinanceClient(url, pool_size=args.workers)
        started = time.perf_counter()
        results = fetch_coins(
            DEFAULT_COINS, days=args.days, max_workers=args.workers, client=client
        )
        full_s = time.perf_counter() - started
        full_requests = client.requests_sent
        rows = {r.symbol: len(load_candles(r.symbol)) for r in results}

        client2 = BinanceClient(url, pool_size=args.workers)
        started = time.perf_counter()
        again = fetch_coins(DEFAULT_COINS, days=args.days, max_workers=args.workers, client=client2)
        refetch_s = time.perf_counter() - started
        client.close()
        client2.close()
    finally:
        fake.terminate()
        fake.wait()

    ok_status = all(r.status is FetchStatus.UP_TO_DATE for r in results + again)
    ok_rows = all(n == per_coin for n in rows.values())
    checks = {
        f"full fetch wall <= 5 s ({full_s:.2f} s)": full_s <= 5,
        f"klines requests <= 1.05 x {minimum} ({full_requests})": full_requests <= 1.05 * minimum,
        f"up-to-date refetch <= 1 s ({refetch_s:.2f} s, {client2.requests_sent} requests)": (
            refetch_s <= 1
        ),
        f"every coin up to date with {per_coin:,} candles": ok_status and ok_rows,
    }
    total = sum(rows.values())
    print(
        f"coins: {len(rows)}, days: {args.days}, workers: {args.workers}, "
        f"latency: {args.latency * 1000:.0f} ms/request"
    )
    print(f"full fetch: {full_s:.2f} s, {total:,} candles, {total / full_s:,.0f} candles/s")
    print(
        f"klines requests: {full_requests} (minimum {minimum}, ratio {full_requests / minimum:.3f})"
    )
    print(f"up-to-date refetch: {refetch_s:.3f} s, {client2.requests_sent} requests")
    for label, passed in checks.items():
        print(f"  [{'ok' if passed else 'FAIL'}] {label}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
