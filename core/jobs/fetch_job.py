"""Fetching candles as a job: what a fetch job is, and the work its process does.

A fetch job is a job like a training one (``runs/{job_id}/`` with ``spec.json``, ``status.json``,
``job.log``; ``python -m core job list|status|log|cancel``), launched by the Data page with
:func:`core.jobs.launch` and a :class:`FetchSpec`, or run in a terminal by ``python -m core fetch``
(:func:`core.jobs.runner.run_here`: the same :func:`run_fetch`). It does not wait for a training slot: it is
network-bound, and the per-file locks of :mod:`core.data.coin_fetch` already keep two fetches off
the same coin. Its process runs :func:`core.data.fetch.fetch_coins` and writes one
:class:`~core.jobs.status.CoinProgress` per coin into its status as pages arrive, so any reader
(the page after a server restart, the CLI) sees the progress from disk.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from core.clock import now_iso
from core.config import FETCH_MAX_IN_FLIGHT, FetchConfig, Interval, binance_base_url

# Through the package, not its submodules: a Streamlit server imports the app in several script
# threads at once, and a submodule import does not wait for a package another thread is still
# initializing (the two threads then deadlock on module locks and get half-made modules).
from core.data import DEFAULT_COINS, FetchEvent, FetchResult, FetchStatus, parse_coins
from core.errors import ConfigError, CryptoVoltError
from core.jobs.status import CoinProgress, JobKind, JobState, JobStatus

if TYPE_CHECKING:
    from core.jobs.runner import JobReporter

__all__ = ["FetchSpec", "fetch_results", "run_fetch", "summarize"]

log = logging.getLogger("core.jobs.fetch_job")


@dataclass(frozen=True)
class FetchSpec:
    """What one fetch job downloads: coins, interval, days back, where from, threads.

    Validated on construction; ``base_url`` is resolved then (``BINANCE_BASE_URL`` of the
    launching process), so the job fetches from where the person who launched it meant.

    Raises:
        ConfigError: impossible settings. InvalidSymbolError: a symbol that is not one.
    """

    kind: ClassVar[JobKind] = JobKind.FETCH

    coins: tuple[str, ...] = DEFAULT_COINS
    interval: str = "1h"
    days: int = 730
    base_url: str | None = None
    max_workers: int = FETCH_MAX_IN_FLIGHT

    def __post_init__(self) -> None:
        coins = tuple(dict.fromkeys(c.symbol for c in parse_coins(list(self.coins))))
        if not coins:
            raise ConfigError("Pick at least one coin to fetch.")
        cfg = FetchConfig(
            coins=coins,
            interval=Interval.parse(self.interval),
            days=int(self.days),
            max_workers=int(self.max_workers or FETCH_MAX_IN_FLIGHT),
        )
        object.__setattr__(self, "coins", coins)
        object.__setattr__(self, "interval", cfg.interval.value)
        object.__setattr__(self, "days", cfg.days)
        object.__setattr__(self, "max_workers", cfg.max_workers)
        object.__setattr__(self, "base_url", binance_base_url(self.base_url))

    @property
    def label(self) -> str:
        """Names the job in its id: ``fetch``."""
        return "fetch"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "coins": list(self.coins),
            "interval": self.interval,
            "days": self.days,
            "base_url": self.base_url,
            "max_workers": self.max_workers,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FetchSpec:
        try:
            return cls(
                coins=tuple(data.get("coins") or DEFAULT_COINS),
                interval=str(data.get("interval", "1h")),
                days=int(data.get("days", 730)),
                base_url=data.get("base_url"),
                max_workers=int(data.get("max_workers") or FETCH_MAX_IN_FLIGHT),
            )
        except CryptoVoltError:
            raise
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"Fetch spec is not valid ({exc}); launch it again.") from None

    def run(self, reporter: JobReporter) -> str:
        """The fetch, in the job process (:func:`run_fetch`); returns how the coins ended."""
        job_id = reporter.status.job_id
        coins = ",".join(self.coins)
        log.info(
            "job %s: fetch %s %s, %d days, from %s",
            job_id,
            coins,
            self.interval,
            self.days,
            self.base_url,
        )
        reporter.update(force=True, state=JobState.RUNNING, started_at=now_iso())
        message = run_fetch(self, reporter)
        log.info("done: %s", message)
        return message

    def initial_status(self, job_id: str) -> JobStatus:
        """The status a launch writes: every coin queued."""
        return JobStatus(
            job_id=job_id,
            kind=self.kind,
            interval=self.interval,
            message="waiting to start",
            coins=tuple(CoinProgress(symbol) for symbol in self.coins),
        )


def summarize(coins: Sequence[CoinProgress]) -> str:
    """``"9 up to date, 1 failed (FOOUSDT: unknown symbol ...)"``: how a fetch's coins ended."""
    counts: dict[str, int] = {}
    for coin in coins:
        counts[coin.state] = counts.get(coin.state, 0) + 1
    order = [s.value for s in FetchStatus] + ["queued", "fetching"]
    text = ", ".join(f"{counts[s]} {s}" for s in order if s in counts)
    failed = [c for c in coins if c.state == FetchStatus.FAILED.value]
    if failed:
        text += f" ({failed[0].symbol}: {failed[0].message})"
    held = [c.symbol for c in coins if c.state == FetchStatus.CONFLICT.value]
    if held:
        text += f"; new candles held in quarantine for {', '.join(held)} (conflict)"
    return text


