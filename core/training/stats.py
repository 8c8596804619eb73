"""The statistics behind the model cards: bootstrap intervals, AUC, calibration, forecast tests.

Everything here is a pure function of numpy arrays in time order (row ``i`` is earlier than row
``i + 1``). Nothing is fitted and nothing is read from disk, so the same inputs always give the
same numbers (the bootstrap takes an explicit ``seed``).

Why these and not the textbook i.i.d. versions: consecutive rows share most of their label window
(a 6-candle label overlaps the next row's by 5 candles) and volatility clusters, so rows are
strongly autocorrelated. An i.i.d. bootstrap would give intervals that are far too narrow; the
moving-block bootstrap keeps runs of ``block`` consecutive rows together. Likewise the
Diebold-Mariano test uses a long-run (autocorrelation-aware) variance.

Statistics that are undefined on a sample (AUC with one class, a skill against a perfect
reference, a test with zero variance) return ``None`` rather than a made-up number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from core.registry.metadata import MetricInterval

__all__ = [
    "block_bootstrap",
    "brier",
    "brier_skill",
    "calibration_table",
    "diebold_mariano",
    "direction_auc",
    "expected_calibration_error",
    "log_loss",
    "mase",
    "roc_auc",
    "shrunk_rate",
    "wilson_interval",
]

#: Probabilities are clipped this far from 0 and 1 before taking logs (a p of exactly 0 on a hit
#: would otherwise give an infinite loss and swamp every other row).
LOG_LOSS_EPS = 1e-15


def _defined(value: Any) -> float | None:
    """``value`` as a float, or None when it is None / NaN / infinite."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _block_indices(n: int, block: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``(resamples, n)`` row indices: circular blocks of ``block`` rows from random starts."""
    blocks = -(-n // block)  # ceil: enough blocks to cover n rows, the last one cut short
    starts = rng.integers(0, n, size=(resamples, blocks))
    # circular: a block starting near the end wraps to the start, so every row is equally likely
    idx = (starts[:, :, None] + np.arange(block)) % n
    return idx.reshape(resamples, blocks * block)[:, :n]


def block_bootstrap(
    statistic: Callable[..., float | None],
    *arrays: np.ndarray,
    block: int = 72,
    resamples: int = 500,
    level: float = 0.95,
    seed: int = 0,
) -> MetricInterval:
    """Circular moving-block bootstrap percentile interval of ``statistic(*arrays)``.

    In: one or more arrays with the same number of rows (axis 0), in time order; every array is
    resampled with the same row indices, so rows stay paired. ``statistic`` may return None or NaN
    for a resample (e.g. AUC when it holds one class); such resamples are skipped and not counted.
    ``block`` is clamped to ``[1, n]`` (a short sample gets one block of all its rows shifted
    circularly; the interval is then narrow and ``MetricInterval.block`` says so).
    Out: :class:`MetricInterval` with the full-sample point, the percentile bounds and the counts.
    Raises ``ValueError`` for arrays of different lengths, ``resamples < 1`` or ``level``
    outside (0, 1).
    """
    if not arrays:
        raise ValueError("block_bootstrap needs at least one array")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    arrays = tuple(np.asarray(a) for a in arrays)
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(f"arrays differ in length: {[len(a) for a in arrays]}")
    block = int(min(max(block, 1), max(n, 1)))
    if n == 0:
        return MetricInterval(None, None, None, level=level, block=block, resamples=0)

    point = _defined(statistic(*arrays))
    idx = _block_indices(n, block, resamples, np.random.default_rng(seed))
    values = [_defined(statistic(*(a[rows] for a in arrays))) for rows in idx]
    kept = np.array([v for v in values if v is not None], dtype=float)
    if kept.size == 0:
        return MetricInterval(point, None, None, level=level, block=block, resamples=0)
    alpha = 1.0 - level
    low, high = np.quantile(kept, [alpha / 2, 1 - alpha / 2])
    return MetricInterval(
        point, float(low), float(high), level=level, block=block, resamples=kept.size
    )


def _pair(a: np.ndarray, b: np.ndarray, names: str) -> tuple[np.ndarray, np.ndarray]:
    """Both as 1-D float arrays of the same length; raises ``ValueError`` otherwise."""
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"{names} differ in length: {a.size} and {b.size}")
    return a, b


