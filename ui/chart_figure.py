"""The Charts page's plotly figure: candles, volume, ticked overlays and one row per lower pane.

The figure is written as one plotly spec (rows laid out by hand, as ``make_subplots`` would) and
validated once, instead of growing a figure trace by trace: that is what keeps a toggle quick.
Each row gets its title in the gap above it (the gap is a fixed number of pixels, so a title
never sits on the pane above) and its own legend beside the title, with readable names and fixed
colours from :mod:`ui.chart_style`. Gaps stay visible: real time on the x axis, lines broken at a
gap, each gap span shaded.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.config import Interval
from core.data.coins import display_name
from core.features.indicators import epoch_ms
from ui import clock
from ui.chart_style import DOWN, OVERLAYS, PANES, UP, color, label

if TYPE_CHECKING:
    from ui.chart_band import MoveBand
    from ui.charts import ChartView

__all__ = ["BAND_COLOR", "MAX_SHADED_GAPS", "band_reaches", "build_figure"]

MAX_SHADED_GAPS = 200
_PRICE_PX, _VOLUME_PX, _PANE_PX = 420, 100, 150
_GAP_PX = 36  # between rows: room for the row's title and legend
_BOTTOM_PX = 36
_NEUTRAL = "#868e96"
#: The expected-move band: one hue, the wider the band the fainter (none is a candle colour).
BAND_COLOR = "250,176,5"
_BAND_OPACITY = {"90": 0.14, "80": 0.22, "50": 0.34}


def band_reaches(view: ChartView, band: MoveBand) -> bool:
    """True when the chart ends at the candle the band starts from (the Window can end before
    it, or another interval's file end elsewhere)."""
    if not len(view.table):
        return False
    step = pd.Timedelta(milliseconds=Interval.parse(view.interval).milliseconds)
    return bool(view.table["open_time"].iloc[-1] + step == band.anchor)


def _band_data(
    band: MoveBand, zone: tzinfo = UTC
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The band's filled fans (widest first, so narrower ones sit on top) and one label per
    horizon: from the last close at the anchor, out to each horizon's low and high."""
    hours = band.hours()
    t0 = float(_ms(pd.Series([band.anchor]), zone)[0])
    ts = [t0 + h * 3_600_000 for h in hours]
    traces = []
    for level in ("90", "80", "50"):
        highs = [band.prices(h, level)[1] for h in hours]
        lows = [band.prices(h, level)[0] for h in hours]
        ranges = "<br>".join(
            "next {} h: {:+.2%} … {:+.2%}".format(h, *band.moves[f"{h}h"]["bands"][level])
            for h in hours
        )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [t0, *ts, *ts[::-1], t0],
                "y": [band.price, *highs, *lows[::-1], band.price],
                "fill": "toself",
                "fillcolor": f"rgba({BAND_COLOR},{_BAND_OPACITY[level]})",
                "line": {"width": 0},
                "name": f"expected move {level}%",
                "meta": f"expected_move_{level}",
                "legendgroup": "expected_move",
                "hoveron": "fills",
                "text": f"{level}% band ({band.model})<br>{ranges}",
                "hoverinfo": "text",
                "xaxis": "x",
                "yaxis": "y",
                "legend": "legend",
            }
        )
    labels = [
        {
            "text": f"{h} h",
            "x": t,
            "y": band.prices(h, "90")[1],
            "xref": "x",
            "yref": "y",
            "yanchor": "bottom",
            "showarrow": False,
            "font": {"size": 11, "color": f"rgb({BAND_COLOR})"},
        }
        for h, t in zip(hours, ts, strict=True)
    ]
    return traces, labels


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
    return pd.concat(xs, ignore_index=True), pd.concat(parts, ignore_index=True)


def _ms(times: pd.Series, zone: tzinfo = UTC) -> np.ndarray:
    """Epoch milliseconds of the times as wall-clock times of ``zone``: a date axis shows them as
    they are, so the axis reads in the viewer's zone (the title names it)."""
    return epoch_ms(clock.to_viewer(times, zone=zone)).astype("float64")


def _axis(i: int) -> str:
    return "" if i == 1 else str(i)


def _rows(n_panes: int, top_px: int) -> tuple[int, list[tuple[float, float]]]:
    """Figure height and each row's y domain (paper units, top row first)."""
    heights = [_PRICE_PX, _VOLUME_PX] + [_PANE_PX] * n_panes
    plot_px = sum(heights) + _GAP_PX * (len(heights) - 1)
    domains, top = [], float(plot_px)
    for h in heights:
        domains.append(((top - h) / plot_px, top / plot_px))
        top -= h + _GAP_PX
    return plot_px + top_px + _BOTTOM_PX, domains


def _line(x: Any, y: pd.Series, col: str, row: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "lines",
        "x": x,
        "y": y.to_numpy(),
        "name": label(col),
        "meta": col,
        "line": {"width": 1.3, "color": color(col), **extra},
        "xaxis": f"x{_axis(row)}",
        "yaxis": f"y{_axis(row)}",
        "legend": f"legend{_axis(row)}",
        "hovertemplate": "%{y:.6g}",
    }


