"""Charts page glue: range slicing, causal resampling, the plotly figure, widgets and the table.

The pure parts (``build_view``, ``resample_ohlcv``, ``build_figure``) take frames and return frames
or figures, so the benchmark and tests can run them without a Streamlit session. Indicators are
computed once over all stored candles (cached by the file's mtime in ``ui.loaders``) and then
sliced, so a 200-candle SMA is valid from the first candle of any range.

Gaps stay visible: the x axis is real time (no rangebreaks), lines break at a gap instead of
bridging it, and each gap span is shaded. When a range holds more than ``MAX_CANDLES`` candles the
chart shows coarser candles (2h, 4h, ... 1w): each coarse candle is built from the stored candles
inside its own time bucket only (first open, max high, min low, last close, summed volume), and
the indicators drawn are computed on those coarse candles (all stored candles resampled, then
sliced), so a 14-candle Stochastic on 6h candles reads as it would on a 6h chart. The 1h values
sampled every sixth hour drew a solid block (the Stochastic swings end to end within a day) and
a tangle (ADX). The table below the chart keeps the stored-interval values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from core.config import Interval
from core.data.coins import display_name
from core.data.fetch_status import data_age
from core.data.store import candle_mtime_ns, find_gaps
from core.features.indicators import compute_indicators, epoch_ms
from ui import clock, deep_link, state
from ui.chart_band import MoveBand, band_note
from ui.chart_figure import band_reaches, build_figure
from ui.chart_style import OVERLAYS, PANES, label
from ui.context import context
from ui.loaders import load_candles, load_indicators, stored_summary

__all__ = [
    "DEFAULT_RANGE",
    "MAX_CANDLES",
    "RANGES",
    "ChartView",
    "available_coins",
    "band_caption",
    "build_view",
    "chart_controls",
    "coarse_indicators",
    "chart_view",
    "indicator_controls",
    "render_chart",
    "range_bounds",
    "render_table",
    "resample_ohlcv",
    "staleness_note",
    "window_control",
]

RANGES: dict[str, int | None] = {"7d": 7, "30d": 30, "90d": 90, "1y": 365, "all": None}
DEFAULT_RANGE = "30d"
MAX_CANDLES = 2_000
_OHLCV = ["open_time", "open", "high", "low", "close", "volume"]

DEFAULT_OVERLAYS = ["SMA 20", "SMA 50"]
DEFAULT_PANES = ["RSI", "MACD"]
_COARSER = (
    Interval.M15,
    Interval.M30,
    Interval.H1,
    Interval.H2,
    Interval.H4,
    Interval.H6,
    Interval.H12,
    Interval.D1,
    Interval.D3,
    Interval.W1,
)
_WEEK_OFFSET_MS = 4 * 86_400_000  # weekly buckets start on Monday, like Binance's 1w candles


@dataclass(frozen=True)
class ChartView:
    """What the Charts page draws for one coin, interval and range."""

    symbol: str
    interval: str
    shown_interval: str
    range_key: str
    candles: pd.DataFrame  # open_time + OHLCV at shown_interval
    indicators: pd.DataFrame  # aligned row by row with ``candles``
    table: pd.DataFrame  # stored-interval rows of the range: OHLCV + every indicator
    gaps: pd.DataFrame  # core.data.store.find_gaps rows inside the range
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None  # a part of the range, when narrowed

    @property
    def resampled(self) -> bool:
        return self.shown_interval != self.interval

    def caption(self) -> str:
        """One or two sentences on what is drawn: candle size, resampling, gaps."""
        rows = len(self.table)
        text = f"{len(self.candles):,} {self.shown_interval} candles"
        if self.window is not None:
            days = (self.window[1].normalize() - self.window[0].normalize()).days + 1
            text += (
                f" from {self.window[0]:%Y-%m-%d} to {self.window[1]:%Y-%m-%d} UTC "
                f"({days:,} days: the Window)"
            )
        if self.resampled:
            text += (
                f", resampled from {rows:,} {self.interval} candles (more than {MAX_CANDLES:,} "
                f"would not draw usefully); the indicators drawn are computed on these "
                f"{self.shown_interval} candles, as on a {self.shown_interval} chart (the table "
                f"below lists the {self.interval} values)."
            )
        else:
            text += "."
        if self.resampled:
            text += (
                " Zooming with the mouse magnifies these candles; for finer ones, narrow the "
                "Window above to fewer days (Streamlit does not pass the chart's zoom back)."
            )
        if len(self.gaps):
            missing = int(self.gaps["missing"].sum())
            text += (
                f" {len(self.gaps):,} exchange gap(s) ({missing:,} missing {self.interval} "
                "candles) in this range, shaded grey; nothing is filled in."
            )
        return text


def resample_ohlcv(
    candles: pd.DataFrame, interval: str | Interval, indicators: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Coarser candles from the stored ones, each from its own time bucket only (causal).

    Buckets are aligned to 1970-01-01 UTC (weeks to Mondays) and labelled by their start; a
    bucket without candles (a gap) has no row. ``indicators`` rows are taken at each bucket's
    last candle. Returns ``(candles, indicators)`` with a fresh RangeIndex.
    """
    rule = Interval.parse(interval).milliseconds
    offset = _WEEK_OFFSET_MS if Interval.parse(interval) is Interval.W1 else 0
    ms = epoch_ms(candles["open_time"])
    if not len(ms):
        return candles[_OHLCV].reset_index(drop=True), indicators
    bucket = (ms - offset) // rule
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(ms)] - 1
    values = {k: candles[k].to_numpy(dtype="float64") for k in ("open", "high", "low", "close")}
    out = pd.DataFrame(
        {
            "open_time": pd.to_datetime(bucket[starts] * rule + offset, unit="ms", utc=True),
            "open": values["open"][starts],
            "high": np.maximum.reduceat(values["high"], starts),
            "low": np.minimum.reduceat(values["low"], starts),
            "close": values["close"][ends],
            "volume": np.add.reduceat(candles["volume"].to_numpy(dtype="float64"), starts),
        }
    )
    picked = None if indicators is None else indicators.iloc[ends].reset_index(drop=True)
    return out, picked


