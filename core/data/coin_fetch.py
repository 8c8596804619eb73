"""One coin's fetch: plan the missing head and tail, request its pages at once, save in order.

Once a range is known, its pages are independent: the range is cut into windows of one page
(``page_limit`` candles, ``startTime``/``endTime``) and every window goes to the fetch's shared
pool of requests at once, so ten coins' pages are in flight together (:mod:`core.data.fetch`
sizes that pool by the weight budget). Only a range whose start may hold nothing (a full fetch,
or a head reaching further back than the pair's listing) first sends one probe page from its
start: where the probe's candles begin is where the pair's history begins, so no request is spent
on windows before the listing and the count stays the minimum, ceil(candles / page_limit).

The stored candles always form one unbroken run: pages are merged in the order that keeps them
adjacent to what is stored (the tail oldest first, the head newest first), every ``save_every``
pages with an atomic write, and a page that arrives early waits in memory for its predecessors;
so a process killed at any moment loses at most the unsaved pages. A
:class:`~core.data.store.FileLock` per candle file keeps two processes from fetching the same coin
at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import UTC, datetime

import pandas as pd

from core.config import Interval, Paths
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
from core.data.quarantine import Conflict, admit, hold
from core.errors import CorruptDataError, CryptoVoltError, NoDataError, StorageError

__all__ = ["CoinFetch"]


def _join(stored: pd.DataFrame, pages: list[pd.DataFrame]) -> pd.DataFrame:
    """``stored`` plus the new pages: a plain concatenation when the pages (each sorted, in
    order) join one end of the stored run, as a fetch's pages do; a full merge otherwise."""
    ordered = sorted(pages, key=lambda p: p["open_time"].iloc[0])
    new = pd.concat(ordered, ignore_index=True) if len(ordered) > 1 else ordered[0]
    times = new["open_time"]
    if not (times.is_monotonic_increasing and times.is_unique):
        return store.merge_candles(stored, new)
    if stored.empty:
        return new.reset_index(drop=True)
    if times.iloc[0] > stored["open_time"].iloc[-1]:
        return pd.concat([stored, new], ignore_index=True)
    if times.iloc[-1] < stored["open_time"].iloc[0]:
        return pd.concat([new, stored], ignore_index=True)
    return store.merge_candles(stored, new)


