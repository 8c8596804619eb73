"""Feature drift: the population stability index (PSI) of the last days against the training window.

For each input feature of a model version (its ``features`` in the registry record: the causal
``feat_*`` columns of :func:`core.features.compute_features`, the context columns of
:func:`core.features.context.context_features`, or the per-candle channels of the return LSTM),
the values on the version's training window (``split.train`` in the record) are cut into
``bins`` quantile bins; the last ``days`` of stored candles are counted into the same bins and

    PSI = sum over bins of (current share - training share) * ln(current share / training share)

with ``epsilon`` in place of an empty bin's share so the logarithm stays finite. The usual bands:
PSI < 0.1 stable, 0.1-0.25 moderate, > 0.25 drifted (:data:`BANDS`). PSI is a few lines of numpy;
no library in the stack computes it on quantile bins of a reference window.

Those bands were made for large samples of independent rows. A week of hourly candles is 168
rows of a slowly moving series: on a process that never changes, a 200-hour average's weekly PSI
is above 0.25 almost every week. So each feature's PSI is also set beside ``typical``: the
largest PSI of any window of the same length inside the training window (sliding by a seventh
of a window) against the whole training window. A feature counts as **drifted** only when its
PSI is above 0.25 *and* above that, i.e. the last week is unlike every week the model was
trained on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BANDS",
    "DRIFTED",
    "RULE",
    "MODERATE",
    "DriftReport",
    "FeatureDrift",
    "band",
    "feature_drift",
    "psi",
    "typical_psi",
]

#: PSI at or above this is "moderate" drift.
MODERATE = 0.1
#: PSI above this is "drifted".
DRIFTED = 0.25
#: The bands in words, as the Monitor page states them.
BANDS = "PSI < 0.1 stable · 0.1–0.25 moderate · > 0.25 drifted"
#: Why a PSI above 0.25 is not enough on its own, in words (the page and the CLI say it).
RULE = (
    "a feature counts as drifted when its PSI is above 0.25 and above the largest PSI of any "
    "week inside the training window (a week of hourly candles is a small, autocorrelated "
    "sample: slow features pass 0.25 in most weeks even when nothing changed)"
)


def band(value: float | None) -> str:
    """``"stable"``, ``"moderate"``, ``"drifted"`` or ``"not measured"`` for a PSI value."""
    if value is None or not np.isfinite(value):
        return "not measured"
    if value > DRIFTED:
        return "drifted"
    return "moderate" if value >= MODERATE else "stable"


def psi(
    reference: Sequence[float] | np.ndarray,
    current: Sequence[float] | np.ndarray,
    *,
    bins: int = 10,
    epsilon: float = 1e-4,
) -> float | None:
    """PSI of ``current`` against ``reference`` on ``bins`` quantile bins of ``reference``.

    NaNs are dropped from both. Tied quantiles merge bins (a binary feature gets two). Out: the
    PSI (0 when the distributions match), or None when either side has no finite value.
    Raises ``ValueError`` unless ``bins >= 2`` and ``0 < epsilon < 1``.
    """
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    if not 0.0 < epsilon < 1.0:
        raise ValueError(f"epsilon must lie in (0, 1), got {epsilon}")
    ref = np.asarray(reference, dtype="float64")
    cur = np.asarray(current, dtype="float64")
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if not len(ref) or not len(cur):
        return None
    inner = _edges(ref, bins)
    count = len(inner) + 1
    expected = np.bincount(np.searchsorted(inner, ref, side="right"), minlength=count) / len(ref)
    actual = np.bincount(np.searchsorted(inner, cur, side="right"), minlength=count) / len(cur)
    return float(_psi(expected, actual, epsilon))


def _edges(ref: np.ndarray, bins: int) -> np.ndarray:
    return np.unique(np.quantile(ref, np.linspace(0.0, 1.0, bins + 1)[1:-1]))


def _psi(expected: np.ndarray, actual: np.ndarray, epsilon: float) -> np.ndarray:
    """PSI of share vectors (the last axis is the bins)."""
    expected, actual = np.maximum(expected, epsilon), np.maximum(actual, epsilon)
    return np.asarray(np.sum((actual - expected) * np.log(actual / expected), axis=-1))


def typical_psi(
    reference: np.ndarray, rows: int, *, bins: int = 10, epsilon: float = 1e-4
) -> float | None:
    """The largest PSI of any ``rows``-long window of ``reference`` (sliding by ``rows // 7``)
    against the whole of it: how far a window drifts when nothing changed. None when the
    reference holds fewer than two such windows."""
    ref = np.asarray(reference, dtype="float64")
    ref = ref[np.isfinite(ref)]
    if rows < 1 or len(ref) < 2 * rows:
        return None
    return _typical(ref, _edges(ref, bins), rows, epsilon)


def _typical(ref: np.ndarray, inner: np.ndarray, rows: int, epsilon: float) -> float | None:
    if rows < 1 or len(ref) < 2 * rows:
        return None
    count = len(inner) + 1
    index = np.searchsorted(inner, ref, side="right")
    expected = np.bincount(index, minlength=count) / len(ref)
    one_hot = np.zeros((len(ref) + 1, count), dtype="int32")
    one_hot[np.arange(1, len(ref) + 1), index] = 1
    cumulative = np.cumsum(one_hot, axis=0)
    starts = np.arange(0, len(ref) - rows + 1, max(1, rows // 7))
    shares = (cumulative[starts + rows] - cumulative[starts]) / rows
    return float(np.max(_psi(expected[None, :], shares, epsilon)))


def _pair(
    reference: np.ndarray, current: np.ndarray, rows: int, bins: int, epsilon: float
) -> tuple[float | None, float | None]:
    """``(psi, typical_psi)`` with the quantile bins computed once."""
    ref, cur = reference[np.isfinite(reference)], current[np.isfinite(current)]
    if not len(ref) or not len(cur):
        return None, None
    inner = _edges(ref, bins)
    count = len(inner) + 1
    expected = np.bincount(np.searchsorted(inner, ref, side="right"), minlength=count) / len(ref)
    actual = np.bincount(np.searchsorted(inner, cur, side="right"), minlength=count) / len(cur)
    return float(_psi(expected, actual, epsilon)), _typical(ref, inner, rows, epsilon)


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's PSI for one model version."""

    feature: str
    model: str
    version: str
    psi: float | None
    typical: float | None = None

    @property
    def band(self) -> str:
        """The usual band of :attr:`psi` (see :data:`BANDS`)."""
        return band(self.psi)

    @property
    def drifted(self) -> bool:
        """PSI above 0.25 and above every training week's (:func:`typical_psi`)."""
        if self.band != "drifted" or self.psi is None:
            return False
        return self.typical is None or self.psi > self.typical

    def to_dict(self) -> dict[str, Any]:
        def num(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "feature": self.feature,
            "model": self.model,
            "version": self.version,
            "psi": num(self.psi),
            "band": self.band,
            "typical": num(self.typical),
            "drifted": self.drifted,
        }


@dataclass(frozen=True)
class DriftReport:
    """A coin's drift: every measured feature of its promoted versions, and what was not."""

    symbol: str
    features: tuple[FeatureDrift, ...]
    window_start: pd.Timestamp | None
    window_end: pd.Timestamp | None
    note: str = ""

    @property
    def drifted(self) -> tuple[str, ...]:
        """Names of the features drifted (:attr:`FeatureDrift.drifted`) in any version, sorted,
        once each."""
        return tuple(sorted({f.feature for f in self.features if f.drifted}))

    @property
    def measured(self) -> bool:
        """True when at least one feature's PSI was measured."""
        return any(f.psi is not None for f in self.features)

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "drifted": len(self.drifted),
            "drifted_features": list(self.drifted),
            "window_start": None if self.window_start is None else self.window_start.isoformat(),
            "window_end": None if self.window_end is None else self.window_end.isoformat(),
            "bands": BANDS,
            "note": self.note,
            "features": [f.to_dict() for f in self.features],
        }


