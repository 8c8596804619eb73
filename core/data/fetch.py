"""Download orchestration: many coins at once, incremental, resumable, with progress events.

For each coin, :func:`fetch_coins` works out what the store lacks for the requested range and
fetches only that: everything when nothing is stored, else the missing tail (after the last stored
candle) and the missing head (when the range reaches further back than the first stored candle).
The tail is paged forwards and the head backwards, in windows of 1000 candles, and pages are merged
into the store every ``save_every`` pages with an atomic write. So the stored candles always form
one unbroken run, and a process killed at any moment (even ``kill -9``) loses at most the unsaved
pages: a rerun continues where the file ends, and every candle is stored exactly once.

Coins run in a bounded thread pool over one shared :class:`core.data.binance.BinanceClient`; a coin
that fails does not stop the others. Log lines go to ``{home}/logs/dataset_fetch.log``.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import pandas as pd

from core import config
from core.config import FetchConfig, Interval
from core.data import store
from core.data.binance import KLINES_LIMIT, BinanceClient
from core.data.coins import Coin, parse_coins
from core.errors import CorruptDataError, CryptoVoltError, NoDataError

__all__ = [
    "FetchEvent",
    "FetchResult",
    "FetchStatus",
    "coverage_status",
    "expected_candles",
    "fetch_coins",
    "load_sample",
    "log_path",
]

_DAY_MS = 86_400_000


class FetchStatus(StrEnum):
    """How a coin ended: complete up to the last closed candle, short of it, or failed."""

    UP_TO_DATE = "up to date"
    PARTIAL = "partial"
    FAILED = "failed"


@dataclass(frozen=True)
class FetchEvent:
    """Progress of one coin. ``state`` is ``queued``, ``fetching`` or a :class:`FetchStatus`.

    ``fetched`` counts the coin's stored candles inside the requested range (so an up-to-date
    coin is at once complete), ``expected`` the candles the range holds; ``downloaded`` counts the
    candles received in this run (for candles per second).
    """

    symbol: str
    fetched: int
    expected: int
    state: str
    downloaded: int = 0
    message: str = ""


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one coin: status, candles added, the reason in words, what is stored."""

    symbol: str
    status: FetchStatus
    new_rows: int
    reason: str
    coverage: store.Coverage | None
    note: str = ""


# -- logging ----------------------------------------------------------------------------------

_logger = logging.getLogger("cryptovolt.fetch")
_log_lock = threading.Lock()


def log_path() -> Path:
    """``{home}/logs/dataset_fetch.log``."""
    return config.logs_dir() / "dataset_fetch.log"


def _log() -> logging.Logger:
    """The fetch logger with a file handler for the current home folder (created on demand)."""
    path = log_path()
    with _log_lock:
        current = [h for h in _logger.handlers if isinstance(h, logging.FileHandler)]
        if not any(Path(h.baseFilename) == path for h in current):
            for handler in current:
                _logger.removeHandler(handler)
                handler.close()
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8")
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(message)s")
            )
            _logger.addHandler(handler)
            _logger.setLevel(logging.INFO)
    return _logger


# -- ranges -----------------------------------------------------------------------------------


