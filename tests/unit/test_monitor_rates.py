"""Live hit rates: overlapping calls count as fewer independent ones, and "below its promise"
needs the whole live interval under the promised rate."""

from __future__ import annotations

import pandas as pd
import pytest

from core.monitor.rates import KindRate, kind_rates, live_interval, overlap_of
from core.training.stats import wilson_interval


def calls(n: int, *, every_hours: int, hits: int, horizon: int = 6) -> pd.DataFrame:
    times = pd.date_range("2025-01-01", periods=n, freq=f"{every_hours}h", tz="UTC")
    return pd.DataFrame(
        {
            "candle_time": times,
            "interval": "1h",
            "horizon": horizon,
            "signal": "BULLISH",
            "status": ["hit"] * hits + ["miss"] * (n - hits),
            "confidence": 0.6,
            "confidence_low": 0.55,
            "confidence_high": 0.65,
            "base_rate": 0.5,
        }
    )


def test_hourly_calls_over_six_hours_overlap_six_fold_and_six_hourly_ones_do_not():
    assert overlap_of(calls(60, every_hours=1, hits=30)) == pytest.approx(6.0)
    assert overlap_of(calls(60, every_hours=6, hits=30)) == pytest.approx(1.0)
    assert overlap_of(calls(60, every_hours=2, hits=30)) == pytest.approx(3.0)
    assert overlap_of(calls(1, every_hours=1, hits=1)) == 1.0


def test_the_live_interval_counts_independent_calls():
    assert live_interval(30, 60, 1.0) == wilson_interval(30, 60)
    assert live_interval(30, 60, 6.0) == wilson_interval(5, 10)
    assert live_interval(0, 0, 6.0) == (None, None)


def test_a_short_unlucky_streak_of_overlapping_calls_is_not_below_the_promise():
    end = pd.Timestamp("2025-01-03", tz="UTC")
    streak = kind_rates(calls(36, every_hours=1, hits=14), end=end, days=7)[0]
    assert streak.rate == pytest.approx(14 / 36) and streak.rate < 0.55
    assert streak.effective_calls == pytest.approx(6.0)
    assert not streak.below_promise  # about 6 independent calls cannot tell 39% from 60%
    spread = kind_rates(calls(36, every_hours=6, hits=14), end=end + pd.Timedelta(days=8), days=30)
    assert spread[0].calls == 36 and spread[0].below_promise  # 36 independent calls can


def test_below_promise_needs_the_rate_under_the_interval_and_the_interval_under_the_promise():
    def rate(r: float, high: float) -> KindRate:
        return KindRate("BULLISH", 30, 100, int(r * 100), r, r - 0.1, high, 0.6, 0.55, 0.65, 0.5)

    assert rate(0.40, 0.50).below_promise
    assert not rate(0.40, 0.62).below_promise  # the live interval reaches the promise
    assert not rate(0.57, 0.58).below_promise  # inside the promised interval
