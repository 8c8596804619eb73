"""Recipes on a window of candles, for sequence estimators: the next close, the next log return.

``NEXT_CLOSE`` (the seed's): the last ``window`` candles' close, high, low and volume, read by the
estimator as three scale-free channels per candle (:data:`PRICE_INPUTS`: the log return of the
close, ``log(high / low)``, the log change of volume); the estimator learns the next log return
and the forecast is turned back into a price (``close * exp(return)``), so every metric is in price
units beside persistence.

``NEXT_RETURN``: seven channels per candle (:data:`RETURN_INPUTS`): the log return of the close,
``log(high / low)``, the log change of volume, the taker-buy share of volume minus 0.5 (0 on a
zero-volume candle), the standard deviation of the last 24 log returns (from candles up to that
one only), and the hour of day as sine and cosine; the target is ``log(close[t + 1] / close[t])``.
A sample exists only where its whole look-back (the ``window`` candles, the candle before the
first of them, and the 23 before that which the first volatility value needs) and its next
candle are consecutive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.config import SignalConfig, TargetConfig
from core.errors import InsufficientDataError
from core.features.causal import NEXT_CLOSE, compute_targets
from core.features.indicators import as_f64, epoch_ms, gap_starts
from core.models.base import Dataset, Output, VoteRule
from core.models.search import Param

__all__ = [
    "NEXT_CLOSE_RECIPE",
    "NEXT_LOG_RETURN",
    "NEXT_RETURN",
    "PRICE_INPUTS",
    "RETURN_INPUTS",
    "VOLATILITY_WINDOW",
    "channels",
    "raw_windows",
    "transform",
]

#: What the next-close recipe's estimator reads per candle, in channel order.
PRICE_INPUTS = ("log_return", "log_high_low", "log_volume_change")
#: What the next-return recipe's estimator reads per candle, in channel order.
RETURN_INPUTS = (
    "log_return",
    "log_high_low",
    "log_volume_change",
    "taker_buy_share",
    "volatility_24",
    "hour_sin",
    "hour_cos",
)
#: The next-return target's name: the next candle's log return.
NEXT_LOG_RETURN = "target_next_log_return"
#: Log returns in the rolling volatility channel.
VOLATILITY_WINDOW = 24
_RAW = ("close", "high", "low", "volume")


def raw_windows(candles: pd.DataFrame, window: int) -> np.ndarray:
    """``(n - window, window + 1, 4)`` windows of close, high, low, volume; window ``k`` ends at
    candle ``k + window`` (one candle more than ``window``: the first return needs it)."""
    raw = candles[list(_RAW)].to_numpy(dtype="float64")
    if len(raw) < window + 1:
        return np.empty((0, window + 1, len(_RAW)))
    view = np.lib.stride_tricks.sliding_window_view(raw, window + 1, axis=0)
    return view.transpose(0, 2, 1)


def transform(X: np.ndarray) -> np.ndarray:
    """Raw windows ``(n, window + 1, 4)`` → unscaled inputs ``(n, window, 3)`` (PRICE_INPUTS)."""
    close, high, low, volume = (X[..., i] for i in range(4))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.stack(
            [
                np.diff(np.log(close), axis=1),
                np.log(high[:, 1:] / low[:, 1:]),
                np.diff(np.log1p(volume), axis=1),
            ],
            axis=-1,
        )


def _log_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(a / b)
    out[~np.isfinite(out)] = np.nan
    return np.asarray(out)


def channels(candles: pd.DataFrame) -> np.ndarray:
    """``(n, 7)`` float64 inputs per candle (:data:`RETURN_INPUTS` order); row t uses candles
    ``<= t``. NaN where a value is undefined: the first row's returns, the first
    ``VOLATILITY_WINDOW`` rows' volatility, a non-positive price. Gaps are not looked at here."""
    c, h, lo, v = (as_f64(candles[k]) for k in ("close", "high", "low", "volume"))
    taker = as_f64(candles["taker_buy_base_volume"])
    n = len(c)
    out = np.full((n, len(RETURN_INPUTS)), np.nan)
    if n == 0:
        return out
    ret = np.full(n, np.nan)
    ret[1:] = _log_ratio(c[1:], c[:-1])
    out[:, 0] = ret
    out[:, 1] = _log_ratio(h, lo)
    with np.errstate(invalid="ignore"):
        lv = np.log1p(v)
    out[1:, 2] = lv[1:] - lv[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 3] = np.where(v > 0, taker / v, 0.5) - 0.5
    k = VOLATILITY_WINDOW
    if n > k:
        # per-window std, so the value does not depend on where the series starts (bit for bit)
        view = np.lib.stride_tricks.sliding_window_view(ret[1:], k)
        out[k:, 4] = view.std(axis=1, ddof=1)
    hour = (epoch_ms(candles["open_time"]) % 86_400_000) / 3_600_000.0
    out[:, 5] = np.sin(2 * np.pi * hour / 24.0)
    out[:, 6] = np.cos(2 * np.pi * hour / 24.0)
    return out


