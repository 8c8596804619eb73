"""The ensemble rule and its calibration on out-of-sample predictions (used by core.signals.live).

The rule (thresholds in :class:`core.config.SignalConfig`):

* XGBoost votes **up** when its probability of the target ("close ``horizon`` candles ahead at
  least 1% higher") is at least ``xgb_margin`` above the target's base rate, **down** when at
  least ``xgb_margin`` below it, otherwise it abstains. The base rate (15-30% on hourly data) is
  the reference because a probability of 0.3 for a +1% move is not bearish.
* The LSTM votes **up** when its forecast return ``(forecast - close) / close`` is at least
  ``lstm_min_return``, **down** when at most ``-lstm_min_return``, otherwise it abstains.
* BULLISH when the votes add up to more than zero, BEARISH below zero, NEUTRAL at zero (both
  abstain, or they contradict each other). With ``require_agreement`` both must vote the same way.
  A coin with one model type uses that model's vote alone.

Confidence is not a formula. It is the hit rate the same rule achieved on the out-of-sample
predictions saved at training time (test split and walk-forward folds), among calls of the same
kind and similar strength, with the number of calls behind it (``support``). A call made at the
close of candle t is judged on the close ``horizon`` candles later: BULLISH is a hit when that
close is above the close at t, BEARISH when below, NEUTRAL when it moved less than
``neutral_band`` either way. Strength is the mean percentile of each model's distance from its
neutral point (|probability - base rate|, |forecast return|) among all out-of-sample rows;
calls are split into ``strength_buckets`` equal-count buckets per kind. A bucket with fewer than
``min_support`` resolved calls falls back to all calls of that kind. Nothing is floored: a rule
right 51% of the time says 0.51. ``base_rate`` beside it is how often the same outcome happened
over all out-of-sample rows, whatever the rule said.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from core.config import Interval, SignalConfig

__all__ = [
    "Calibration",
    "SignalKind",
    "build_calibration",
    "combine_votes",
    "lstm_votes",
    "merge_predictions",
    "rule_signals",
    "xgb_votes",
]


class SignalKind(StrEnum):
    BULLISH = "BULLISH"
    BEARISH = "BEARISH"
    NEUTRAL = "NEUTRAL"


_FROM_VOTE = {1: SignalKind.BULLISH, -1: SignalKind.BEARISH, 0: SignalKind.NEUTRAL}


def xgb_votes(probability: np.ndarray, base_rate: float, margin: float) -> np.ndarray:
    """+1 / -1 / 0 per row: probability at least ``margin`` above / below ``base_rate``."""
    p = np.asarray(probability, dtype="float64")
    return np.where(p >= base_rate + margin, 1, np.where(p <= base_rate - margin, -1, 0))


def lstm_votes(forecast_return: np.ndarray, min_return: float) -> np.ndarray:
    """+1 / -1 / 0 per row from the LSTM's forecast return; a return of exactly 0 abstains."""
    r = np.asarray(forecast_return, dtype="float64")
    up = (r >= min_return) & (r > 0)
    down = (r <= -min_return) & (r < 0)
    return np.where(up, 1, np.where(down, -1, 0))


def combine_votes(
    xgb: np.ndarray | None, lstm: np.ndarray | None, *, require_agreement: bool = False
) -> np.ndarray:
    """The ensemble's direction (+1, -1, 0) from one or two vote arrays."""
    votes = [np.asarray(v) for v in (xgb, lstm) if v is not None]
    if not votes:
        raise ValueError("combine_votes needs at least one model's votes")
    if len(votes) == 1:
        return votes[0].astype("int64")
    x, lv = votes
    if require_agreement:
        return np.where(x == lv, x, 0).astype("int64")
    return np.sign(x + lv).astype("int64")


def merge_predictions(xgb: pd.DataFrame | None, lstm: pd.DataFrame | None) -> pd.DataFrame:
    """One frame of out-of-sample rows: ``open_time, split, close, probability, forecast_return``.

    Two models are joined on ``open_time`` and ``split`` (only rows both predicted); a missing
    model's column is absent. Raises ValueError when neither frame is given.
    """
    frames = []
    if xgb is not None:
        frames.append(xgb[["open_time", "split", "close", "probability"]])
    if lstm is not None:
        part = lstm[["open_time", "split", "close", "forecast"]].copy()
        part["forecast_return"] = (part["forecast"] - part["close"]) / part["close"]
        frames.append(part.drop(columns="forecast"))
    if not frames:
        raise ValueError("merge_predictions needs the predictions of at least one model")
    merged = frames[0]
    if len(frames) == 2:
        merged = frames[0].merge(
            frames[1].drop(columns="close"), on=["open_time", "split"], how="inner"
        )
    merged = merged.dropna(subset=[c for c in ("probability", "forecast_return") if c in merged])
    return merged.sort_values(["open_time", "split"]).reset_index(drop=True)


