"""Charts page glue: range slicing, causal resampling, the plotly figure, widgets and the table.

The pure parts (``build_view``, ``resample_ohlcv``, ``build_figure``) take frames and return frames
or figures, so the benchmark and tests can run them without a Streamlit session. Indicators are
computed once over all stored candles (cached by the file's mtime in ``ui.loaders``) and then
sliced, so a 200-candle SMA is valid from the first candle of any range.

Gaps stay visible: the x axis is real time (no rangebreaks), lines break at a gap instead of
bridging it, and each gap span is shaded. When a range holds more than ``MAX_CANDLES`` candles the
chart shows coarser candles (2h, 4h, ... 1w): each coarse candle is built from the stored candles
inside its own time bucket only (first open, max high, min low, last close, summed volume), and
indicators are the stored-interval values at the coarse candle's last stored candle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.config import Interval
from core.data.coins import display_name
from core.data.store import find_gaps
from core.features.indicators import epoch_ms
from ui import state
from ui.loaders import load_candles, load_indicators, stored_summary

__all__ = [
    "DEFAULT_RANGE",
    "MAX_CANDLES",
    "OVERLAYS",
    "PANES",
    "RANGES",
    "ChartView",
    "available_coins",
    "build_figure",
    "build_view",
    "chart_controls",
    "chart_view",
    "render_table",
    "resample_ohlcv",
]

RANGES: dict[str, int | None] = {"7d": 7, "30d": 30, "90d": 90, "1y": 365, "all": None}
DEFAULT_RANGE = "30d"
MAX_CANDLES = 2_000
MAX_SHADED_GAPS = 200
_UP, _DOWN = "#26a69a", "#ef5350"
_OHLCV = ["open_time", "open", "high", "low", "close", "volume"]

#: Overlay label -> indicator columns drawn on the price pane.
OVERLAYS: dict[str, tuple[str, ...]] = {
    **{f"SMA {n}": (f"sma_{n}",) for n in (5, 10, 20, 50, 200)},
    **{f"EMA {n}": (f"ema_{n}",) for n in (10, 12, 20, 26)},
    "Bollinger Bands": ("bb_upper", "bb_middle", "bb_lower"),
    "Price channel (20)": ("donchian_high_20", "donchian_low_20"),
}
DEFAULT_OVERLAYS = ["SMA 20", "SMA 50"]

#: Lower pane label -> (line columns, bar columns, horizontal guide levels).
PANES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[float, ...]]] = {
    "RSI": (("rsi_14",), (), (30.0, 70.0)),
    "MACD": (("macd", "macd_signal"), ("macd_hist",), (0.0,)),
    "Stochastic": (("stoch_k", "stoch_d"), (), (20.0, 80.0)),
    "ADX ±DI": (("adx_14", "plus_di_14", "minus_di_14"), (), (25.0,)),
    "ATR": (("atr_14",), (), ()),
    "OBV": (("obv",), (), ()),
    "CCI": (("cci_20",), (), (-100.0, 100.0)),
    "Williams %R": (("williams_r_14",), (), (-80.0, -20.0)),
    "Chaikin Money Flow": (("cmf_20",), (), (0.0,)),
    "Volatility": (("volatility_20", "volatility_50"), (), ()),
}
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

    @property
    def resampled(self) -> bool:
        return self.shown_interval != self.interval

    def caption(self) -> str:
        """One or two sentences on what is drawn: candle size, resampling, gaps."""
        rows = len(self.table)
        text = f"{len(self.candles):,} {self.shown_interval} candles"
        if self.resampled:
            text += (
                f", resampled from {rows:,} {self.interval} candles (more than {MAX_CANDLES:,} "
                f"would not draw usefully); indicators are the {self.interval} values at each "
                "candle's close."
            )
        else:
            text += "."
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


def build_view(
    candles: pd.DataFrame,
    indicators: pd.DataFrame,
    *,
    symbol: str,
    interval: str = "1h",
    range_key: str = DEFAULT_RANGE,
    max_candles: int = MAX_CANDLES,
) -> ChartView:
    """Slice candles and indicators to the range ending at the last candle; resample if needed."""
    base = Interval.parse(interval)
    days = RANGES[range_key]
    if days is not None and len(candles):
        first = candles["open_time"].iloc[-1] - pd.Timedelta(days=days)
        mask = (candles["open_time"] > first).to_numpy()
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
        drawn, drawn_ind = resample_ohlcv(candles, shown, indicators)
    return ChartView(symbol, base.value, shown.value, range_key, drawn, drawn_ind, table, gaps)


def chart_view(symbol: str, interval: str, range_key: str) -> ChartView:
    """The view for a stored coin, from the cached candles and indicators.

    Raises core's DataError subclasses (no data, damaged file).
    """
    return build_view(
        load_candles(symbol, interval),
        load_indicators(symbol, interval),
        symbol=symbol,
        interval=interval,
        range_key=range_key,
    )


def _with_breaks(x: pd.Series, frame: pd.DataFrame, step: pd.Timedelta) -> tuple[pd.Series, ...]:
    """Insert a NaN row just after each hole in ``x`` so plotted lines break there."""
    holes = np.flatnonzero((x.diff() > step).to_numpy())
    if not len(holes):
        return x.reset_index(drop=True), frame.reset_index(drop=True)
    where = np.r_[holes, len(x)]
    blank = pd.DataFrame(np.nan, index=range(len(holes)), columns=frame.columns)
    xs, parts, prev = [], [], 0
    for i, stop in enumerate(where):
        xs.append(x.iloc[prev:stop])
        parts.append(frame.iloc[prev:stop])
        if i < len(holes):
            xs.append(pd.Series([x.iloc[stop - 1] + step]))
            parts.append(blank.iloc[i : i + 1])
        prev = stop
    return (
        pd.concat(xs, ignore_index=True),
        pd.concat(parts, ignore_index=True),
    )


def build_figure(view: ChartView, overlays: list[str], panes: list[str]) -> go.Figure:
    """Candles + volume, the ticked overlays on price and one row per ticked lower pane."""
    panes = [p for p in panes if p in PANES]
    rows = 2 + len(panes)
    heights = [0.55, 0.15] + [0.3] * len(panes)
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.02,
        row_heights=heights,
        subplot_titles=["", "Volume", *panes],
    )
    c = view.candles
    fig.add_trace(
        go.Candlestick(
            x=c["open_time"],
            open=c["open"],
            high=c["high"],
            low=c["low"],
            close=c["close"],
            name=f"{view.symbol} {view.shown_interval}",
            increasing={"line": {"color": _UP}, "fillcolor": _UP},
            decreasing={"line": {"color": _DOWN}, "fillcolor": _DOWN},
        ),
        row=1,
        col=1,
    )
    colors = np.where(c["close"].to_numpy() >= c["open"].to_numpy(), _UP, _DOWN)
    fig.add_trace(
        go.Bar(x=c["open_time"], y=c["volume"], marker_color=colors, name="volume"),
        row=2,
        col=1,
    )
    step = pd.Timedelta(milliseconds=Interval.parse(view.shown_interval).milliseconds)
    x, ind = _with_breaks(c["open_time"], view.indicators, step)
    for label in overlays:
        for col in OVERLAYS.get(label, ()):
            fig.add_trace(
                go.Scatter(x=x, y=ind[col], mode="lines", name=col, line={"width": 1.2}),
                row=1,
                col=1,
            )
    for row, label in enumerate(panes, start=3):
        lines, bars, levels = PANES[label]
        for col in bars:
            fig.add_trace(go.Bar(x=x, y=ind[col], name=col, opacity=0.5), row=row, col=1)
        for col in lines:
            fig.add_trace(
                go.Scatter(x=x, y=ind[col], mode="lines", name=col, line={"width": 1.2}),
                row=row,
                col=1,
            )
        for level in levels:
            fig.add_hline(y=level, line={"dash": "dot", "width": 1, "color": "grey"}, row=row)
    native = pd.Timedelta(milliseconds=Interval.parse(view.interval).milliseconds)
    shaded = view.gaps.nlargest(MAX_SHADED_GAPS, "missing") if len(view.gaps) else view.gaps
    fig.update_layout(
        shapes=list(fig.layout.shapes)
        + [
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": g.after + native,
                "x1": g.before,
                "y0": 0,
                "y1": 1,
                "fillcolor": "grey",
                "opacity": 0.25,
                "line": {"width": 0},
                "layer": "below",
            }
            for g in shaded.itertuples(index=False)
        ],
        height=480 + 170 * len(panes),
        margin={"l": 10, "r": 10, "t": 40 + 22 * ((len(fig.data) + 5) // 6), "b": 10},
        hovermode="x unified",
        showlegend=True,
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        xaxis_rangeslider_visible=False,
        title={
            "text": f"{display_name(view.symbol)} · {view.shown_interval}",
            "x": 0.01,
            "y": 0.995,
            "yanchor": "top",
        },
    )
    fig.update_xaxes(showspikes=True, spikemode="across", spikethickness=1)
    return fig


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


def chart_controls(available: dict[str, list[str]]) -> tuple[str, str, str, list[str], list[str]]:
    """Coin, interval, range, overlays and panes widgets; returns their values."""
    coins = list(available)
    if st.session_state.get(state.SELECTED_COIN) not in coins:
        st.session_state[state.SELECTED_COIN] = "BTCUSDT" if "BTCUSDT" in coins else coins[0]
    a, b, c = st.columns([2, 1, 3], vertical_alignment="bottom")
    symbol = a.selectbox(
        "Coin", coins, key=state.SELECTED_COIN, format_func=lambda s: f"{display_name(s)} · {s}"
    )
    intervals = available[symbol]
    if st.session_state.get(state.CHART_INTERVAL) not in intervals:
        st.session_state[state.CHART_INTERVAL] = intervals[0]
    interval = b.selectbox("Interval", intervals, key=state.CHART_INTERVAL)
    range_key = c.segmented_control(
        "Range", list(RANGES), default=DEFAULT_RANGE, required=True, key=state.CHART_RANGE
    )
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
    return symbol, interval, range_key or DEFAULT_RANGE, list(overlays or []), list(panes or [])


def render_table(view: ChartView) -> None:
    """The range's stored candles with every indicator, and a CSV download of the same."""
    table = view.table

    def csv() -> bytes:
        return table.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ").encode("utf-8")

    st.dataframe(table, hide_index=True, height=320)
    st.download_button(
        "Download CSV",
        data=csv,
        file_name=f"{view.symbol}-{view.interval}-{view.range_key}-indicators.csv",
        mime="text/csv",
        icon=":material/download:",
    )