def _input_frame(
    record: Any, candles: pd.DataFrame, references: Mapping[str, pd.DataFrame] | None
) -> pd.DataFrame:
    """The version's inputs per candle that can be rebuilt from candles (missing ones left out):
    its kind's recipe says which (the causal features for a kind no longer registered)."""
    from core.errors import ConfigError
    from core.features import compute_features
    from core.models import kind_info

    try:
        frame = kind_info(record.model_type).recipe.drift_inputs(candles, references)
    except ConfigError:
        frame = compute_features(candles)
    frame = frame.loc[:, ~frame.columns.duplicated()]
    return frame[[c for c in record.features if c in frame.columns]]


def feature_drift(
    symbol: str,
    records: Sequence[Any],
    candles: pd.DataFrame,
    *,
    references: Mapping[str, pd.DataFrame] | None = None,
    end: pd.Timestamp | None = None,
    days: int = 7,
    bins: int = 10,
    epsilon: float = 1e-4,
    min_rows: int = 24,
) -> DriftReport:
    """PSI per input feature of each record (:class:`core.registry.metadata.ModelMetadata`) on
    ``candles`` (the coin's stored candles): the candles opened in the ``days`` before ``end``
    (default: the last stored candle) against the record's training window.

    A version whose training window is not in the candles, or fewer than ``min_rows`` candles in
    the recent window, is left out with the reason in ``note``. Nothing raises for missing data.
    """
    if candles.empty:
        return DriftReport(symbol, (), None, None, "no stored candles")
    times = pd.to_datetime(candles["open_time"], utc=True)
    last = times.iloc[-1] if end is None else pd.Timestamp(end)
    start = last - pd.Timedelta(days=days)
    recent = ((times > start) & (times <= last)).to_numpy()
    if int(recent.sum()) < min_rows:
        note = (
            f"not measured: only {int(recent.sum())} candles in the {days} days to "
            f"{last:%Y-%m-%d %H:%M} UTC (top the candles up: `python -m core fetch`)"
        )
        return DriftReport(symbol, (), start, last, note)
    found: list[FeatureDrift] = []
    notes: list[str] = []
    for record in records:
        window = (record.split or {}).get("train") or {}
        if not window.get("start") or not window.get("end"):
            notes.append(f"{record.name} {record.version} has no training window on record")
            continue
        train = (times >= pd.Timestamp(window["start"])) & (times <= pd.Timestamp(window["end"]))
        train = train.to_numpy() & ~recent
        if int(train.sum()) < min_rows:
            notes.append(f"{record.name} {record.version}: its training window is not stored")
            continue
        frame = _input_frame(record, candles, references)
        missing = len(record.features) - frame.shape[1]
        if missing:
            notes.append(
                f"{record.name} {record.version}: {missing} inputs not rebuilt from candles"
            )
        rows = int(recent.sum())
        for column in frame.columns:
            values = frame[column].to_numpy(dtype="float64")
            value, usual = _pair(values[train], values[recent], rows, bins, epsilon)
            found.append(FeatureDrift(column, record.name, record.version, value, usual))
    return DriftReport(symbol, tuple(found), start, last, "; ".join(notes))
