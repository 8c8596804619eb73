"""Download orchestration: many coins at once, incremental, resumable, with progress events.

For each coin, :func:`fetch_coins` works out what the store lacks for the requested range and
fetches only that: everything when nothing is stored, else the missing tail (after the last stored
candle) and the missing head (when the range reaches further back than the first stored candle).
How one coin is paged and saved so that a kill at any moment (even ``kill -9``) loses at most the
unsaved pages is :mod:`core.data.coin_fetch`; what a fetch reports is :mod:`core.data.fetch_status`.

Every coin's pages go through one shared pool of requests over one shared
:class:`core.data.exchange.ExchangeClient` (a :class:`core.data.binance.BinanceClient` unless one
is passed): ten coins x 18 pages are in flight together rather than four coins one page at a
time. The pool has as many threads as the weight budget has room for at the start
(:meth:`core.data.ratelimit.RateLimiter.room`), at most ``max_workers`` (default
:data:`core.config.FETCH_MAX_IN_FLIGHT`); the client's limiter then decides when each request
starts (the budget ``exchangeInfo`` publishes, ``Retry-After`` pauses, fewer in flight after a
429) and stops every thread at once on a ban, so each unfinished coin fails saying until when.
A coin that fails does not stop the others. Log lines go to ``{home}/logs/dataset_fetch.log``.
The Data page runs this inside a background job (:mod:`core.jobs.fetch_job`); the CLI runs it in
its own process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pandas as pd

from core import config
from core.config import FetchConfig, Interval, Paths
from core.context import Context
from core.data import quarantine, store
from core.data.ban_memory import refusals_path
from core.data.binance import BinanceClient
from core.data.coin_fetch import CoinFetch
from core.data.coins import parse_coins
from core.data.exchange import ExchangeClient
from core.data.fetch_log import fetch_log
from core.data.fetch_status import FetchEvent, FetchResult, FetchStatus, coverage_status, now_ms
from core.data.ratelimit import KLINES_WEIGHT
from core.errors import CorruptDataError, NoDataError

__all__ = [
    "fetch_coins",
    "load_sample",
]


def fetch_coins(
    coins: Sequence[str] | str | None,
    *,
    interval: str | Interval = "1h",
    days: int = 730,
    base_url: str | None = None,
    on_progress: Callable[[FetchEvent], None] | None = None,
    max_workers: int | None = None,
    now: datetime | None = None,
    client: ExchangeClient | None = None,
    save_every: int = 5,
    save_seconds: float = 1.0,
    stop: threading.Event | None = None,
    head: bool = True,
    paths: Paths | None = None,
) -> list[FetchResult]:
    """Fetch (or top up) the closed candles of ``days`` back from ``now`` for every coin.

    ``coins`` as :func:`core.data.coins.parse_coins` accepts them (``None`` = the ten defaults).
    ``on_progress`` is called from worker threads with a :class:`FetchEvent` after every page;
    it must be quick and thread-safe. ``max_workers`` caps the requests in flight (default: as
    many as the weight budget allows, up to :data:`core.config.FETCH_MAX_IN_FLIGHT`). Results
    come back in the order of ``coins``. Setting
    ``stop`` (or an exception in the calling thread, such as a job's cancel) ends every coin after
    the page in hand, with what was fetched saved. A coin's file is saved every ``save_every``
    pages but at most once per ``save_seconds``, and at the end. ``head=False`` (a top-up) never
    asks for candles before a coin's first stored one. New candles that do not fit the stored
    ones (:func:`core.data.quarantine.admit`) are held in quarantine and the coin ends
    ``conflict``. ``paths``: the home's folders (the edge's ``context.paths``): its candles,
    quarantine, ``logs/dataset_fetch.log`` and, for the client made here, its ban memory. Left
    out (a notebook's call), those of the home :meth:`core.context.Context.from_env` names,
    resolved here once.

    Raises:
        ConfigError: impossible settings (days, interval, workers, base URL).
        InvalidSymbolError: a symbol that is not letters and digits.
    Exchange failures do not raise: they end that coin as ``failed`` with the reason.
    """
    parsed = parse_coins(coins if isinstance(coins, str | None) else list(coins))
    cfg = FetchConfig(
        coins=tuple(c.symbol for c in parsed),
        interval=Interval.parse(interval),
        days=days,
        base_url=base_url,
        max_workers=max_workers or config.FETCH_MAX_IN_FLIGHT,
    )
    at_ms = now_ms(now)
    emit = on_progress or (lambda event: None)
    paths = paths or Context.from_env().paths
    own_client = client is None
    client = client or BinanceClient(
        cfg.base_url,
        pool_size=cfg.max_workers,
        refusals=refusals_path(paths.data),
        logs=paths.logs,
    )
    in_flight = _in_flight(client, cfg.max_workers)
    log = fetch_log(paths.logs)
    log.info(
        "fetch %s %s, %d days, from %s, up to %d requests in flight",
        ",".join(c.symbol for c in parsed),
        cfg.interval.value,
        cfg.days,
        client.base_url,
        in_flight,
    )
    stop = stop or threading.Event()
    requests_pool = ThreadPoolExecutor(in_flight, thread_name_prefix="fetch-http")
    work = [
        CoinFetch(
            coin,
            interval=cfg.interval,
            days=cfg.days,
            now_ms=at_ms,
            client=client,
            emit=emit,
            save_every=save_every,
            save_seconds=save_seconds,
            stop=stop,
            pool=requests_pool,
            head=head,
            paths=paths,
        )
        for coin in parsed
    ]
    for one in work:
        emit(FetchEvent(one.coin.symbol, 0, one.expected, "queued"))
    # one thread per coin plans, merges and saves; it mostly waits for its pages
    coin_pool = ThreadPoolExecutor(min(len(work), _MAX_COIN_THREADS), thread_name_prefix="fetch")
    try:
        return list(coin_pool.map(lambda one: one.run(), work))
    except BaseException:
        stop.set()  # e.g. a job's cancel: queued pages are skipped, the coins save what they have
        raise
    finally:
        coin_pool.shutdown(wait=True, cancel_futures=True)
        requests_pool.shutdown(wait=True)
        if own_client:
            client.close()


#: Coins planned and saved at once; their requests share the one pool whatever this is.
_MAX_COIN_THREADS = 16


def _in_flight(client: ExchangeClient, cap: int) -> int:
    """Requests in flight: what fits in the weight budget now, at least 1, at most ``cap``.

    A client without a shared limiter (another exchange) gets ``cap``."""
    limiter = getattr(client, "limiter", None)
    room = getattr(limiter, "room", None)
    if not callable(room):
        return cap
    return max(1, min(cap, int(room(KLINES_WEIGHT))))


def load_sample(
    coins: Sequence[str] | None = None,
    *,
    replace: Sequence[str] = (),
    paths: Paths | None = None,
) -> list[FetchResult]:
    """Merge the bundled real sample (``data/sample/*.parquet``) into the store.

    ``coins=None`` loads every coin the sample has; a requested coin without a sample file ends
    ``failed`` with the reason. Candles already stored win over the sample's where both have an
    hour, so loading never downgrades fetched data, and a later fetch tops the sample up to the
    present. The sample passes the same seam check as a fetch (:func:`core.data.quarantine.admit`):
    where it does not fit the stored candles it is held in quarantine and the coin ends
    ``conflict``. Coins in ``replace`` (symbols) get the sample instead of what is stored (the old
    file is moved aside to ``data/quarantine/``). ``paths``: the home's folders (the edge's
    ``context.paths``; left out, those of the home :meth:`core.context.Context.from_env` names).
    """
    paths = paths or Context.from_env().paths

    available = {
        path.stem.rsplit("-", 1)[0]: path for path in sorted(config.sample_dir().glob("*.parquet"))
    }
    wanted = list(available) if coins is None else [c.symbol for c in parse_coins(list(coins))]
    replacing = {c.symbol for c in parse_coins(list(replace))} if replace else set()
    results = []
    for symbol in wanted:
        path = available.get(symbol)
        if path is None:
            results.append(
                FetchResult(
                    symbol,
                    FetchStatus.FAILED,
                    0,
                    f"{symbol} is not in the bundled sample; fetch it from Binance"
                    if config.sample_dir().is_dir()
                    else "this installed copy has no bundled sample (it ships with a clone, in "
                    "data/sample/): fetch from Binance, or load archive files with "
                    "`python -m core import`",
                    None,
                )
            )
            continue
        interval = path.stem.rsplit("-", 1)[1]
        sample = store.normalize_candles(pd.read_parquet(path))
        with store.FileLock(store.candle_path(symbol, interval, paths=paths)):
            results.append(
                _load_one(symbol, interval, sample, replace=symbol in replacing, paths=paths)
            )
    return results


def _load_one(
    symbol: str, interval: str, sample: pd.DataFrame, *, replace: bool, paths: Paths
) -> FetchResult:
    note = ""
    try:
        existing = store.load_candles(symbol, interval, paths=paths)
    except NoDataError:
        existing = store.empty_candles()
    except CorruptDataError as exc:
        existing, note = store.empty_candles(), str(exc)
    if replace:
        note = (
            quarantine.replace_series(
                sample,
                symbol,
                interval,
                why="replaced by the bundled sample on request",
                paths=paths,
            )
            + note
        ).strip()
        existing, merged = store.empty_candles(), sample
    else:
        conflict = quarantine.admit(
            existing,
            sample,
            symbol=symbol,
            interval=interval,
            source="the bundled sample",
            paths=paths,
        )
        if conflict is not None:
            cov = store.coverage(symbol, interval, frame=existing, paths=paths)
            reason = (
                f"the bundled sample ({len(sample):,} candles) does not fit the stored candles "
                "and is held in quarantine, not stored"
            )
            return FetchResult(symbol, FetchStatus.CONFLICT, 0, reason, cov, note, conflict.reason)
        merged = store.merge_candles(sample, existing)
        store.save_candles(merged, symbol, interval, paths=paths)
    cov = store.coverage(symbol, interval, frame=merged, paths=paths)
    status, reason = coverage_status(cov)
    added = len(merged) - len(existing)
    fetch_log(paths.logs).info(
        "sample %s %s: %d new candles, %d stored", symbol, interval, added, cov.rows
    )
    return FetchResult(symbol, status, added, reason, cov, note)