def _closes(xgb: pd.DataFrame | None, lstm: pd.DataFrame | None, step: pd.Timedelta) -> pd.Series:
    """Every close the predictions reveal, by open_time (the LSTM's ``actual`` is the next one)."""
    parts = []
    for frame in (xgb, lstm):
        if frame is not None:
            parts.append(pd.Series(frame["close"].to_numpy(), index=frame["open_time"]))
    if lstm is not None and "actual" in lstm:
        parts.append(pd.Series(lstm["actual"].to_numpy(), index=lstm["open_time"] + step))
    closes = pd.concat(parts).dropna()
    return closes[~closes.index.duplicated(keep="first")].sort_index()


def _hits(kind: np.ndarray, future_return: np.ndarray, band: float) -> np.ndarray:
    return np.where(
        kind == 1,
        future_return > 0,
        np.where(kind == -1, future_return < 0, np.abs(future_return) < band),
    )


@dataclass(frozen=True)
class Calibration:
    """The rule's out-of-sample record for one coin, and the lookup that turns it into confidence.

    ``table`` has one row per (signal, bucket): ``signal, bucket`` (0 = all calls of that kind),
    ``strength_from, strength_to, support, hits, hit_rate, base_rate``.
    """

    horizon: int
    neutral_band: float
    base_rate: float | None
    xgb_edges: np.ndarray | None
    lstm_edges: np.ndarray | None
    bucket_edges: dict[str, np.ndarray]
    table: pd.DataFrame
    rows: int
    min_support: int

    def strength(self, probability: float | None, forecast_return: float | None) -> float:
        """Mean percentile (0..1) of each model's distance from its neutral point."""
        prob = None if probability is None else np.array([probability], dtype="float64")
        ret = None if forecast_return is None else np.array([forecast_return], dtype="float64")
        return float(self.strengths(prob, ret)[0])

    def strengths(self, probability: np.ndarray | None, forecast_return: np.ndarray | None):
        """:meth:`strength` for arrays (either may be None when the coin lacks that model)."""
        ranks = []
        if self.xgb_edges is not None and probability is not None and self.base_rate is not None:
            edge = _edge(probability - self.base_rate)
            ranks.append(np.searchsorted(self.xgb_edges, edge, "right") / len(self.xgb_edges))
        if self.lstm_edges is not None and forecast_return is not None:
            edge = _edge(forecast_return)
            ranks.append(np.searchsorted(self.lstm_edges, edge, "right") / len(self.lstm_edges))
        if not ranks:
            size = len(probability if probability is not None else forecast_return)
            return np.zeros(size)
        return np.mean(ranks, axis=0)

    def lookup(self, kind: SignalKind, strength: float) -> tuple[float | None, int, int | None]:
        """(confidence, support, bucket) for a call; bucket None = all calls of this kind."""
        rows = self.table[self.table["signal"] == kind.value]
        edges = self.bucket_edges.get(kind.value)
        if edges is not None and len(rows) > 1:
            bucket = int(np.searchsorted(edges, strength, "left")) + 1
            hit = rows[rows["bucket"] == bucket]
            if len(hit) and int(hit["support"].iloc[0]) >= self.min_support:
                return float(hit["hit_rate"].iloc[0]), int(hit["support"].iloc[0]), bucket
        total = rows[rows["bucket"] == 0]
        if total.empty or int(total["support"].iloc[0]) == 0:
            return None, 0, None
        return float(total["hit_rate"].iloc[0]), int(total["support"].iloc[0]), None

    def outcome_base_rate(self, kind: SignalKind) -> float | None:
        rows = self.table[(self.table["signal"] == kind.value) & (self.table["bucket"] == 0)]
        return None if rows.empty else _nan_to_none(rows["base_rate"].iloc[0])


