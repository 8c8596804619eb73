"""The Charts page's pure parts: causal OHLCV resampling, range slicing, the figure's content."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.features.indicators import compute_indicators
from ui.chart_figure import build_figure
from ui.chart_style import OVERLAYS, PANES
from ui.charts import MAX_CANDLES, build_view, resample_ohlcv

AGG = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}


def _pandas_resample(candles: pd.DataFrame, rule: str) -> pd.DataFrame:
    out = (
        candles.set_index("open_time")[list(AGG)].resample(rule.replace("d", "D")).agg(AGG).dropna()
    )
    return out.reset_index()


@pytest.mark.parametrize("rule", ["4h", "12h", "1d"])
def test_resample_matches_pandas_and_skips_empty_buckets(btc_candles, rule):
    gappy = btc_candles.drop(index=range(1000, 1030)).reset_index(drop=True)
    got, _ = resample_ohlcv(gappy, rule)
    want = _pandas_resample(gappy, rule)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_freq=False)


def test_weekly_buckets_start_on_monday(btc_candles):
    got, _ = resample_ohlcv(btc_candles, "1w")
    assert (got["open_time"].dt.day_of_week.iloc[1:] == 0).all()
    assert got["volume"].sum() == pytest.approx(btc_candles["volume"].sum())


def test_resampled_candles_use_only_candles_inside_their_bucket(btc_candles):
    full, _ = resample_ohlcv(btc_candles, "1d")
    for cut in (500, 777, 2000):
        early, _ = resample_ohlcv(btc_candles.iloc[:cut], "1d")
        # Every finished day is identical; the last (partial) day only holds candles up to cut.
        pd.testing.assert_frame_equal(early.iloc[:-1], full.iloc[: len(early) - 1])
        day = btc_candles.iloc[:cut]
        last = day[day["open_time"] >= early["open_time"].iloc[-1]]
        assert early["close"].iloc[-1] == last["close"].iloc[-1]
        assert early["high"].iloc[-1] == last["high"].max()


def test_indicators_are_taken_at_each_buckets_last_candle(btc_candles):
    ind = compute_indicators(btc_candles)
    candles, picked = resample_ohlcv(btc_candles, "6h", ind)
    assert len(picked) == len(candles)
    last_rows = btc_candles.groupby(btc_candles["open_time"].dt.floor("6h")).tail(1).index
    pd.testing.assert_frame_equal(picked, ind.loc[last_rows].reset_index(drop=True))


@pytest.mark.parametrize(("range_key", "shown"), [("all", "6h"), ("1y", "6h"), ("90d", "2h")])
def test_indicators_on_a_resampled_range_are_computed_on_the_resampled_candles(
    btc_candles, range_key, shown
):
    view = build_view(
        btc_candles, compute_indicators(btc_candles), symbol="BTCUSDT", range_key=range_key
    )
    assert view.shown_interval == shown
    coarse, _ = resample_ohlcv(btc_candles, shown)
    step = pd.Timedelta(shown)
    fed = coarse.assign(close_time=coarse["open_time"] + step - pd.Timedelta(milliseconds=1))
    want = compute_indicators(fed).set_index(coarse["open_time"])
    got = view.indicators.set_index(view.candles["open_time"])
    # the drawn candles are whole buckets of the resampled series, and their indicators are
    # those computed on that series (not the 1h values at each bucket's close)
    pd.testing.assert_frame_equal(
        view.candles, coarse[coarse["open_time"].isin(got.index)].reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(got, want.loc[got.index])
    if range_key != "all":  # look-backs are filled from the coarse candles before the range
        assert got["rsi_14"].notna().all() and got["macd_signal"].notna().all()
    picked = resample_ohlcv(btc_candles, shown, compute_indicators(btc_candles))[1]
    hourly = picked.set_index(coarse["open_time"]).loc[got.index]
    # the 1h Stochastic sampled every 6 hours swings end to end (the "solid block"): on the
    # sample its mean step is 21.9 points, on 6h candles 6.3
    jumps = got["stoch_k"].diff().abs().mean()
    assert jumps < (0.5 if shown == "6h" else 1.0) * hourly["stoch_k"].diff().abs().mean()
    assert "computed on these " + shown + " candles" in view.caption()


@pytest.mark.parametrize(
    ("range_key", "rows", "shown"),
    [("7d", 168, "1h"), ("30d", 720, "1h"), ("90d", 2160, "2h"), ("1y", 8760, "6h")],
)
def test_ranges_end_at_the_last_candle_and_stay_under_the_limit(
    btc_candles, range_key, rows, shown
):
    view = build_view(
        btc_candles, compute_indicators(btc_candles), symbol="BTCUSDT", range_key=range_key
    )
    assert len(view.table) == rows
    assert view.shown_interval == shown
    assert len(view.candles) <= MAX_CANDLES
    assert view.table["open_time"].iloc[-1] == btc_candles["open_time"].iloc[-1]
    assert ("resampled" in view.caption()) == (shown != "1h")


def test_figure_has_a_row_per_pane_and_every_ticked_trace(btc_candles):
    view = build_view(btc_candles, compute_indicators(btc_candles), symbol="BTCUSDT")
    fig = build_figure(view, list(OVERLAYS), list(PANES))
    names = {t.meta for t in fig.data}
    for cols in OVERLAYS.values():
        assert set(cols) <= names
    for lines, bars, _ in PANES.values():
        assert set(lines) | set(bars) <= names
    assert len([k for k in fig.layout if k.startswith("yaxis")]) == 2 + len(PANES)
    assert not fig.layout.xaxis.rangebreaks, "gaps must stay visible"


def test_lines_break_at_gaps_but_candles_are_not_invented(btc_candles):
    gappy = btc_candles.iloc[-400:].drop(index=btc_candles.index[-100:-90])
    view = build_view(gappy, compute_indicators(gappy), symbol="BTCUSDT", range_key="7d")
    fig = build_figure(view, ["SMA 20"], [])
    candle = next(t for t in fig.data if t.type == "candlestick")
    sma = next(t for t in fig.data if t.meta == "sma_20")
    assert len(candle.x) == len(view.candles) == 168 - 10
    assert np.isnan(np.asarray(sma.y, dtype=float)).sum() == 1
    assert len(fig.layout.shapes) == 1


def test_legends_are_readable_and_colours_tell_lines_apart(btc_candles):
    from ui.chart_style import DOWN, UP

    view = build_view(btc_candles, compute_indicators(btc_candles), symbol="BTCUSDT")
    fig = build_figure(view, ["SMA 20", "SMA 50"], ["MACD", "RSI"])
    by_col = {t.meta: t for t in fig.data if t.meta}
    assert by_col["sma_20"].name == "SMA 20" and by_col["macd_hist"].name == "MACD histogram"
    assert by_col["macd"].line.color != by_col["macd_signal"].line.color
    assert by_col["sma_50"].line.color not in (UP, DOWN), "not red like falling candles"
    hist = by_col["macd_hist"]
    values = np.asarray(hist.y, dtype=float)
    colors = np.asarray(hist.marker.color)
    assert set(colors[values > 0]) == {UP} and set(colors[values < 0]) == {DOWN}


def test_pane_titles_sit_in_a_gap_above_their_pane_not_on_the_pane_above(btc_candles):
    view = build_view(btc_candles, compute_indicators(btc_candles), symbol="BTCUSDT")
    fig = build_figure(view, ["SMA 20"], list(PANES))
    plot_px = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
    domains = [fig.layout[f"yaxis{i if i > 1 else ''}"].domain for i in range(1, 3 + len(PANES))]
    titles = {a.text: a.y for a in fig.layout.annotations}
    assert list(titles) == ["<b>Volume</b>", *(f"<b>{p}</b>" for p in PANES)]
    assert len(titles) == len(domains) - 1
    for (lo_above, _), (_, hi), y in zip(domains, domains[1:], titles.values(), strict=False):
        assert y == hi  # the title's baseline is its own pane's top ...
        assert (lo_above - hi) * plot_px >= 30  # ... with 30 px of room before the pane above


def test_staleness_note_only_when_the_data_ends_long_before_now(home_with_sample):
    from datetime import timedelta

    from ui.charts import staleness_note

    last = pd.Timestamp("2025-05-30 00:00", tz="UTC").to_pydatetime()
    assert staleness_note("BTCUSDT", "1h", now=last + timedelta(hours=3)) == ""
    note = staleness_note("BTCUSDT", "1h", now=last + timedelta(days=3, hours=1))
    assert note.startswith("BTCUSDT: the stored candles end 2025-05-30 00:00 UTC, 3.0 days old")


def test_the_time_axis_reads_in_the_given_zone(btc_candles):
    """Tokyo is UTC+9: every candle's x is its Tokyo wall clock, and the title names the zone."""
    from zoneinfo import ZoneInfo

    view = build_view(btc_candles, compute_indicators(btc_candles), symbol="BTCUSDT")
    utc = build_figure(view, [], [])
    tokyo = build_figure(view, [], [], zone=ZoneInfo("Asia/Tokyo"))
    shift = np.asarray(tokyo.data[0].x, dtype="float64") - np.asarray(
        utc.data[0].x, dtype="float64"
    )
    assert len(shift) and (shift == 9 * 3_600_000).all()
    assert tokyo.layout.title.text.endswith("times in Asia/Tokyo")
    assert utc.layout.title.text.endswith("times in UTC")