def _shown_interval(base: Interval, span_ms: int, max_candles: int) -> Interval:
    for candidate in _COARSER:
        if candidate.milliseconds < base.milliseconds:
            continue
        if candidate.milliseconds % base.milliseconds:
            continue
        if span_ms // candidate.milliseconds + 1 <= max_candles:
            return candidate
    return Interval.W1 if Interval.W1.milliseconds >= base.milliseconds else base


def _bucket_start(time: pd.Timestamp, interval: Interval) -> pd.Timestamp:
    """The open time of the ``interval`` bucket holding ``time`` (as :func:`resample_ohlcv`)."""
    rule = interval.milliseconds
    offset = _WEEK_OFFSET_MS if interval is Interval.W1 else 0
    ms = int(epoch_ms(pd.Series([time]))[0])
    return pd.Timestamp((ms - offset) // rule * rule + offset, unit="ms", tz="UTC")


def coarse_indicators(candles: pd.DataFrame, interval: str | Interval) -> pd.DataFrame:
    """Indicators computed on the ``interval`` candles resampled from ``candles``.

    Returns the resampled candles (``open_time`` + OHLCV) with every indicator column beside
    them, one row per non-empty bucket, computed over all of ``candles`` so long look-backs
    (SMA 200) are filled from the first coarse candle of any later range. Causal like
    :func:`resample_ohlcv`: a row uses only buckets that ended at or before its own.
    """
    shown = Interval.parse(interval)
    coarse, _ = resample_ohlcv(candles, shown)
    step = pd.Timedelta(milliseconds=shown.milliseconds)
    fed = coarse.assign(close_time=coarse["open_time"] + step - pd.Timedelta(milliseconds=1))
    return pd.concat([coarse, compute_indicators(fed)], axis=1)


def build_view(
    candles: pd.DataFrame,
    indicators: pd.DataFrame,
    *,
    symbol: str,
    interval: str = "1h",
    range_key: str = DEFAULT_RANGE,
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    max_candles: int = MAX_CANDLES,
) -> ChartView:
    """Slice candles and indicators to the range ending at the last candle, then to ``window``
    (open times, both ends included) when given; resample if there are still too many.

    ``candles`` are all stored candles and ``indicators`` theirs. When resampled, the drawn
    candles are the coarse buckets that hold the sliced candles (whole buckets), and their
    indicators are computed on the coarse candles (:func:`coarse_indicators`), not the stored
    interval's values picked at each bucket's close."""
    base = Interval.parse(interval)
    stored = candles
    days = RANGES[range_key]
    if days is not None and len(candles):
        first = candles["open_time"].iloc[-1] - pd.Timedelta(days=days)
        mask = (candles["open_time"] > first).to_numpy()
        candles, indicators = candles.loc[mask], indicators.loc[mask]
    if window is not None:
        times = candles["open_time"]
        mask = ((times >= window[0]) & (times <= window[1])).to_numpy()
        candles, indicators = candles.loc[mask], indicators.loc[mask]
    table = pd.concat([candles[_OHLCV], indicators], axis=1).reset_index(drop=True)
    gaps = find_gaps(candles, base)
    shown = base
    if len(candles) > max_candles:
        ms = epoch_ms(candles["open_time"])
        shown = _shown_interval(base, int(ms[-1] - ms[0]), max_candles)
    if shown is base:
        drawn, drawn_ind = candles[_OHLCV].reset_index(drop=True), indicators.reset_index(drop=True)
    else:
        coarse = coarse_indicators(stored, shown)
        lo = _bucket_start(candles["open_time"].iloc[0], shown)
        hi = _bucket_start(candles["open_time"].iloc[-1], shown)
        coarse = coarse[(coarse["open_time"] >= lo) & (coarse["open_time"] <= hi)]
        coarse = coarse.reset_index(drop=True)
        drawn, drawn_ind = coarse[_OHLCV], coarse.drop(columns=_OHLCV)
    return ChartView(
        symbol, base.value, shown.value, range_key, drawn, drawn_ind, table, gaps, window
    )


@st.cache_data(show_spinner=False, max_entries=16)
def _view(
    symbol: str,
    interval: str,
    range_key: str,
    window: tuple[pd.Timestamp, pd.Timestamp] | None,
    mtime_ns: int,
) -> ChartView:
    return build_view(
        load_candles(symbol, interval),
        load_indicators(symbol, interval),
        symbol=symbol,
        interval=interval,
        range_key=range_key,
        window=window,
    )


def chart_view(
    symbol: str,
    interval: str,
    range_key: str,
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> ChartView:
    """The view for a stored coin, cached until its candle file changes (so toggling an overlay
    or a pane only redraws).

    Raises core's DataError subclasses (no data, damaged file).
    """
    return _view(
        symbol,
        interval,
        range_key,
        window,
        candle_mtime_ns(symbol, interval, paths=context().paths),
    )


def staleness_note(symbol: str, interval: str, *, now: datetime | None = None) -> str:
    """A warning when the coin's stored candles end long before ``now`` (default: this run's
    clock, :func:`ui.context.context`) by more than a day and two candles, else "": the
    chart then shows the past, not the market today."""
    last = load_candles(symbol, interval)["open_time"].iloc[-1]
    step = pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds)
    # the clock, or CRYPTOVOLT_NOW as the Signals page and the expected-move band read it
    now_ts = pd.Timestamp(now) if now is not None else context().now()
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts
    if now_ts - (last + step) <= max(pd.Timedelta(days=1), 2 * step):
        return ""
    age = data_age(last, interval, now=now_ts.to_pydatetime(), when=clock.when)
    return (
        f"{symbol}: {age}, so this chart shows "
        "the past, not the market today. Fetch on the Data page to bring it up to date."
    )


def range_bounds(symbol: str, interval: str, range_key: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last open time of the range (what the Window slider spans)."""
    times = load_candles(symbol, interval)["open_time"]
    days = RANGES[range_key]
    last = times.iloc[-1]
    first = times.iloc[0] if days is None else times[times > last - pd.Timedelta(days=days)].iloc[0]
    return first, last


def window_control(symbol: str, interval: str, range_key: str) -> tuple[pd.Timestamp, ...] | None:
    """The Window: a span of whole days (UTC dates) of the range to draw with finer candles;
    None = all of it.

    Streamlit does not send a plotly chart's zoom back to the app, so zooming with the mouse can
    only magnify the candles drawn; narrowing this window reloads the candles for that span at
    the finest size that still draws well. It picks dates, not slider pixels: over a year a
    slider moved about 9 hours per pixel.
    """
    first, last = range_bounds(symbol, interval, range_key)
    lo, hi = first.date(), last.date()
    if lo == hi:
        return None
    picked = st.date_input(
        "Window (UTC dates)",
        value=(lo, hi),
        min_value=lo,
        max_value=hi,
        format="YYYY-MM-DD",
        key=f"{state.CHART_WINDOW}_{symbol}_{interval}_{range_key}",
        help=(
            "Zooming in the chart only magnifies the candles drawn (Streamlit does not pass the "
            "chart's zoom back). Pick fewer days here to load finer candles for them."
        ),
    )
    dates = tuple(picked) if isinstance(picked, tuple | list) else (picked,)
    if not dates:
        return None
    start = max(pd.Timestamp(dates[0], tz="UTC"), first)
    end_day = dates[-1] if len(dates) > 1 else hi
    end = min(pd.Timestamp(end_day, tz="UTC") + pd.Timedelta(days=1, milliseconds=-1), last)
    return None if (start, end) == (first, last) else (start, end)


def available_coins() -> dict[str, list[str]]:
    """Symbol -> intervals with readable, non-empty candle files (1h first)."""
    summary = stored_summary()
    out: dict[str, list[str]] = {}
    for row in summary.itertuples(index=False):
        if row.rows > 0 and not row.error:
            out.setdefault(row.symbol, []).append(row.interval)
    for intervals in out.values():
        intervals.sort(key=lambda i: (i != "1h", Interval.parse(i).milliseconds))
    return out


def chart_controls(available: dict[str, list[str]]) -> tuple[str, str, str]:
    """Coin, interval and range widgets; returns their values."""
    coins = list(available)
    deep_link.seed_coin(state.SELECTED_COIN, coins)  # /charts?coin=ETHUSDT&interval=4h
    if st.session_state.get(state.SELECTED_COIN) not in coins:
        st.session_state[state.SELECTED_COIN] = "BTCUSDT" if "BTCUSDT" in coins else coins[0]
    a, b, c = st.columns([2, 1, 3], vertical_alignment="bottom")
    symbol = a.selectbox("Coin", coins, key=state.SELECTED_COIN, format_func=display_name)
    intervals = available[symbol]
    deep_link.seed(deep_link.INTERVAL, state.CHART_INTERVAL, intervals)
    if st.session_state.get(state.CHART_INTERVAL) not in intervals:
        st.session_state[state.CHART_INTERVAL] = intervals[0]
    interval = b.selectbox("Interval", intervals, key=state.CHART_INTERVAL)
    deep_link.publish(coin=symbol, interval=interval)
    range_key = c.segmented_control(
        "Range", list(RANGES), default=DEFAULT_RANGE, required=True, key=state.CHART_RANGE
    )
    return symbol, interval, range_key or DEFAULT_RANGE


def indicator_controls() -> tuple[list[str], list[str]]:
    """Overlay and lower-pane pills; returns the ticked labels."""
    overlays = st.pills(
        "Overlays",
        list(OVERLAYS),
        selection_mode="multi",
        default=DEFAULT_OVERLAYS,
        key=state.CHART_OVERLAYS,
    )
    panes = st.pills(
        "Lower panes",
        list(PANES),
        selection_mode="multi",
        default=DEFAULT_PANES,
        key=state.CHART_PANES,
    )
    return list(overlays or []), list(panes or [])


def band_caption(view: ChartView, band: MoveBand | None, why: str) -> str:
    """What the expected-move band drawn is, or why none is drawn."""
    if band is not None and not band_reaches(view, band):
        return band_note(
            None, "the chart ends before the last candle it starts from; widen the Window"
        )
    return band_note(band, why)


@st.fragment
def render_chart(view: ChartView, band: MoveBand | None = None) -> None:
    """The indicator pills and the figure (with the expected-move ``band`` ahead of the last
    candle). A fragment: ticking an overlay or a pane reruns only this (the table below, which
    does not change, is not sent and drawn again)."""
    overlays, panes = indicator_controls()
    st.plotly_chart(
        build_figure(view, overlays, panes, band, clock.viewer_zone()), config={"scrollZoom": True}
    )


def render_table(view: ChartView) -> None:
    """The range's stored candles with every indicator, newest first, every digit shown (10
    significant), readable column names; and a CSV download of the same (column names as data).
    """
    table = view.table

    def csv() -> bytes:
        return bytes(table.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ").encode("utf-8"))

    shown = table.iloc[::-1].copy()
    shown["open_time"] = clock.to_viewer(shown["open_time"])  # the CSV stays UTC
    config: dict[str, Any] = {
        "open_time": st.column_config.DatetimeColumn(
            clock.column_label("open time"), format="YYYY-MM-DD HH:mm", pinned=True
        )
    }
    for col in shown.columns[1:]:
        config[col] = st.column_config.NumberColumn(label(col), format="%.10g")
    st.dataframe(shown, hide_index=True, height=320, column_config=config)
    st.download_button(
        "Download CSV",
        data=csv,
        file_name=f"{view.symbol}-{view.interval}-{view.range_key}-indicators.csv",
        mime="text/csv",
        icon=":material/download:",
    )