def _samples(
    candles: pd.DataFrame,
    X: np.ndarray,
    y: np.ndarray,
    position: np.ndarray,
    inputs: tuple[str, ...],
    target: str,
) -> Dataset:
    """A one-candle-ahead :class:`Dataset`: windows ``X`` (dtype kept, made contiguous) ending at
    candle ``position[i]``, labels ``y`` as float64."""
    return Dataset(
        X=np.ascontiguousarray(X),
        y=np.asarray(y, dtype="float64"),
        position=position,
        open_time=candles["open_time"].to_numpy()[position],
        close=candles["close"].to_numpy(dtype="float64")[position],
        horizon=1,
        features=list(inputs),
        target=target,
    )


@dataclass(frozen=True)
class _Sequence:
    name: str
    output: Output
    output_name: str
    search: Mapping[str, Param] = field(default_factory=dict)
    state_keys: tuple[str, ...] = ("inputs", "target")
    #: MAE skill against persistence on walk-forward folds, through the shared training flow.
    tuning: str = "core.tuning.objective:WALK_FORWARD"

    def horizon(self, target: TargetConfig) -> int:
        return 1

    def warmup(self, config: Any) -> int:
        return int(config.window) + 1

    def needs_context(self, config: Any) -> bool:
        return False

    def check_labels(self, y: np.ndarray) -> None:
        """A number to forecast always varies; nothing to check."""

    def vote_rule(self, signal: SignalConfig, base_rate: float) -> VoteRule:
        """Up / down when the forecast log return is beyond +/- ``min_return``."""
        return VoteRule(self.output, signal.min_return)


