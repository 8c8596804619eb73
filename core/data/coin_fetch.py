"""One coin's fetch: plan the missing head and tail, page them in, merge and save in batches.

The stored candles always form one unbroken run: the tail (after the last stored candle) is paged
forwards, the head (when the range reaches further back than the first stored candle) backwards,
and pages are merged into the store every ``save_every`` pages with an atomic write, so a process
killed at any moment loses at most the unsaved pages. A :class:`FileLock` per candle file keeps
two processes from fetching the same coin at once.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from core.config import Interval
from core.data import store
from core.data.coins import Coin
from core.data.exchange import ExchangeClient
from core.data.fetch_log import fetch_log
from core.data.fetch_status import (
    FetchEvent,
    FetchResult,
    FetchStatus,
    candle_range,
    coverage_status,
    to_ms,
)
from core.errors import CorruptDataError, CryptoVoltError, NoDataError

__all__ = ["CoinFetch", "FileLock"]


class FileLock:
    """An exclusive per-file lock, so two processes never fetch the same coin at once."""

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(f".{path.name}.lock")

    def __enter__(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a")  # noqa: SIM115 (held until __exit__)
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        self._fh.close()


class CoinFetch:
    """The work for one coin: load, plan head and tail, page, merge and save in batches.

    Setting ``stop`` ends it after the page in hand: what was fetched is saved, and the coin ends
    with the status of what is stored and a reason saying it stopped early.
    """

    def __init__(
        self,
        coin: Coin,
        *,
        interval: Interval,
        days: int,
        now_ms: int,
        client: ExchangeClient,
        emit: Callable[[FetchEvent], None],
        save_every: int,
        stop: threading.Event | None = None,
    ) -> None:
        self.coin = coin
        self.interval = interval
        self.step = interval.milliseconds
        self.first, self.last_closed = candle_range(now_ms, days, self.step)
        self.now_ms = now_ms
        self.client = client
        self.exchange = client.name
        self.label = client.name.capitalize()  # "Binance", for messages
        self.stop = stop or threading.Event()
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
        store.save_candles(merged, self.coin.symbol, self.interval, exchange=self.exchange)
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
            self.stored = store.load_candles(
                self.coin.symbol, self.interval, exchange=self.exchange
            )
        except NoDataError:
            self.stored = store.empty_candles()
        except CorruptDataError as exc:
            self.stored = store.empty_candles()
            self.notes.append(f"{exc} Fetching it again.")
            fetch_log().warning("%s: %s", self.coin.symbol, exc)

    def _fetch_forward(self, start_ms: int) -> None:
        for page in self.client.iter_klines(
            self.coin.symbol,
            self.interval,
            start_ms=start_ms,
            end_ms=self.now_ms,
            now_ms=self.now_ms,
        ):
            self._add(page)
            if self.stop.is_set():
                return

    def _fetch_head(self, first_stored_ms: int) -> None:
        """Backwards in windows of one page of candles, so the stored run never has a hole."""
        end = first_stored_ms - self.step
        while end >= self.first and not self.stop.is_set():
            start = max(self.first, end - (self.client.page_limit - 1) * self.step)
            page = self.client.klines(self.coin.symbol, self.interval, start_ms=start, end_ms=end)
            page = page.loc[page["open_time"] <= pd.Timestamp(end, unit="ms", tz="UTC")]
            if page.empty:  # the pair was listed after this window: nothing earlier exists
                break
            self._add(page.reset_index(drop=True))
            end = start - self.step

    def run(self) -> FetchResult:
        path = store.candle_path(self.coin.symbol, self.interval, exchange=self.exchange)
        with FileLock(path):
            self._load()
            self._progress("fetching")
            try:
                if self.stored.empty:
                    self._fetch_forward(self.first)
                else:
                    last = to_ms(self.stored["open_time"].iloc[-1])
                    if last < self.last_closed:
                        self._fetch_forward(last + self.step)
                    self._flush()
                    first = to_ms(self.stored["open_time"].iloc[0])
                    if first > self.first and not self.stop.is_set():
                        self._fetch_head(first)
                self._flush()
            except CryptoVoltError as exc:
                self._flush()
                return self._result(FetchStatus.FAILED, str(exc))
            except Exception as exc:  # an unexpected bug must not take the other coins down
                self._flush()
                fetch_log().exception("%s: unexpected failure", self.coin.symbol)
                return self._result(FetchStatus.FAILED, f"unexpected {type(exc).__name__}: {exc}")
        cov = store.coverage(self.coin.symbol, self.interval, exchange=self.exchange)
        status, reason = coverage_status(cov, now=datetime.fromtimestamp(self.now_ms / 1000, UTC))
        if self.stop.is_set():
            if status is not FetchStatus.UP_TO_DATE:
                reason = "stopped before the end; fetch again to go on where it stopped"
            return self._result(status, reason, cov)
        if status is FetchStatus.FAILED and not cov.error:
            reason = f"{self.label} has no candles for this pair in the requested range"
        if status is FetchStatus.PARTIAL:  # the tail was fetched without error, yet ends early
            reason = (
                f"{self.label} has no candles after {cov.last:%Y-%m-%d %H:%M} UTC: the pair may "
                "have stopped trading"
            )
        if cov.first is not None and to_ms(cov.first) > self.first:
            self.notes.append(
                f"{self.label}'s history of {self.coin.symbol} starts "
                f"{cov.first:%Y-%m-%d %H:%M} UTC."
            )
        return self._result(status, reason, cov)

    def _result(
        self, status: FetchStatus, reason: str, cov: store.Coverage | None = None
    ) -> FetchResult:
        cov = cov or store.coverage(self.coin.symbol, self.interval, exchange=self.exchange)
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
        log = fetch_log()
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
