"""Issue 17.1's scenario 1 from the CLI: a fetch against a Binance that throttles hard.

The fake Binance (``tests/fake_binance.py``, in this process, on 127.0.0.1) counts request weight
per rolling window (24 per 3 s), answers 429 with ``Retry-After`` past it and bans (418) any
request arriving during that back-off; 8% of its answers are 5xx and 5% of its klines bodies are
cut off. ``python -m core fetch --coins BTC,ETH,SOL,POL --days 730 --base-url URL`` runs in a
fresh interpreter on a temp home. Printed: every answer by status, the requests that arrived
during a back-off or ban, the wall time, the exit code and its last line, and for every coin
whether the stored file holds exactly the fake's candles (no gap, no duplicate, value for value).

Then the ban: a fake that has banned this IP before the first request (418 with Retry-After).
The first fetch must end in seconds naming the ban's end; a second fetch process on the same
home must send nothing (the ban memory, ``core/data/ban_memory.py``).

    .venv/bin/python bench/bench_fetch_storm.py [--coins BTC,ETH,SOL,POL] [--days 730]

Exit code 0 when: 0 answers 418 and 0 requests during a back-off in the storm, the fetch ended
(exit 0) within ``--deadline`` seconds with every coin exact; the banned first run ended within
10 s after one request; the second run sent none.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_binance import FakeBinance  # noqa: E402

HOUR_MS = 3_600_000
STORM = {"weight_limit": 24, "weight_window": 3.0, "error_rate": 0.08, "cut_rate": 0.05}


def _fetch(home: Path, url: str, coins: str, days: int, deadline: float) -> tuple[int, str, float]:
    """Run the CLI fetch; its exit code, its last line and its wall time."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "core", "fetch", "--coins", coins, "--days", str(days)]
        + ["--base-url", url],
        cwd=ROOT,
        env={**os.environ, "CRYPTOVOLT_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=deadline,
    )
    wall = time.monotonic() - started
    # the error line on a failure, else the summary (stderr also carries the progress bar)
    text = proc.stderr if proc.returncode else proc.stdout
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return proc.returncode, lines[-1] if lines else "", wall


def _exact(fake: FakeBinance, home: Path, symbol: str) -> str:
    """'exact' when the stored file is the fake's series hour by hour, else what is wrong."""
    os.environ["CRYPTOVOLT_HOME"] = str(home)
    from core.data import store

    frame = store.load_candles(symbol)
    opens = frame["open_time"].dt.as_unit("ms").astype("int64").to_numpy()
    steps = np.diff(opens)
    if (steps == 0).any():
        return f"{int((steps == 0).sum())} duplicate hour(s)"
    if (steps != HOUR_MS).any():
        return f"{int((steps != HOUR_MS).sum())} gap(s)"
    wire = np.array(fake.candles(symbol, int(opens[0]), int(opens[-1])), dtype=object)
    if len(wire) != len(frame) or (opens != wire[:, 0].astype("int64")).any():
        return f"{len(frame)} stored, the fake has {len(wire)}"
    for column, index in (("open", 1), ("high", 2), ("low", 3), ("close", 4), ("volume", 5)):
        if (frame[column].to_numpy() != wire[:, index].astype(float)).any():
            return f"{column} differs"
    return f"exact, {len(frame):,} candles"


def storm(coins: str, days: int, deadline: float, seed: int) -> bool:
    with tempfile.TemporaryDirectory() as tmp, FakeBinance(seed=seed, **STORM) as fake:
        home = Path(tmp)
        code, last, wall = _fetch(home, fake.url, coins, days, deadline)
        answers = collections.Counter(r.status for r in fake.requests)
        in_backoff = fake.requests_in_backoff
        print(f"storm: exit {code} in {wall:.1f} s; last line: {last}")
        print(f"  requests {sum(answers.values())}: {dict(sorted(answers.items()))}")
        print(
            f"  429: {answers[429]}, sent during a back-off or ban: {in_backoff}, 418: {answers[418]}"
        )
        verdicts = {}
        for coin in coins.split(","):
            symbol = "POLUSDT" if coin == "POL" else f"{coin}USDT"
            verdicts[symbol] = _exact(fake, home, symbol)
            print(f"  {symbol}: {verdicts[symbol]}")
        ok = code == 0 and answers[418] == 0 and in_backoff == 0
        return ok and all(v.startswith("exact") for v in verdicts.values())


def banned(coins: str, days: int) -> bool:
    with tempfile.TemporaryDirectory() as tmp, FakeBinance(**STORM) as fake:
        home = Path(tmp)
        fake.ban(600)
        code1, last1, wall1 = _fetch(home, fake.url, coins, days, 120)
        sent1 = fake.arrived
        print(f"ban at start, first run: exit {code1} in {wall1:.1f} s after {sent1} request(s)")
        print(f"  {last1}")
        code2, last2, wall2 = _fetch(home, fake.url, coins, days, 120)
        sent2 = fake.arrived - sent1
        print(f"second run (same home): exit {code2} in {wall2:.1f} s, {sent2} request(s) sent")
        print(f"  {last2}")
        return code1 == 1 and wall1 <= 10 and sent1 == 1 and code2 == 1 and sent2 == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coins", default="BTC,ETH,SOL,POL")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--deadline", type=float, default=240.0, help="seconds the storm may take")
    parser.add_argument("--seed", type=int, default=17, help="the fake's draws of 5xx and cuts")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at start")
    ok_storm = storm(args.coins, args.days, args.deadline, args.seed)
    ok_ban = banned(args.coins, args.days)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    print(f"storm: {'met' if ok_storm else 'MISSED'}; ban: {'met' if ok_ban else 'MISSED'}")
    return 0 if ok_storm and ok_ban else 1


if __name__ == "__main__":
    sys.exit(main())