@dataclass(frozen=True)
class NextCloseRecipe(_Sequence):
    """The seed's: the next close from the last ``window`` candles (settings' ``window``)."""

    def columns(self, config: Any) -> list[str]:
        return list(PRICE_INPUTS)

    def dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig,
        context: Mapping[str, pd.DataFrame] | None,
        config: Any,
    ) -> Dataset:
        """One sample per candle with ``window`` candles of history and a known next close
        (``target`` is unused: the target is always the next close)."""
        w = config.window
        X = raw_windows(candles, w)
        nxt = compute_targets(candles, horizon=1)[NEXT_CLOSE].to_numpy()[w:]
        with np.errstate(invalid="ignore"):
            good = np.isfinite(X).all(axis=(1, 2)) & (X[..., :3] > 0).all(axis=(1, 2))
        valid = good & np.isfinite(nxt) & (nxt > 0)
        position = np.flatnonzero(valid) + w
        return _samples(candles, X[valid], nxt[valid], position, PRICE_INPUTS, NEXT_CLOSE)

    def learn(self, X: np.ndarray, features: list[str], config: Any) -> dict[str, Any]:
        return {"inputs": list(PRICE_INPUTS)}

    def encode(self, X: np.ndarray) -> np.ndarray:
        return transform(X)

    def target_of(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(np.log(np.asarray(y, dtype="float64") / X[:, -1, 0]))

    def decode(self, X: np.ndarray, z: np.ndarray) -> np.ndarray:
        return np.asarray(X[:, -1, 0] * np.exp(z))

    def latest(
        self,
        candles: pd.DataFrame,
        *,
        context: Mapping[str, pd.DataFrame] | None,
        config: Any,
        state: Mapping[str, Any],
        features: list[str],
    ) -> np.ndarray:
        need = config.window + 1
        if len(candles) < need:
            raise InsufficientDataError(
                f"The LSTM forecast needs the last {need} candles; got {len(candles)}. "
                "Fetch more history."
            )
        return raw_windows(candles.iloc[-need:], config.window)

    def drift_inputs(
        self, candles: pd.DataFrame, references: Mapping[str, pd.DataFrame] | None
    ) -> pd.DataFrame:
        """The three channels at each candle."""
        X = raw_windows(candles, 1)
        frame = pd.DataFrame(np.nan, index=candles.index, columns=list(PRICE_INPUTS))
        if len(X):
            frame.iloc[1:] = transform(X)[:, 0, :]
        return frame


@dataclass(frozen=True)
class NextReturnRecipe(_Sequence):
    """The next candle's log return from a ``window`` of seven channels (settings' ``window``)."""

    def columns(self, config: Any) -> list[str]:
        return list(RETURN_INPUTS)

    def lookback(self, config: Any) -> int:
        """Candles before a sample's own candle that its inputs need."""
        return int(config.window) + VOLATILITY_WINDOW - 1

    def dataset(
        self,
        candles: pd.DataFrame,
        *,
        target: TargetConfig,
        context: Mapping[str, pd.DataFrame] | None,
        config: Any,
    ) -> Dataset:
        """One sample per candle t whose look-back and next candle are consecutive and known:
        ``X[i]`` is the ``(window, 7)`` unscaled inputs up to t, ``y[i] = log(close[t + 1] /
        close[t])``. ``target`` and ``context`` are unused."""
        w, look = config.window, self.lookback(config)
        feats = channels(candles)
        c = as_f64(candles["close"])
        n = len(c)
        nxt = np.full(n, np.nan)
        if n > 1:
            nxt[:-1] = _log_ratio(c[1:], c[:-1])
        t = np.arange(look, n - 1)  # candidates: a full look-back and a next candle
        if len(t) == 0:
            return self._dataset(candles, np.empty((0, w, len(RETURN_INPUTS))), nxt[:0], t)
        gaps = np.cumsum(gap_starts(candles))
        contiguous = gaps[t + 1] - gaps[t - look] == 0  # no gap from t - look to t + 1
        windows = np.lib.stride_tricks.sliding_window_view(feats, w, axis=0)  # (n-w+1, 7, w)
        X = windows[t - w + 1].transpose(0, 2, 1)
        valid = contiguous & np.isfinite(X).all(axis=(1, 2)) & np.isfinite(nxt[t])
        return self._dataset(candles, X[valid], nxt[t][valid], t[valid])

    def _dataset(
        self, candles: pd.DataFrame, X: np.ndarray, y: np.ndarray, position: np.ndarray
    ) -> Dataset:
        X = np.asarray(X, dtype="float32")
        return _samples(candles, X, y, position, RETURN_INPUTS, NEXT_LOG_RETURN)

    def learn(self, X: np.ndarray, features: list[str], config: Any) -> dict[str, Any]:
        return {"inputs": list(RETURN_INPUTS), "target": NEXT_LOG_RETURN}

    def encode(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype="float64")

    def target_of(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype="float64")

    def decode(self, X: np.ndarray, z: np.ndarray) -> np.ndarray:
        return z

    def latest(
        self,
        candles: pd.DataFrame,
        *,
        context: Mapping[str, pd.DataFrame] | None,
        config: Any,
        state: Mapping[str, Any],
        features: list[str],
    ) -> np.ndarray:
        """The last ``window + 24`` candles' inputs. A gap inside them is not refused (the live
        signal keeps working after an exchange halt), only undefined inputs are."""
        need = self.lookback(config) + 1
        if len(candles) < need:
            raise InsufficientDataError(
                f"The LSTM return forecast needs the last {need} candles ({config.window} "
                f"in its window and {VOLATILITY_WINDOW} more for the volatility input); got "
                f"{len(candles)}. Fetch more history."
            )
        # float32 like dataset(), so this equals the prediction of the same sample there
        X = channels(candles.iloc[-need:])[-config.window :][None].astype("float32")
        if not np.isfinite(X).all():
            raise InsufficientDataError(
                "An input of the LSTM return forecast is undefined in the last "
                f"{need} candles (a zero or missing price or volume). Fetch the candles again."
            )
        return X

    def drift_inputs(
        self, candles: pd.DataFrame, references: Mapping[str, pd.DataFrame] | None
    ) -> pd.DataFrame:
        """The seven channels at each candle."""
        return pd.DataFrame(channels(candles), columns=list(RETURN_INPUTS), index=candles.index)


#: The seed LSTM's target: the next close.
NEXT_CLOSE_RECIPE = NextCloseRecipe(
    "next_close",
    Output.PRICE,
    "forecast",
    search={"window": Param("int", 24, 96, step=12)},
)
#: The next candle's log return.
NEXT_RETURN = NextReturnRecipe(
    "next_return",
    Output.RETURN,
    "forecast_return",
    search={"window": Param("int", 24, 72, step=12)},
)