def build_figure(
    view: ChartView,
    overlays: list[str],
    panes: list[str],
    band: MoveBand | None = None,
    zone: tzinfo = UTC,
) -> go.Figure:
    """Candles + volume, the ticked overlays on price and one row per ticked lower pane; the
    expected-move ``band`` ahead of the last candle when given and the chart reaches it
    (:func:`band_reaches`).

    Traces are named for people (``SMA 20``); each trace's ``meta`` holds its column name.
    """
    panes = [p for p in panes if p in PANES]
    overlay_cols = [c for name in overlays for c in OVERLAYS.get(name, ())]
    price_entries = 1 + len(overlay_cols) + (3 if band is not None else 0)
    top_px = 44 + 22 * (-(-price_entries // 6))  # the title and the price legend's lines
    height, domains = _rows(len(panes), top_px)
    c = view.candles
    # Times go as epoch milliseconds (a date axis reads them as UTC): sent as one binary array per
    # trace instead of 27-character strings, which more than halves what a toggle ships.
    times = _ms(c["open_time"], zone)
    data: list[dict[str, Any]] = [
        {
            "type": "candlestick",
            "x": times,
            "open": c["open"].to_numpy(),
            "high": c["high"].to_numpy(),
            "low": c["low"].to_numpy(),
            "close": c["close"].to_numpy(),
            "name": f"{view.symbol} {view.shown_interval}",
            "increasing": {"line": {"color": UP}, "fillcolor": UP},
            "decreasing": {"line": {"color": DOWN}, "fillcolor": DOWN},
            "xaxis": "x",
            "yaxis": "y",
            "legend": "legend",
        },
        {
            "type": "bar",
            "x": times,
            "y": c["volume"].to_numpy(),
            "name": "Volume",
            "marker": {"color": np.where(c["close"] >= c["open"], UP, DOWN)},
            "xaxis": "x2",
            "yaxis": "y2",
            "showlegend": False,
        },
    ]
    step = pd.Timedelta(milliseconds=Interval.parse(view.shown_interval).milliseconds)
    broken, ind = _with_breaks(c["open_time"], view.indicators, step)
    x = _ms(broken, zone)
    for col in overlay_cols:
        dash = {"dash": "dot"} if col.startswith(("bb_", "donchian_")) else {}
        data.append(_line(x, ind[col], col, 1, **dash))
    annotations: list[dict[str, Any]] = []
    if band is not None and band_reaches(view, band):
        band_traces, annotations = _band_data(band, zone)
        data += band_traces
    shapes: list[dict[str, Any]] = []
    layout: dict[str, Any] = {}
    titles = ["Volume", *panes]
    for row, name in enumerate(panes, start=3):
        lines, bars, levels = PANES[name]
        for col in bars:  # the MACD histogram, coloured by sign
            values = ind[col].to_numpy(dtype="float64")
            colors = np.where(np.isnan(values), _NEUTRAL, np.where(values >= 0, UP, DOWN))
            data.append(
                {
                    "type": "bar",
                    "x": x,
                    "y": values,
                    "name": label(col),
                    "meta": col,
                    "marker": {"color": colors},
                    "opacity": 0.55,
                    "xaxis": f"x{row}",
                    "yaxis": f"y{row}",
                    "legend": f"legend{row}",
                    "hovertemplate": "%{y:.6g}",
                }
            )
        for col in lines:
            data.append(_line(x, ind[col], col, row))
        for level in levels:
            shapes.append(
                {
                    "type": "line",
                    "xref": f"x{row} domain",
                    "x0": 0,
                    "x1": 1,
                    "yref": f"y{row}",
                    "y0": level,
                    "y1": level,
                    "line": {"dash": "dot", "width": 1, "color": "grey"},
                }
            )
    last_row = 2 + len(panes)
    for row, (lo, hi) in enumerate(domains, start=1):
        layout[f"xaxis{_axis(row)}"] = {
            "type": "date",
            "anchor": f"y{_axis(row)}",
            "showticklabels": row == last_row,
            "showspikes": True,
            "spikemode": "across",
            "spikethickness": 1,
            **({"matches": "x"} if row > 1 else {"rangeslider": {"visible": False}}),
        }
        layout[f"yaxis{_axis(row)}"] = {"domain": [lo, hi], "anchor": f"x{_axis(row)}"}
        if row >= 2:
            annotations.append(
                {
                    "text": f"<b>{titles[row - 2]}</b>",
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0,
                    "y": hi,
                    "xanchor": "left",
                    "yanchor": "bottom",
                    "yshift": 2,
                    "showarrow": False,
                }
            )
        if row == 1 or row >= 3:
            layout[f"legend{_axis(row)}"] = {
                "orientation": "h",
                "x": 1 if row >= 3 else 0,
                "xanchor": "right" if row >= 3 else "left",
                "y": hi,
                "yanchor": "bottom",
                "bgcolor": "rgba(0,0,0,0)",
            }
    native = pd.Timedelta(milliseconds=Interval.parse(view.interval).milliseconds)
    shaded = view.gaps.nlargest(MAX_SHADED_GAPS, "missing") if len(view.gaps) else view.gaps
    shapes += [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": _ms(pd.Series([g.after + native]), zone)[0],
            "x1": _ms(pd.Series([g.before]), zone)[0],
            "y0": 0,
            "y1": 1,
            "fillcolor": "grey",
            "opacity": 0.25,
            "line": {"width": 0},
            "layer": "below",
        }
        for g in shaded.itertuples(index=False)
    ]
    layout.update(
        height=height,
        margin={"l": 10, "r": 10, "t": top_px, "b": _BOTTOM_PX},
        hovermode="x unified",
        showlegend=True,
        shapes=shapes,
        annotations=annotations,
        bargap=0,
        title={
            "text": f"{display_name(view.symbol)} · {view.shown_interval} · "
            f"times in {clock.zone_name(zone)}",
            "x": 0.01,
            "y": 1.0,
            "yref": "container",
            "yanchor": "top",
            "pad": {"t": 8},
        },
    )
    return go.Figure({"data": data, "layout": layout})