class CoinFetch:
    """The work for one coin: load, plan head and tail, page, merge and save in batches.

    Setting ``stop`` ends it after the pages in flight: what was fetched is saved, and the coin
    ends with the status of what is stored and a reason saying it stopped early. ``pool`` runs
    the page requests (shared by every coin of a fetch); without one they run in this thread.
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
        save_seconds: float = 1.0,
        stop: threading.Event | None = None,
        pool: Executor | None = None,
        head: bool = True,
        paths: Paths,
    ) -> None:
        self.coin = coin
        self.paths = paths
        self.interval = interval
        self.step = interval.milliseconds
        self.first, self.last_closed = candle_range(now_ms, days, self.step)
        self.now_ms = now_ms
        self.client = client
        self.exchange = client.name
        self.label = client.name.capitalize()  # "Binance", for messages
        self.stop = stop or threading.Event()
        self.pool = pool
        self.limit = client.page_limit
        self._abort = threading.Event()  # this coin failed: its queued pages are skipped
        self._now_ts = pd.Timestamp(now_ms, unit="ms", tz="UTC")
        self.emit = emit
        self.save_every = max(1, save_every)
        self.expected = max(0, (self.last_closed - self.first) // self.step + 1)
        self.stored = store.empty_candles()
        self.head = head  # False for a top-up: never ask for candles before the stored ones
        self.source = str(getattr(client, "base_url", client.name))
        self.conflict: Conflict | None = None  # new candles that did not fit: held, not stored
        self.held = 0
        self.pending: list[pd.DataFrame] = []
        self.downloaded = 0
        self.saved_new = 0
        self.notes: list[str] = [coin.note] if coin.note else []
        self.save_seconds = save_seconds
        self._saved_at = time.monotonic()
        self._stored_in_range = 0

    def _in_range(self) -> int:
        if self.stored.empty:
            return 0
        times = self.stored["open_time"]
        lo = pd.Timestamp(self.first, unit="ms", tz="UTC")
        return int((times >= lo).sum())

    def _progress(self, state: str) -> None:
        pending = sum(len(p) for p in self.pending)
        fetched = min(self.expected, self._stored_in_range + pending)
        self.emit(FetchEvent(self.coin.symbol, fetched, self.expected, state, self.downloaded))

    def _flush(self) -> None:
        """Write the pending pages next to the stored ones, unless the seam check
        (:func:`core.data.quarantine.admit`) refuses them: then they, and every later page of
        this run, are held in quarantine and the stored file is not touched."""
        if not self.pending:
            return
        pages, self.pending = self.pending, []
        ordered = sorted(pages, key=lambda p: p["open_time"].iloc[0])
        new = pd.concat(ordered, ignore_index=True) if len(ordered) > 1 else ordered[0]
        where = {
            "symbol": self.coin.symbol,
            "interval": self.interval.value,
            "exchange": self.exchange,
            "source": self.source,
        }
        if self.conflict is None:
            self.conflict = admit(self.stored, new, paths=self.paths, **where)
        else:
            self.conflict = hold(
                new, self.stored, reason=self.conflict.reason, paths=self.paths, **where
            )
        if self.conflict is not None:
            self.held += len(new)
            self._saved_at = time.monotonic()
            return
        before = len(self.stored)
        merged = _join(self.stored, [new])
        store.save_candles(
            merged, self.coin.symbol, self.interval, exchange=self.exchange, paths=self.paths
        )
        self.stored = merged
        self.saved_new += len(merged) - before
        self._stored_in_range = self._in_range()
        self._saved_at = time.monotonic()

    def _add(self, page: pd.DataFrame) -> None:
        if not page.empty:
            self.pending.append(page)
            self.downloaded += len(page)
        # Every save rewrites the whole file: save every `save_every` pages, but not more often
        # than every `save_seconds`, so a fast fetch writes each file about once (a kill still
        # loses only what was not saved: at most `save_seconds` of pages).
        if (
            len(self.pending) >= self.save_every
            and time.monotonic() - self._saved_at >= self.save_seconds
        ):
            self._flush()
        self._progress("fetching")

    def _load(self) -> None:
        try:
            self.stored = store.load_candles(
                self.coin.symbol, self.interval, exchange=self.exchange, paths=self.paths
            )
        except NoDataError:
            self.stored = store.empty_candles()
        except CorruptDataError as exc:
            self.stored = store.empty_candles()
            self.notes.append(f"{exc} Fetching it again.")
            fetch_log(self.paths.logs).warning("%s: %s", self.coin.symbol, exc)
        self._stored_in_range = self._in_range()

    # -- pages ---------------------------------------------------------------------------------

    def _page(self, start: int, end: int) -> tuple[pd.DataFrame | None, bool]:
        """The closed candles with ``start <= open_time <= end`` (one request) and whether the
        exchange's answer was a full page; ``(None, False)`` when stopped before it was sent."""
        if self.stop.is_set() or self._abort.is_set():
            return None, False
        page = self.client.klines(
            self.coin.symbol, self.interval, start_ms=start, end_ms=end, limit=self.limit
        )
        full = len(page) >= self.limit
        if page.empty:
            return page, full
        times = page["open_time"]
        lo, hi = pd.Timestamp(start, unit="ms", tz="UTC"), pd.Timestamp(end, unit="ms", tz="UTC")
        # a sorted page with both ends inside has every row inside (the usual case, no mask)
        inside = times.iloc[0] >= lo and times.iloc[-1] <= hi and times.is_monotonic_increasing
        if inside and page["close_time"].max() < self._now_ts:
            return page, full
        keep = (times >= lo) & (times <= hi) & (page["close_time"] < self._now_ts)
        return page.loc[keep].reset_index(drop=True), full

    def _submit(self, start: int, end: int) -> Future[tuple[pd.DataFrame | None, bool]]:
        if self.pool is not None:
            return self.pool.submit(self._page, start, end)
        done: Future[tuple[pd.DataFrame | None, bool]] = Future()
        try:
            done.set_result(self._page(start, end))
        except Exception as exc:
            done.set_exception(exc)
        return done

    def _windows(
        self, start: int, end: int, *, newest_first: bool = False
    ) -> list[Future[tuple[pd.DataFrame | None, bool]]]:
        """Requests for ``start..end`` cut into windows of one page, all submitted at once, in
        the order their pages must be merged."""
        span = self.limit * self.step
        if newest_first:
            bounds = [(max(start, e - span + self.step), e) for e in range(end, start - 1, -span)]
        else:
            bounds = [(s, min(s + span - self.step, end)) for s in range(start, end + 1, span)]
        return [self._submit(lo, hi) for lo, hi in bounds]

    def _collect(self, futures: list[Future[tuple[pd.DataFrame | None, bool]]]) -> bool:
        """Merge the pages in order; False when the fetch was stopped before the last one.

        A failed page marks the coin aborted (its queued pages are skipped) and re-raises."""
        try:
            for future in futures:
                page, _ = future.result()
                if page is None:
                    return False
                self._add(page)
            return True
        except BaseException:
            self._abort.set()
            raise

    def _fetch_forward(self, start_ms: int, *, probe: bool) -> None:
        """``start_ms`` up to the last closed candle. With ``probe`` the first page is asked
        alone: its first candle shows where the pair's history begins, the rest follows at once."""
        end = self.last_closed
        if start_ms > end:
            return
        if probe:
            page, full = self._collect_one(self._submit(start_ms, end))
            if page is None:
                return
            self._add(page)
            if not full or page.empty:
                return
            start_ms = to_ms(page["open_time"].iloc[-1]) + self.step
        self._collect(self._windows(start_ms, end))

    def _fetch_head(self, first_stored_ms: int) -> None:
        """From the range's start up to the first stored candle: a probe from the start (the
        pair may be younger than the range), then the windows between, newest first, so what
        is saved always joins the stored run."""
        end = first_stored_ms - self.step
        if end < self.first:
            return
        probe, full = self._collect_one(self._submit(self.first, end))
        if probe is None or probe.empty:  # listed after this range: nothing earlier exists
            return
        if full:
            start = to_ms(probe["open_time"].iloc[-1]) + self.step
            if not self._collect(self._windows(start, end, newest_first=True)):
                return
        self._add(probe)

    def _collect_one(
        self, future: Future[tuple[pd.DataFrame | None, bool]]
    ) -> tuple[pd.DataFrame | None, bool]:
        try:
            return future.result()
        except BaseException:
            self._abort.set()
            raise

    def run(self) -> FetchResult:
        path = store.candle_path(
            self.coin.symbol, self.interval, exchange=self.exchange, paths=self.paths
        )
        with store.FileLock(path):
            self._load()
            self._progress("fetching")
            try:
                if self.stored.empty:
                    self._fetch_forward(self.first, probe=True)
                else:
                    last = to_ms(self.stored["open_time"].iloc[-1])
                    if last < self.last_closed:  # the pair traded at `last`: no probe needed
                        self._fetch_forward(last + self.step, probe=False)
                    self._flush()
                    first = to_ms(self.stored["open_time"].iloc[0])
                    wanted = first > self.first and self.head and self.conflict is None
                    if wanted and not self.stop.is_set():
                        self._fetch_head(first)
                self._flush()
            except CryptoVoltError as exc:
                return self._result(FetchStatus.FAILED, self._save_after(str(exc)))
            except Exception as exc:  # an unexpected bug must not take the other coins down
                fetch_log(self.paths.logs).exception("%s: unexpected failure", self.coin.symbol)
                reason = f"unexpected {type(exc).__name__}: {exc}"
                return self._result(FetchStatus.FAILED, self._save_after(reason))
        cov = store.coverage(  # self.stored is what the last save wrote: no second read
            self.coin.symbol,
            self.interval,
            exchange=self.exchange,
            frame=self.stored,
            paths=self.paths,
        )
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
        if cov.first is not None and to_ms(cov.first) > self.first and self.head:
            self.notes.append(
                f"{self.label}'s history of {self.coin.symbol} starts "
                f"{cov.first:%Y-%m-%d %H:%M} UTC."
            )
        return self._result(status, reason, cov)

    def _save_after(self, reason: str) -> str:
        """Save what was fetched before the coin failed for ``reason``; the reason to report (the
        disk's, when the save fails too: a full disk is what the user must fix first)."""
        try:
            self._flush()
        except StorageError as exc:
            return str(exc)
        return reason

    def _result(
        self, status: FetchStatus, reason: str, cov: store.Coverage | None = None
    ) -> FetchResult:
        cov = cov or store.coverage(
            self.coin.symbol, self.interval, exchange=self.exchange, paths=self.paths
        )
        if self.conflict is not None:  # what was fetched is held, whatever else happened
            why = "" if status is not FetchStatus.FAILED else f" (then: {reason})"
            status = FetchStatus.CONFLICT
            reason = (
                f"{self.held:,} new candle(s) from {self.source} do not fit the stored ones and "
                f"are held in quarantine, not stored{why}"
            )
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
        log = fetch_log(self.paths.logs)
        bad = status in (FetchStatus.FAILED, FetchStatus.CONFLICT)
        level = logging.WARNING if bad else logging.INFO
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
        seam = self.conflict.reason if self.conflict is not None else ""
        return FetchResult(
            self.coin.symbol, status, self.saved_new, reason, cov, " ".join(self.notes), seam
        )