def fetch_results(status: JobStatus) -> list[FetchResult]:
    """A finished fetch job's outcome per coin, as :func:`core.data.fetch.fetch_coins` returns it
    (without the coverage: read that from the store). Coins that had not ended are left out."""
    out = []
    for coin in status.coins:
        if coin.ended and coin.state in {s.value for s in FetchStatus}:
            status_ = FetchStatus(coin.state)
            out.append(
                FetchResult(
                    coin.symbol, status_, coin.new_rows, coin.message, None, coin.note, coin.seam
                )
            )
    return out


class _Progress:
    """Turns the fetch's events (from its worker threads) into the job's status."""

    def __init__(self, writer: JobReporter) -> None:
        self.writer = writer
        self.lock = threading.Lock()
        self.coins = {c.symbol: c for c in writer.status.coins}

    def __call__(self, event: FetchEvent) -> None:
        with self.lock:
            before = self.coins.get(event.symbol)
            self.coins[event.symbol] = CoinProgress(
                event.symbol,
                event.state,
                event.fetched,
                event.expected,
                event.downloaded,
                event.message,
            )
            self._write(force=before is None or before.state != event.state)
            self.writer.show(event)  # a fetch run in a terminal draws its bar from the same events

    def _write(self, *, force: bool) -> None:
        coins = tuple(self.coins.values())
        fetched = sum(min(c.fetched, c.expected) for c in coins)
        expected = sum(c.expected for c in coins)
        rate = sum(c.downloaded for c in coins) / max(self.writer.elapsed(), 1e-6)
        eta = round((expected - fetched) / rate, 1) if rate > 0 and expected > fetched else None
        done = sum(c.ended for c in coins)
        self.writer.update(
            force=force,
            coins=coins,
            step=fetched,
            total=expected,
            eta_seconds=eta,
            message=f"{done} of {len(coins)} coins done",
        )

    def ended(self, results: Sequence[FetchResult]) -> None:
        with self.lock:
            for r in results:
                now = self.coins.get(r.symbol) or CoinProgress(r.symbol)
                self.coins[r.symbol] = dataclasses.replace(
                    now,
                    state=r.status.value,
                    message=r.reason,
                    new_rows=r.new_rows,
                    note=r.note,
                    seam=r.seam,
                )
            self._write(force=True)


def run_fetch(spec: FetchSpec, writer: JobReporter) -> str:
    """The job's work, in its process (launched, or a ``core fetch`` in a terminal): fetch every
    coin, reporting into ``writer`` (its ``outcome`` is then the FetchResults).

    Returns the success message (how the coins ended). A coin that failed does not fail the job:
    it ends ``failed`` with its reason, as on the page and in ``core fetch``. Raises what
    :func:`core.data.fetch.fetch_coins` raises, and JobCancelled on a cancel (what was fetched
    so far is saved).
    """
    from core.data.fetch import fetch_coins

    progress = _Progress(writer)
    writer.restart_clock()
    writer.update(force=True, stage="fetching", message=f"0 of {len(spec.coins)} coins done")
    results = fetch_coins(
        spec.coins,
        interval=spec.interval,
        days=spec.days,
        base_url=spec.base_url,
        on_progress=progress,
        max_workers=spec.max_workers,
        paths=writer.paths,
    )
    progress.ended(results)
    writer.outcome = results
    return summarize(tuple(progress.coins.values()))
