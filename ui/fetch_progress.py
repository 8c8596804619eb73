"""A fetch job's live progress on the Data page: one overall bar, one coloured bar per coin.

Failures look like failures: a coin that failed gets a red bar and a red "failed" badge, is not
counted as done (its candles count as none of its range, so the overall bar stays short of 100%),
and shows why in full, in one sentence (what failed, how old its stored candles are, what to do);
the job's log is one click away. A coin whose new candles did not fit the stored ones (a
conflict: they are held in quarantine, not stored) gets a red bar and says so; the choice
(replace / discard) is under Coverage. The time left is never "about 0 s" while the job waits:
with no new candles for a few seconds it says it is waiting for Binance instead.

The pure parts (:func:`overall`, :func:`time_left`, :func:`coin_html`) take statuses and return
numbers or text, so tests can check them without a browser.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime

import streamlit as st

from core import jobs
from core.data.fetch_status import FetchStatus, failure_sentence
from ui.context import context

__all__ = ["COLORS", "Overall", "coin_html", "overall", "render_progress", "time_left"]

#: Bar and badge colour per coin state.
COLORS = {
    FetchStatus.FAILED.value: "#e5484d",
    FetchStatus.CONFLICT.value: "#e5484d",
    FetchStatus.PARTIAL.value: "#f08c00",
    FetchStatus.UP_TO_DATE.value: "#2f9e44",
    "fetching": "#f7b500",
    "queued": "#868e96",
}
#: With no new candles for this long, the job is said to be waiting, not nearly done.
STALL_SECONDS = 3.0


@dataclass(frozen=True)
class Overall:
    """The whole job: fraction for the bar, coins done (ended, not failed and not in conflict),
    failed, and in conflict (their new candles held in quarantine, not stored)."""

    fraction: float
    done: int
    failed: int
    total: int
    fetched: int
    expected: int
    conflict: int = 0


def _coin_fraction(coin: jobs.CoinProgress) -> float:
    if coin.state == FetchStatus.FAILED.value:
        return min(coin.fetched / coin.expected, 1.0) if coin.expected else 0.0
    return coin.fraction


def overall(coins: tuple[jobs.CoinProgress, ...] | list[jobs.CoinProgress]) -> Overall:
    """Overall progress: a coin that ended well counts its whole range, a running one what it
    has, a failed one nothing, so a failure keeps the bar short of 100%."""
    expected = sum(c.expected for c in coins)
    counted = 0
    short = (FetchStatus.FAILED.value, FetchStatus.CONFLICT.value)  # not what was asked for
    for c in coins:
        if c.state in short:
            continue
        counted += c.expected if c.ended else min(c.fetched, c.expected)
    failed = sum(c.state == FetchStatus.FAILED.value for c in coins)
    held = sum(c.state == FetchStatus.CONFLICT.value for c in coins)
    done = sum(c.ended for c in coins) - failed - held
    fetched = sum(min(c.fetched, c.expected) for c in coins)
    # nothing expected (an empty range): done when every coin ended well
    all_done = 1.0 if coins and done == len(coins) else 0.0
    fraction = counted / expected if expected else all_done
    return Overall(min(fraction, 1.0), done, failed, len(coins), fetched, expected, held)


def _seconds_since(iso: str | None, now: datetime | None = None) -> float | None:
    if not iso:
        return None
    try:
        then = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return ((now or datetime.now(UTC)) - then).total_seconds()


def time_left(job: jobs.JobStatus, *, now: datetime | None = None) -> str:
    """The job's time in words: ``done in 4.2 s``, ``about 12 s left``, ``finishing``, or, with
    no new candles for a few seconds, ``no new candles for 14 s: waiting for Binance``."""
    elapsed = max(job.elapsed_seconds or 0.0, 1e-6)
    if job.finished:
        return f"done in {elapsed:.1f} s"
    stalled = _seconds_since(job.updated_at, now)
    if stalled is not None and stalled >= STALL_SECONDS:
        return (
            f"no new candles for {stalled:.0f} s: waiting for Binance (a retry or a "
            "rate-limit pause)"
        )
    coins = job.coins
    left_candles = sum(max(c.expected - c.fetched, 0) for c in coins if not c.ended)
    rate = sum(c.downloaded for c in coins) / elapsed
    if rate <= 0:
        return "starting"
    left = left_candles / rate
    return f"about {left:,.0f} s left" if left >= 1 else "finishing"


def coin_html(coin: jobs.CoinProgress, sentence: str = "") -> str:
    """One coin: name, a coloured state badge, candles, a coloured bar and, when it failed, the
    sentence saying why (escaped; it wraps instead of being cut)."""
    color = COLORS.get(coin.state, COLORS["queued"])
    pct = round(100 * _coin_fraction(coin), 1)
    badge = (
        f'<span style="background:{color};color:#fff;border-radius:0.5rem;padding:0 0.45rem;'
        f'font-size:0.8rem;font-weight:600">{html.escape(coin.state)}</span>'
    )
    head = (
        f"<strong>{html.escape(coin.symbol)}</strong> {badge} "
        f"<span style='opacity:0.8'>{coin.fetched:,} of {coin.expected:,} candles</span>"
    )
    bar = (
        '<div style="background:rgba(128,128,128,0.25);border-radius:4px;height:8px;'
        f'margin:4px 0 2px 0"><div style="width:{pct}%;background:{color};height:8px;'
        'border-radius:4px"></div></div>'
    )
    why = (
        f'<div style="color:{color};white-space:normal;overflow-wrap:anywhere">'
        f"{html.escape(sentence)}</div>"
        if sentence
        else ""
    )
    return (
        f'<div class="cv-coin" data-symbol="{html.escape(coin.symbol)}" '
        f'data-state="{html.escape(coin.state)}">{head}{bar}{why}</div>'
    )


def render_progress(job: jobs.JobStatus, last_candles: dict[str, object]) -> None:
    """The overall bar, a bar per coin, failures and conflicts in full, and the job's log.

    ``last_candles`` maps a symbol to its last stored candle's open time (or None), for the age
    of what is stored when a coin failed.
    """
    total = overall(job.coins)
    counts = (
        f"{total.done} of {total.total} done"
        + (f" · **{total.failed} failed**" if total.failed else "")
        + (f" · **{total.conflict} conflict**" if total.conflict else "")
    )
    st.progress(
        total.fraction,
        text=(
            f"**All coins**: {counts} · {total.fetched:,} of {total.expected:,} candles · "
            f"{time_left(job)}"
        ),
    )
    interval = job.interval or "1h"
    cols = st.columns(2)
    for i, coin in enumerate(job.coins):
        sentence = ""
        if coin.state == FetchStatus.FAILED.value:
            last = last_candles.get(coin.symbol)
            sentence = failure_sentence(coin.symbol, coin.message, last, interval)
        elif coin.state == FetchStatus.CONFLICT.value:
            sentence = f"{coin.message}; see Coverage below to replace or discard them."
        cols[i % 2].markdown(coin_html(coin, sentence), unsafe_allow_html=True)
    if total.failed or any(c.seam for c in job.coins):
        with st.expander("Details: this fetch's log"):
            st.code(
                jobs.tail_log(job.job_id, runs=context().paths.runs) or "(empty)",
                language=None,
                wrap_lines=True,
            )
