"""What the Charts page can draw and how each line looks: readable names and fixed colours.

Column names (``sma_20``, ``macd_hist``) stay the data's; people see :func:`label` ("SMA 20",
"MACD histogram") in legends and table headers. Colours are fixed per column, so a line keeps its
colour whatever else is ticked, and no overlay on the price pane uses the candles' green or red
(an SMA 50 in red would read as falling candles). The MACD histogram is coloured by sign.
"""

from __future__ import annotations

import re

__all__ = ["DOWN", "LINE_COLORS", "OVERLAYS", "PANES", "UP", "color", "label"]

UP, DOWN = "#26a69a", "#ef5350"  # candles, volume, histogram by sign, +DI / -DI

#: Overlay label -> indicator columns drawn on the price pane.
OVERLAYS: dict[str, tuple[str, ...]] = {
    **{f"SMA {n}": (f"sma_{n}",) for n in (5, 10, 20, 50, 200)},
    **{f"EMA {n}": (f"ema_{n}",) for n in (10, 12, 20, 26)},
    "Bollinger Bands": ("bb_upper", "bb_middle", "bb_lower"),
    "Price channel (20)": ("donchian_high_20", "donchian_low_20"),
}

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

_LABELS = {
    "open_time": "open time (UTC)",
    "macd": "MACD",
    "macd_signal": "MACD signal",
    "macd_hist": "MACD histogram",
    "bb_upper": "Bollinger upper",
    "bb_middle": "Bollinger middle",
    "bb_lower": "Bollinger lower",
    "bb_width": "Bollinger width",
    "donchian_high_20": "Channel high 20",
    "donchian_low_20": "Channel low 20",
    "stoch_k": "Stochastic %K",
    "stoch_d": "Stochastic %D",
    "plus_di_14": "+DI 14",
    "minus_di_14": "−DI 14",
    "williams_r_14": "Williams %R 14",
    "cmf_20": "Chaikin MF 20",
    "obv": "OBV",
    "volume_ratio_20": "Volume ratio 20",
    "volume_trend_5_20": "Volume trend 5/20",
    "price_position_20": "Price position 20",
}
_PREFIXES = {
    "sma": "SMA",
    "ema": "EMA",
    "rsi": "RSI",
    "adx": "ADX",
    "atr": "ATR",
    "cci": "CCI",
    "roc": "ROC",
    "momentum": "Momentum",
    "volatility": "Volatility",
}

#: Line colour per column: none is the candles' green or red, except +DI / -DI by convention.
LINE_COLORS = {
    "sma_5": "#ffd43b",
    "sma_10": "#ff922b",
    "sma_20": "#4dabf7",
    "sma_50": "#da77f2",
    "sma_200": "#adb5bd",
    "ema_10": "#66d9e8",
    "ema_12": "#e599f7",
    "ema_20": "#a5d8ff",
    "ema_26": "#ffc078",
    "bb_upper": "#868e96",
    "bb_middle": "#868e96",
    "bb_lower": "#868e96",
    "donchian_high_20": "#9775fa",
    "donchian_low_20": "#9775fa",
    "rsi_14": "#9775fa",
    "macd": "#4dabf7",
    "macd_signal": "#ff922b",
    "stoch_k": "#4dabf7",
    "stoch_d": "#ff922b",
    "adx_14": "#ffd43b",
    "plus_di_14": UP,
    "minus_di_14": DOWN,
    "atr_14": "#4dabf7",
    "obv": "#4dabf7",
    "cci_20": "#da77f2",
    "williams_r_14": "#66d9e8",
    "cmf_20": "#4dabf7",
    "volatility_20": "#4dabf7",
    "volatility_50": "#ff922b",
}
_FALLBACK = "#4dabf7"
_NAMED = re.compile(r"([a-z]+)_(\d+)")


def label(column: str) -> str:
    """A readable name for an indicator column: ``sma_20`` -> ``SMA 20``."""
    if column in _LABELS:
        return _LABELS[column]
    match = _NAMED.fullmatch(column)
    if match and match.group(1) in _PREFIXES:
        return f"{_PREFIXES[match.group(1)]} {match.group(2)}"
    return column.replace("_", " ")


def color(column: str) -> str:
    """The fixed colour of an indicator line."""
    return LINE_COLORS.get(column, _FALLBACK)