def _ms(ts: pd.Timestamp) -> int:
    return int(ts.value // 1_000_000)


def _range(now_ms: int, days: int, step: int) -> tuple[int, int]:
    """(open time of the first candle in range, open time of the last closed candle)."""
    last_closed = (now_ms // step) * step - step
    first = ((now_ms - days * _DAY_MS) // step) * step
    return first, last_closed


def expected_candles(
    *, days: int, interval: str | Interval = "1h", now: datetime | None = None
) -> int:
    """How many closed candles ``days`` back from ``now`` hold (17,520 for 730 days of 1h)."""
    step = Interval.parse(interval).milliseconds
    first, last = _range(_now_ms(now), days, step)
    return max(0, (last - first) // step + 1)


def _now_ms(now: datetime | None) -> int:
    ts = pd.Timestamp(now or datetime.now(UTC))
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return _ms(ts)


def coverage_status(cov: store.Coverage, *, now: datetime | None = None) -> tuple[FetchStatus, str]:
    """Status of what is stored: up to date when the last closed candle is there.

    Returns ``(status, reason)``; the reason says in words what is missing or broken.
    """
    if cov.error:
        return FetchStatus.FAILED, cov.error
    if not cov.rows or cov.last is None:
        return FetchStatus.FAILED, "nothing stored yet"
    step = Interval.parse(cov.interval).milliseconds
    _, last_closed = _range(_now_ms(now), 1, step)
    behind = (last_closed - _ms(cov.last)) // step
    if behind <= 0:
        return FetchStatus.UP_TO_DATE, ""
    return (
        FetchStatus.PARTIAL,
        f"{behind:,} newer candle(s) not fetched yet (last {cov.last:%Y-%m-%d %H:%M} UTC)",
    )


# -- one coin ---------------------------------------------------------------------------------


class _Lock:
    """An exclusive per-file lock, so two processes never fetch the same coin at once."""

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(f".{path.name}.lock")

    def __enter__(self) -> _Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a")  # noqa: SIM115 (held until __exit__)
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        self._fh.close()


class _CoinFetch:
    """The work for one coin: load, plan head and tail, page, merge and save in batches."""

    def __init__(
        self,
        coin: Coin,
        *,
        interval: Interval,
        days: int,
        now_ms: int,
        client: BinanceClient,
        emit: Callable[[FetchEvent], None],
        save_every: int,
    ) -> None:
        self.coin = coin
        self.interval = interval
        self.step = interval.milliseconds
        self.first, self.last_closed = _range(now_ms, days, self.step)
        self.now_ms = now_ms
        self.client = client
        self.emit = emit
        self.save_every = max(1, save_every)
        self.expected = max(0, (self.last_closed - self.first) // self.step + 1)
        self.stored = store.empty_candles()
        self.pending: list[pd.DataFrame] = []
        self.downloaded = 0
        self.saved_new = 0
        self.notes: list[str] = [coin.note] if coin.note else []

    def _in_range(self) -> int:
        if self.stored.empty:
            return 0
        times = self.stored["open_time"]
        lo = pd.Timestamp(self.first, unit="ms", tz="UTC")
        return int((times >= lo).sum())

    def _progress(self, state: str) -> None:
        pending = sum(len(p) for p in self.pending)
        fetched = min(self.expected, self._in_range() + pending)
        self.emit(FetchEvent(self.coin.symbol, fetched, self.expected, state, self.downloaded))

    def _flush(self) -> None:
        if not self.pending:
            return
        before = len(self.stored)
        merged = store.merge_candles(self.stored, pd.concat(self.pending, ignore_index=True))
        store.save_candles(merged, self.coin.symbol, self.interval)
        self.stored, self.pending = merged, []
        self.saved_new += len(merged) - before

    def _add(self, page: pd.DataFrame) -> None:
        self.pending.append(page)
        self.downloaded += len(page)
        if len(self.pending) >= self.save_every:
            self._flush()
        self._progress("fetching")

    def _load(self) -> None:
        try:
            self.stored = store.load_candles(self.coin.symbol, self.interval)
        except NoDataError:
            self.stored = store.empty_candles()
        except CorruptDataError as exc:
            self.stored = store.empty_candles()
            self.notes.append(f"{exc} Fetching it again.")
            _log().warning("%s: %s", self.coin.symbol, exc)

    def _fetch_forward(self, start_ms: int) -> None:
        for page in self.client.iter_klines(
            self.coin.symbol,
            self.interval,
            start_ms=start_ms,
            end_ms=self.now_ms,
            now_ms=self.now_ms,
        ):
            self._add(page)

    def _fetch_head(self, first_stored_ms: int) -> None:
        """Backwards in windows of ``KLINES_LIMIT`` candles, so the stored run never has a hole."""
        end = first_stored_ms - self.step
        while end >= self.first:
            start = max(self.first, end - (KLINES_LIMIT - 1) * self.step)
            page = self.client.klines(self.coin.symbol, self.interval, start_ms=start, end_ms=end)
            page = page.loc[page["open_time"] <= pd.Timestamp(end, unit="ms", tz="UTC")]
            if page.empty:  # the pair was listed after this window: nothing earlier exists
                break
            self._add(page.reset_index(drop=True))
            end = start - self.step

    def run(self) -> FetchResult:
        path = store.candle_path(self.coin.symbol, self.interval)
        with _Lock(path):
            self._load()
            self._progress("fetching")
            try:
                if self.stored.empty:
                    self._fetch_forward(self.first)
                else:
                    last = _ms(self.stored["open_time"].iloc[-1])
                    if last < self.last_closed:
                        self._fetch_forward(last + self.step)
                    self._flush()
                    first = _ms(self.stored["open_time"].iloc[0])
                    if first > self.first:
                        self._fetch_head(first)
                self._flush()
            except CryptoVoltError as exc:
                self._flush()
                return self._result(FetchStatus.FAILED, str(exc))
            except Exception as exc:  # an unexpected bug must not take the other coins down
                self._flush()
                _log().exception("%s: unexpected failure", self.coin.symbol)
                return self._result(FetchStatus.FAILED, f"unexpected {type(exc).__name__}: {exc}")
        cov = store.coverage(self.coin.symbol, self.interval)
        status, reason = coverage_status(cov, now=datetime.fromtimestamp(self.now_ms / 1000, UTC))
        if status is FetchStatus.FAILED and not cov.error:
            reason = "Binance has no candles for this pair in the requested range"
        if status is FetchStatus.PARTIAL:  # the tail was fetched without error, yet ends early
            reason = (
                f"Binance has no candles after {cov.last:%Y-%m-%d %H:%M} UTC: the pair may have "
                "stopped trading"
            )
        if cov.first is not None and _ms(cov.first) > self.first:
            self.notes.append(
                f"Binance's history of {self.coin.symbol} starts {cov.first:%Y-%m-%d %H:%M} UTC."
            )
        return self._result(status, reason, cov)

    def _result(
        self, status: FetchStatus, reason: str, cov: store.Coverage | None = None
    ) -> FetchResult:
        cov = cov or store.coverage(self.coin.symbol, self.interval)
        expected = self.expected
        self.emit(
            FetchEvent(
                self.coin.symbol,
                min(expected, self._in_range()),
                expected,
                status.value,
                self.downloaded,
                reason,
            )
        )
        log = _log()
        level = logging.WARNING if status is FetchStatus.FAILED else logging.INFO
        log.log(
            level,
            "%s %s: %s, %d new candles, %d stored %s",
            self.coin.symbol,
            self.interval.value,
            status.value,
            self.saved_new,
            cov.rows,
            reason,
        )
        return FetchResult(
            self.coin.symbol, status, self.saved_new, reason, cov, " ".join(self.notes)
        )


# -- public API -------------------------------------------------------------------------------


def fetch_coins(
    coins: Sequence[str] | str | None,
    *,
    interval: str | Interval = "1h",
    days: int = 730,
    base_url: str | None = None,
    on_progress: Callable[[FetchEvent], None] | None = None,
    max_workers: int = 4,
    now: datetime | None = None,
    client: BinanceClient | None = None,
    save_every: int = 5,
) -> list[FetchResult]:
    """Fetch (or top up) the closed candles of ``days`` back from ``now`` for every coin.

    ``coins`` as :func:`core.data.coins.parse_coins` accepts them (``None`` = the ten defaults).
    ``on_progress`` is called from worker threads with a :class:`FetchEvent` after every page;
    it must be quick and thread-safe. Results come back in the order of ``coins``.

    Raises:
        ConfigError: impossible settings (days, interval, workers, base URL).
        InvalidSymbolError: a symbol that is not letters and digits.
    Binance failures do not raise: they end that coin as ``failed`` with the reason.
    """
    parsed = parse_coins(coins if isinstance(coins, str | None) else list(coins))
    cfg = FetchConfig(
        coins=tuple(c.symbol for c in parsed),
        interval=Interval.parse(interval),
        days=days,
        base_url=base_url,
        max_workers=max_workers,
    )
    now_ms = _now_ms(now)
    emit = on_progress or (lambda event: None)
    own_client = client is None
    client = client or BinanceClient(cfg.base_url, pool_size=max(cfg.max_workers, 4))
    log = _log()
    log.info(
        "fetch %s %s, %d days, from %s, %d workers",
        ",".join(c.symbol for c in parsed),
        cfg.interval.value,
        cfg.days,
        client.base_url,
        cfg.max_workers,
    )
    jobs = [
        _CoinFetch(
            coin,
            interval=cfg.interval,
            days=cfg.days,
            now_ms=now_ms,
            client=client,
            emit=emit,
            save_every=save_every,
        )
        for coin in parsed
    ]
    for job in jobs:
        emit(FetchEvent(job.coin.symbol, 0, job.expected, "queued"))
    try:
        with ThreadPoolExecutor(cfg.max_workers, thread_name_prefix="fetch") as pool:
            results = list(pool.map(lambda job: job.run(), jobs))
    finally:
        if own_client:
            client.close()
    return results


def load_sample(coins: Sequence[str] | None = None) -> list[FetchResult]:
    """Merge the bundled real sample (``data/sample/*.parquet``) into the store.

    ``coins=None`` loads every coin the sample has; a requested coin without a sample file ends
    ``failed`` with the reason. Candles already stored win over the sample's, so loading never
    downgrades fetched data, and a later fetch tops the sample up to the present.
    """
    available = {
        path.stem.rsplit("-", 1)[0]: path for path in sorted(config.sample_dir().glob("*.parquet"))
    }
    wanted = list(available) if coins is None else [c.symbol for c in parse_coins(list(coins))]
    results = []
    for symbol in wanted:
        path = available.get(symbol)
        if path is None:
            results.append(
                FetchResult(
                    symbol,
                    FetchStatus.FAILED,
                    0,
                    f"{symbol} is not in the bundled sample; fetch it from Binance",
                    None,
                )
            )
            continue
        interval = path.stem.rsplit("-", 1)[1]
        sample = store.normalize_candles(pd.read_parquet(path))
        note = ""
        try:
            existing = store.load_candles(symbol, interval)
        except NoDataError:
            existing = store.empty_candles()
        except CorruptDataError as exc:
            existing, note = store.empty_candles(), str(exc)
        merged = store.merge_candles(sample, existing)
        store.save_candles(merged, symbol, interval)
        cov = store.coverage(symbol, interval)
        status, reason = coverage_status(cov)
        results.append(FetchResult(symbol, status, len(merged) - len(existing), reason, cov, note))
        _log().info(
            "sample %s %s: %d new candles, %d stored",
            symbol,
            interval,
            len(merged) - len(existing),
            cov.rows,
        )
    return results