def _nan_to_none(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _edge(values: Any) -> np.ndarray:
    """|distance from neutral|, rounded so that float noise does not split equal calls apart."""
    return np.round(np.abs(np.asarray(values, dtype="float64")), 12)


def _sorted_abs(values: pd.Series) -> np.ndarray:
    return np.sort(_edge(values.to_numpy(dtype="float64")))


def rule_signals(
    merged: pd.DataFrame, *, base_rate: float | None, config: SignalConfig
) -> pd.Series:
    """The rule's direction (+1 / -1 / 0) for every row of a :func:`merge_predictions` frame."""
    xv = lv = None
    if "probability" in merged:
        if base_rate is None:
            raise ValueError("the XGBoost vote needs the target's base rate")
        xv = xgb_votes(merged["probability"].to_numpy(), base_rate, config.xgb_margin)
    if "forecast_return" in merged:
        lv = lstm_votes(merged["forecast_return"].to_numpy(), config.lstm_min_return)
    votes = combine_votes(xv, lv, require_agreement=config.require_agreement)
    return pd.Series(votes, index=merged.index, name="vote")


def build_calibration(
    xgb_predictions: pd.DataFrame | None,
    lstm_predictions: pd.DataFrame | None,
    *,
    horizon: int,
    interval: str | Interval = "1h",
    base_rate: float | None = None,
    config: SignalConfig | None = None,
) -> Calibration:
    """Replay the rule on saved out-of-sample predictions and count its hits per kind and bucket.

    ``base_rate`` is the XGBoost target's base rate on its training rows; when None it is
    estimated from the ``actual`` labels of the walk-forward folds (all rows if there are none).
    Rows whose outcome (the close ``horizon`` candles later) is not in the predictions are left
    out of the counts. Raises ValueError when neither frame is given.
    """
    config = config or SignalConfig()
    step = pd.Timedelta(milliseconds=Interval.parse(interval).milliseconds)
    if xgb_predictions is not None and base_rate is None:
        folds = xgb_predictions[xgb_predictions["split"] != "test"]
        labels = (folds if len(folds) else xgb_predictions)["actual"].dropna()
        base_rate = float(labels.mean()) if len(labels) else 0.5
    merged = merge_predictions(xgb_predictions, lstm_predictions)
    closes = _closes(xgb_predictions, lstm_predictions, step)
    exit_close = closes.reindex(merged["open_time"] + horizon * step).to_numpy()
    future = exit_close / merged["close"].to_numpy() - 1.0
    votes = rule_signals(merged, base_rate=base_rate, config=config).to_numpy()

    xgb_edges = _sorted_abs(merged["probability"] - base_rate) if "probability" in merged else None
    lstm_edges = _sorted_abs(merged["forecast_return"]) if "forecast_return" in merged else None
    partial = Calibration(
        horizon, config.neutral_band, base_rate, xgb_edges, lstm_edges, {}, pd.DataFrame(), 0, 1
    )
    strength = partial.strengths(_column(merged, "probability"), _column(merged, "forecast_return"))
    known = ~np.isnan(future)
    hits = _hits(votes, future, config.neutral_band)
    table_rows: list[dict[str, Any]] = []
    bucket_edges: dict[str, np.ndarray] = {}
    for vote, kind in _FROM_VOTE.items():
        outcome = _hits(np.full(known.sum(), vote), future[known], config.neutral_band)
        outcome_rate = float(outcome.mean()) if known.any() else math.nan
        mine = (votes == vote) & known
        table_rows.append(_table_row(kind, 0, strength[mine], hits[mine], outcome_rate))
        if mine.sum() == 0:
            continue
        quantiles = np.arange(1, config.strength_buckets) / config.strength_buckets
        edges = np.unique(np.quantile(strength[mine], quantiles)) if len(quantiles) else quantiles
        bucket_edges[kind.value] = edges
        which = np.searchsorted(edges, strength[mine], "left") + 1
        for b in range(1, len(edges) + 2):
            sel = which == b
            table_rows.append(
                _table_row(kind, b, strength[mine][sel], hits[mine][sel], outcome_rate)
            )
    return Calibration(
        horizon=horizon,
        neutral_band=config.neutral_band,
        base_rate=base_rate,
        xgb_edges=xgb_edges,
        lstm_edges=lstm_edges,
        bucket_edges=bucket_edges,
        table=pd.DataFrame(table_rows),
        rows=int(known.sum()),
        min_support=config.min_support,
    )


def _column(frame: pd.DataFrame, column: str) -> np.ndarray | None:
    return frame[column].to_numpy(dtype="float64") if column in frame else None


def _table_row(
    kind: SignalKind, bucket: int, strength: np.ndarray, hits: np.ndarray, base: float
) -> dict[str, Any]:
    support = int(len(hits))
    return {
        "signal": kind.value,
        "bucket": bucket,
        "strength_from": float(strength.min()) if support else math.nan,
        "strength_to": float(strength.max()) if support else math.nan,
        "support": support,
        "hits": int(hits.sum()),
        "hit_rate": float(hits.mean()) if support else math.nan,
        "base_rate": base,
    }