def _labels_and_probs(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """0/1 labels and probabilities in [0, 1], same length, at least one row; else ValueError."""
    y, p = _pair(y, p, "labels and probabilities")
    if y.size == 0:
        raise ValueError("no rows to score")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1")
    if not np.all((p >= 0) & (p <= 1)):  # also rejects NaN
        raise ValueError("probabilities must lie in [0, 1]")
    return y, p


def roc_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve of ``score`` for 0/1 labels ``y`` (ties count half).

    Computed as the Mann-Whitney U statistic from scipy's ranks: the same number as
    ``sklearn.metrics.roc_auc_score`` but about 15x faster, which matters inside a bootstrap.
    Out: AUC in [0, 1], or None when ``y`` holds one class (or no rows).
    Raises ``ValueError`` for labels other than 0/1, non-finite scores or a length mismatch.
    """
    y, score = _pair(y, score, "labels and scores")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1")
    if not np.all(np.isfinite(score)):
        raise ValueError("scores must be finite")
    pos = y == 1
    n_pos = int(pos.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    from scipy import stats as sps  # lazily: scipy.stats costs ~1 s of CLI start-up

    ranks = sps.rankdata(score)  # average ranks: a tie between classes counts half
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def direction_auc(future_return: np.ndarray, score: np.ndarray) -> float | None:
    """AUC of ``score`` ranking rows that went up (return > 0) above rows that went down (< 0).

    Rows with a return of exactly 0 (or NaN: unknown future) say nothing about direction and are
    dropped. Out: AUC, or None when no up or no down rows remain. Raises like :func:`roc_auc`.
    """
    future_return, score = _pair(future_return, score, "returns and scores")
    moved = (future_return > 0) | (future_return < 0)
    return roc_auc((future_return[moved] > 0).astype(float), score[moved])


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared error of probabilities ``p`` against 0/1 outcomes ``y`` (lower is better).

    Raises ``ValueError`` for empty input, labels other than 0/1 or p outside [0, 1].
    """
    y, p = _labels_and_probs(y, p)
    return float(np.mean((p - y) ** 2))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Mean negative log-likelihood of 0/1 outcomes ``y`` under ``p``, with p clipped to
    ``[LOG_LOSS_EPS, 1 - LOG_LOSS_EPS]`` so one confident miss stays finite.

    Raises ``ValueError`` like :func:`brier`.
    """
    y, p = _labels_and_probs(y, p)
    p = np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def brier_skill(y: np.ndarray, p: np.ndarray, reference_p: float | np.ndarray) -> float | None:
    """Brier skill score ``1 - Brier(p) / Brier(reference_p)``: > 0 beats the reference.

    ``reference_p`` is a constant (e.g. the training base rate) or one probability per row.
    Out: the skill, or None when the reference is perfect (its Brier score is 0).
    Raises ``ValueError`` like :func:`brier`.
    """
    y, p = _labels_and_probs(y, p)
    reference = np.broadcast_to(np.asarray(reference_p, dtype=float), y.shape)
    ref = brier(y, reference)
    if ref == 0.0:
        return None
    return 1.0 - brier(y, p) / ref


def _equal_count_bins(y: np.ndarray, p: np.ndarray, bins: int) -> list[tuple[np.ndarray, ...]]:
    """``(y_b, p_b)`` for ``min(bins, n)`` bins of (nearly) equal size in ascending order of p."""
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    order = np.argsort(p, kind="stable")
    parts = np.array_split(order, min(bins, p.size))
    return [(y[part], p[part]) for part in parts]


def expected_calibration_error(y: np.ndarray, p: np.ndarray, *, bins: int = 10) -> float | None:
    """ECE over equal-count bins of ``p``: ``sum_b (n_b / n) * |mean(y_b) - mean(p_b)|``.

    Equal-count bins (not equal-width) because model probabilities crowd near the base rate and
    equal-width bins would leave most of them empty. Out: ECE in [0, 1], None for no rows.
    Raises ``ValueError`` for ``bins < 1`` or invalid labels / probabilities.
    """
    if np.size(y) == 0 and np.size(p) == 0:
        return None
    y, p = _labels_and_probs(y, p)
    return float(
        sum(
            yb.size / y.size * abs(yb.mean() - pb.mean())
            for yb, pb in _equal_count_bins(y, p, bins)
        )
    )


def calibration_table(y: np.ndarray, p: np.ndarray, *, bins: int = 10) -> list[dict[str, Any]]:
    """The rows of a reliability diagram, over the same equal-count bins as the ECE.

    Out: one dict per bin in ascending p: ``p_from``/``p_to`` (smallest / largest p in the bin),
    ``mean_p``, ``hit_rate`` (share of ``y == 1``) and ``n``; an empty list for no rows.
    Raises ``ValueError`` like :func:`expected_calibration_error`.
    """
    if np.size(y) == 0 and np.size(p) == 0:
        return []
    y, p = _labels_and_probs(y, p)
    return [
        {
            "p_from": float(pb.min()),
            "p_to": float(pb.max()),
            "mean_p": float(pb.mean()),
            "hit_rate": float(yb.mean()),
            "n": int(yb.size),
        }
        for yb, pb in _equal_count_bins(y, p, bins)
    ]


def wilson_interval(hits: int, n: int, *, level: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval for a hit rate of ``hits`` out of ``n`` (scipy's ``binomtest``).

    Unlike the normal approximation it stays inside [0, 1] and is sensible at 0 or n hits.
    Out: ``(low, high)``, or ``(None, None)`` when ``n == 0``.
    Raises ``ValueError`` unless ``0 <= hits <= n`` and ``0 < level < 1``.
    """
    hits, n = int(hits), int(n)
    if n < 0 or not 0 <= hits <= max(n, 0):
        raise ValueError(f"need 0 <= hits <= n, got hits={hits}, n={n}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if n == 0:
        return None, None
    from scipy import stats as sps

    ci = sps.binomtest(hits, n).proportion_ci(confidence_level=level, method="wilson")
    return float(np.clip(ci.low, 0.0, 1.0)), float(np.clip(ci.high, 0.0, 1.0))


def shrunk_rate(
    hits: int | np.ndarray,
    n: int | np.ndarray,
    prior_rate: float,
    *,
    prior_strength: float = 20.0,
) -> float | np.ndarray:
    """Posterior mean hit rate under a ``Beta(prior_rate * s, (1 - prior_rate) * s)`` prior.

    ``(hits + s * prior_rate) / (n + s)`` with ``s = prior_strength``: a rate from few calls is
    pulled toward the prior (e.g. the base rate), so 3 hits out of 3 does not read as 100%.
    In: scalars or arrays (broadcast). Out: a float for scalar input, else an array.
    Raises ``ValueError`` unless ``0 <= prior_rate <= 1`` and ``prior_strength > 0``.
    """
    if not 0.0 <= prior_rate <= 1.0:
        raise ValueError(f"prior_rate must lie in [0, 1], got {prior_rate}")
    if not prior_strength > 0:
        raise ValueError(f"prior_strength must be positive, got {prior_strength}")
    rate = (np.asarray(hits, dtype=float) + prior_strength * prior_rate) / (
        np.asarray(n, dtype=float) + prior_strength
    )
    return float(rate) if rate.ndim == 0 else rate


def mase(actual: np.ndarray, forecast: np.ndarray, naive: np.ndarray) -> float | None:
    """Mean absolute scaled error: ``MAE(forecast) / MAE(naive)`` on the same rows (< 1 beats it).

    Rows where any of the three is NaN/infinite (e.g. the first row has no persistence forecast)
    are dropped from both, so both MAEs cover exactly the same rows.
    Out: the ratio, or None when no rows remain or the naive forecast is perfect.
    Raises ``ValueError`` when the lengths differ.
    """
    actual, forecast = _pair(actual, forecast, "actual and forecast")
    actual, naive = _pair(actual, naive, "actual and naive")
    rows = np.isfinite(actual) & np.isfinite(forecast) & np.isfinite(naive)
    if not rows.any():
        return None
    naive_mae = float(np.mean(np.abs(actual[rows] - naive[rows])))
    if naive_mae == 0.0:
        return None
    return float(np.mean(np.abs(actual[rows] - forecast[rows]))) / naive_mae


def diebold_mariano(
    loss_model: np.ndarray, loss_baseline: np.ndarray, *, horizon: int = 1
) -> tuple[float | None, float | None]:
    """Diebold-Mariano test of "the model's loss is smaller than the baseline's" (one-sided).

    In: per-row losses of both on the same rows in time order (e.g. absolute errors), and the
    forecast ``horizon`` in rows (``h``-step forecasts have errors correlated over ``h - 1`` lags).
    The loss differential ``d = loss_model - loss_baseline`` gets a Newey-West (Bartlett) long-run
    variance with ``h - 1`` lags, the statistic the Harvey-Leybourne-Newbold small-sample
    correction, and the p-value Student-t with ``n - 1`` degrees of freedom.
    Out: ``(statistic, p_value)``; a negative statistic and small p favour the model.
    ``(None, None)`` when undefined: fewer than 3 rows, zero variance of ``d`` (e.g. identical
    losses), or a horizon too long for the sample.
    Raises ``ValueError`` for ``horizon < 1``, a length mismatch or non-finite losses.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    loss_model, loss_baseline = _pair(loss_model, loss_baseline, "model and baseline losses")
    if not (np.all(np.isfinite(loss_model)) and np.all(np.isfinite(loss_baseline))):
        raise ValueError("losses must be finite")
    d = loss_model - loss_baseline
    n = d.size
    if n < 3:
        return None, None
    dev = d - d.mean()
    lrv = float(dev @ dev) / n
    for lag in range(1, min(horizon, n)):
        weight = 1.0 - lag / horizon  # Bartlett: keeps the variance non-negative
        lrv += 2.0 * weight * float(dev[lag:] @ dev[:-lag]) / n
    # "zero" relative to the size of the differences, so rounding noise in a constant d is zero
    scale = float(np.max(np.abs(d)))
    if not lrv > (1e-12 * scale) ** 2:
        return None, None
    correction = (n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n
    if correction <= 0:
        return None, None
    stat = float(d.mean() / math.sqrt(lrv / n) * math.sqrt(correction))
    from scipy import stats as sps

    return stat, float(sps.t.cdf(stat, df=n - 1))
