"""The Data page's fetch progress in numbers and words (ui.fetch_progress), without a browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.jobs import CoinProgress, JobKind, JobState, JobStatus
from ui.fetch_progress import COLORS, coin_html, overall, time_left

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def job(coins, *, state=JobState.RUNNING, updated=NOW, elapsed=10.0) -> JobStatus:
    return JobStatus(
        job_id="j",
        kind=JobKind.FETCH,
        state=state,
        coins=tuple(coins),
        updated_at=updated.isoformat(),
        elapsed_seconds=elapsed,
    )


def test_a_failed_coin_is_not_done_and_keeps_the_bar_short_of_full():
    coins = [
        CoinProgress("BTCUSDT", "up to date", 100, 100, 100),
        CoinProgress("FOOUSDT", "failed", 0, 100, 0, "unknown symbol"),
    ]
    total = overall(coins)
    assert (total.done, total.failed, total.total) == (1, 1, 2)
    assert total.fraction == 0.5
    assert overall(coins[:1]).fraction == 1.0


def test_a_coin_listed_late_that_ended_well_counts_its_whole_range():
    total = overall([CoinProgress("POLUSDT", "up to date", 300, 17_520, 300)])
    assert total.fraction == 1.0 and total.done == 1


def test_time_left_never_says_about_0_s_while_waiting():
    running = [CoinProgress("BTCUSDT", "fetching", 99, 100, 99)]
    assert time_left(job(running), now=NOW + timedelta(seconds=0.5)) == "finishing"
    waiting = time_left(job(running), now=NOW + timedelta(seconds=14))
    assert waiting.startswith("no new candles for 14 s: waiting for Binance")
    slow = [CoinProgress("BTCUSDT", "fetching", 10, 1_000, 10)]
    assert time_left(job(slow), now=NOW) == "about 990 s left"
    assert time_left(job(slow, state=JobState.SUCCEEDED), now=NOW) == "done in 10.0 s"


def test_coin_html_is_red_for_a_failure_and_escapes_the_reason():
    coin = CoinProgress("FOOUSDT", "failed", 0, 100, 0)
    text = coin_html(coin, "FOOUSDT failed: <bad> & worse; nothing is stored yet.")
    assert 'data-state="failed"' in text and text.count(COLORS["failed"]) == 3
    assert "&lt;bad&gt; &amp; worse" in text and "width:0.0%" in text
    assert COLORS["failed"] not in coin_html(CoinProgress("BTCUSDT", "up to date", 5, 5, 5))
