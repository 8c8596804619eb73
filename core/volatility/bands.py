"""Expected-move bands: intervals of the ``h``-hour log return from a volatility forecast.

A band at level ``L`` is ``[-q * sigma, +q * sigma]`` where ``sigma`` is the forecast standard
deviation of the ``h``-hour log return (the square root of the variance forecast) and ``q`` a
quantile of volatility-normalised scores ``|r| / sigma``:

- split conformal: the scores come from calibration rows the forecaster was not fit on;
- per regime: the rows are cut into thirds of forecast volatility (cut points from the
  calibration rows) and each third has its own scores and quantile, so the band covers in quiet
  and in wild hours alike (a forecaster that mean-reverts too little under-covers quiet hours);
- adaptive conformal inference (Gibbs and Candès, 2021): per third and level, the miss rate
  ``alpha`` is nudged by ``gamma * (target - miss)`` each time an outcome becomes known, and the
  score pool takes in every newly known score (a rolling window), so coverage follows regime
  changes. An ``h``-hour outcome is known ``h`` hours after the forecast: updates are delayed.

Tests of a band's record (Kupiec's unconditional coverage, Christoffersen's independence) use
every ``h``-th row: overlapping ``h``-hour windows make consecutive misses dependent by
construction.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as sps

__all__ = [
    "ACI_GAMMA",
    "LEVELS",
    "POOL_WINDOW",
    "BandRun",
    "BandState",
    "christoffersen",
    "conformal_bands",
    "kupiec",
    "level_key",
    "regime_of",
]

LEVELS: tuple[float, ...] = (0.5, 0.8, 0.9)
ACI_GAMMA = 0.005
#: Most recent scores kept per regime.
POOL_WINDOW = 3000


def level_key(level: float) -> str:
    """0.8 → ``"80"``."""
    return str(int(round(level * 100)))


def regime_of(log_sigma: np.ndarray, cuts: Sequence[float]) -> np.ndarray:
    """0 (quiet third), 1, 2 (wild third) per row from the tercile cut points."""
    return np.searchsorted(np.asarray(cuts, dtype="float64"), np.asarray(log_sigma), side="right")


@dataclass
class BandState:
    """What a live band needs: regime cut points (log sigma) and per regime and level the current
    ACI miss rate and score quantile."""

    cuts: list[float]
    levels: list[float]
    alpha: list[list[float]]  # [regime][level]
    q: list[list[float]]  # [regime][level]

    def multipliers(self, log_sigma: float) -> dict[str, float]:
        """``{"50": q, "80": q, "90": q}`` for a forecast with this log sigma."""
        g = int(regime_of(np.array([log_sigma]), self.cuts)[0])
        return {level_key(lv): float(self.q[g][k]) for k, lv in enumerate(self.levels)}

    def to_dict(self) -> dict[str, Any]:
        return {"cuts": self.cuts, "levels": self.levels, "alpha": self.alpha, "q": self.q}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BandState:
        return cls(
            [float(c) for c in data["cuts"]],
            [float(v) for v in data["levels"]],
            [[float(a) for a in row] for row in data["alpha"]],
            [[float(q) for q in row] for row in data["q"]],
        )


@dataclass
class BandRun:
    """Bands over an evaluation window: the multiplier used at every row and level, whether the
    outcome fell inside, and the state after the last known outcome."""

    q: np.ndarray  # (rows, levels)
    covered: np.ndarray  # (rows, levels) bool
    state: BandState
    regime: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="int64"))


class _Pool:
    """The most recent :data:`POOL_WINDOW` scores, kept sorted for O(1) quantiles."""

    def __init__(self, scores: Sequence[float]) -> None:
        recent = [float(x) for x in scores][-POOL_WINDOW:]
        self.order: deque[float] = deque(recent)
        self.sorted = sorted(recent)

    def add(self, score: float) -> None:
        self.order.append(score)
        bisect.insort(self.sorted, score)
        if len(self.order) > POOL_WINDOW:
            old = self.order.popleft()
            del self.sorted[bisect.bisect_left(self.sorted, old)]

    def quantile(self, level: float) -> float:
        """The ``level`` quantile (numpy's ``method="higher"``)."""
        m = len(self.sorted)
        p = min(max(level, 0.0), 1.0)
        return self.sorted[min(m - 1, math.ceil(p * (m - 1) - 1e-12))]


def conformal_bands(
    log_sigma_cal: np.ndarray,
    ret_cal: np.ndarray,
    log_sigma: np.ndarray,
    ret: np.ndarray,
    hours: np.ndarray,
    *,
    horizon: int,
    levels: Sequence[float] = LEVELS,
    gamma: float = ACI_GAMMA,
) -> BandRun:
    """Run the bands forward through an evaluation window, in time order.

    ``log_sigma_cal`` / ``ret_cal``: forecasts and realised log returns on calibration rows (not
    used to fit the forecaster, all before the window); ``log_sigma`` / ``ret``: the window's;
    ``hours``: each window row's time in hours (an outcome is known ``horizon`` hours later).
    """
    cal_s = np.abs(np.asarray(ret_cal)) / np.exp(np.asarray(log_sigma_cal))
    cuts = [float(c) for c in np.quantile(log_sigma_cal, [1 / 3, 2 / 3])]
    cal_g = regime_of(log_sigma_cal, cuts)
    pools = [_Pool(cal_s[cal_g == g] if np.any(cal_g == g) else cal_s) for g in range(3)]
    alpha = [[1.0 - lv for lv in levels] for _ in range(3)]
    n, m = len(log_sigma), len(levels)
    sigma = np.exp(np.asarray(log_sigma, dtype="float64"))
    scores = np.abs(np.asarray(ret, dtype="float64")) / sigma
    regime = regime_of(log_sigma, cuts)
    q = np.empty((n, m))
    hours = np.asarray(hours, dtype="float64")
    known = 0  # rows before this one have had their outcome folded in
    for i in range(n):
        while known < i and hours[known] + horizon <= hours[i]:
            g = int(regime[known])
            if np.isfinite(scores[known]):
                for k, lv in enumerate(levels):
                    miss = float(scores[known] > q[known, k])
                    alpha[g][k] += gamma * ((1.0 - lv) - miss)
                pools[g].add(float(scores[known]))
            known += 1
        g = int(regime[i])
        for k in range(m):
            q[i, k] = pools[g].quantile(1.0 - alpha[g][k])
    # The state a live forecast continues from: every outcome of the window folded in.
    for j in range(known, n):
        g = int(regime[j])
        if np.isfinite(scores[j]):
            for k, lv in enumerate(levels):
                alpha[g][k] += gamma * ((1.0 - lv) - float(scores[j] > q[j, k]))
            pools[g].add(float(scores[j]))
    final_q = [[pools[g].quantile(1.0 - alpha[g][k]) for k in range(m)] for g in range(3)]
    covered = scores[:, None] <= q
    state = BandState(cuts, [float(v) for v in levels], alpha, final_q)
    return BandRun(q, covered, state, regime)


def kupiec(misses: np.ndarray, expected_rate: float) -> float:
    """p-value of Kupiec's proportion-of-failures test (LR, chi-squared with 1 df)."""
    x = np.asarray(misses, dtype=bool)
    n, k = len(x), int(x.sum())
    if n == 0:
        return float("nan")
    p, phat = expected_rate, k / n

    def ll(rate: float) -> float:
        out = 0.0
        if k:
            out += k * np.log(rate) if rate > 0 else -np.inf
        if n - k:
            out += (n - k) * np.log(1 - rate) if rate < 1 else -np.inf
        return out

    lr = -2.0 * (ll(p) - ll(phat))
    return float(sps.chi2.sf(max(lr, 0.0), 1))


def christoffersen(misses: np.ndarray) -> float:
    """p-value of Christoffersen's independence test: does a miss make the next miss likelier?
    (Markov LR, chi-squared with 1 df; 1.0 when there are too few transitions to tell.)"""
    x = np.asarray(misses, dtype=int)
    if len(x) < 3:
        return 1.0
    a, b = x[:-1], x[1:]
    n00 = int(np.sum((a == 0) & (b == 0)))
    n01 = int(np.sum((a == 0) & (b == 1)))
    n10 = int(np.sum((a == 1) & (b == 0)))
    n11 = int(np.sum((a == 1) & (b == 1)))
    if n00 + n01 == 0 or n10 + n11 == 0:
        return 1.0

    def term(count: int, rate: float) -> float:
        return count * np.log(rate) if count else 0.0

    p01, p11 = n01 / (n00 + n01), n11 / (n10 + n11)
    p = (n01 + n11) / (n00 + n01 + n10 + n11)
    ll_ind = term(n00, 1 - p01) + term(n01, p01) + term(n10, 1 - p11) + term(n11, p11)
    ll_one = term(n00 + n10, 1 - p) + term(n01 + n11, p)
    lr = -2.0 * (ll_one - ll_ind)
    return float(sps.chi2.sf(max(lr, 0.0), 1))
