"""Model cards: a version's test-window metrics beside their baselines, with intervals and gates.

A card is built once, at training time, from the out-of-sample predictions: the test window (the
most recent part, scored once) and the walk-forward folds (strictly before it). A gate passes only
when the evidence clears its bar; for a ranking metric that means the lower bound of the 95%
block-bootstrap interval (blocks of at least 72 candles, since hourly errors are autocorrelated).

Probability models (``Output.PROBABILITY``) must rank their event better than chance *and* better
than a one-feature volatility score (ATR / close), rank up-moves above down-moves (direction AUC),
beat the test period's own base rate on log loss, and be calibrated out of time (ECE <= 0.05 on
the test window; their calibration was fit on earlier rows), and the walk-forward folds must
agree with the test window (``folds_agree``: the AUC on the pooled fold predictions has its 95%
lower bound above 0.5 too; a model that passes on the test window but is flat on its folds does
not vote, DESIGN rule 12). The card also states the smallest AUC its test window could tell apart
from 0.5 (``min_detectable_auc``, see :func:`min_detectable_auc`). Forecasters (returns or prices) are
scored in log-return space against persistence (no change): MASE < 1 and a one-sided
Diebold-Mariano test with p < 0.05.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.models.base import Output
from core.registry.calibration import Reliability, ReliabilityBin
from core.registry.metadata import (
    ClassifierBaselines,
    ClassifierMetrics,
    ForecastBaselines,
    ForecastMetrics,
    Gate,
    MetricInterval,
    ModelCard,
)
from core.registry.promotion import Comparison
from core.training import stats

__all__ = [
    "BOOTSTRAP_BLOCK",
    "ECE_LIMIT",
    "HEADLINE",
    "beats",
    "build_card",
    "forecast_returns",
    "min_detectable_auc",
]

#: Bootstrap block length in candles (3 days of hours): longer than the error autocorrelation.
BOOTSTRAP_BLOCK = 72
BOOTSTRAP_RESAMPLES = 300
ECE_LIMIT = 0.05
DM_ALPHA = 0.05


def _round(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def _interval(fn: Any, *arrays: np.ndarray, seed: int = 0) -> MetricInterval:
    return stats.block_bootstrap(
        fn, *arrays, block=BOOTSTRAP_BLOCK, resamples=BOOTSTRAP_RESAMPLES, seed=seed
    )


def min_detectable_auc(y: np.ndarray, auc: MetricInterval) -> tuple[float | None, float | None]:
    """(smallest AUC the window could tell apart from 0.5, the 95% half-width it comes from).

    The gate asks for the lower bound of the AUC's 95% interval to clear 0.5, so the smallest
    point AUC that can pass is 0.5 plus the interval's lower half-width. That half-width is the
    larger of the block bootstrap's (which sees the autocorrelation of overlapping labels) and
    the analytic one under no skill, 1.96 x sqrt((n1 + n0 + 1) / (12 n1 n0)) (Hanley & McNeil
    at AUC 0.5), which treats the rows as independent and so is the floor. None when the window
    holds one class only."""
    n1 = int(np.sum(y == 1))
    n0 = int(len(y) - n1)
    if not n1 or not n0:
        return None, None
    width = 1.96 * float(np.sqrt((n1 + n0 + 1) / (12.0 * n1 * n0)))
    if auc.point is not None and auc.low is not None and np.isfinite(auc.low):
        width = max(width, float(auc.point) - float(auc.low))
    return _round(0.5 + width), _round(width)


def _fold_auc(folds: pd.DataFrame | None, column: str) -> MetricInterval | None:
    """The AUC of the pooled walk-forward fold predictions with its block-bootstrap interval."""
    if folds is None or not len(folds) or "actual" not in folds:
        return None
    fy = folds["actual"].to_numpy(dtype="float64")
    fp = folds[column].to_numpy(dtype="float64")
    ok = np.isfinite(fy) & np.isfinite(fp)
    if not ok.any():
        return None
    return _interval(stats.roc_auc, fy[ok], np.clip(fp[ok], 0.0, 1.0), seed=6)


def forecast_returns(output: Output, frame: pd.DataFrame, column: str) -> tuple[np.ndarray, ...]:
    """(forecast log return, actual log return) of a forecaster's prediction rows."""
    close = frame["close"].to_numpy(dtype="float64")
    out = frame[column].to_numpy(dtype="float64")
    actual = frame["actual"].to_numpy(dtype="float64")
    if output is Output.PRICE:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(out / close), np.log(actual / close)
    return out, actual


def build_card(
    output: Output,
    test: pd.DataFrame,
    folds: pd.DataFrame | None,
    *,
    column: str,
    horizon: int,
) -> ModelCard:
    """The card of one version from its prediction frames.

    ``test`` / ``folds`` have ``actual``, ``close``, ``column`` (the model's output) and, for
    probability models, ``future_return`` (the move over the signal horizon) and ``vol_score``
    (ATR / close at the call). ``horizon`` is the label's look-ahead (for the DM test).
    """
    if output is Output.PROBABILITY:
        return _classifier_card(test, folds, column)
    return _forecaster_card(output, test, column, horizon)


def _classifier_card(test: pd.DataFrame, folds: pd.DataFrame | None, column: str) -> ModelCard:
    y = test["actual"].to_numpy(dtype="float64")
    p = np.clip(test[column].to_numpy(dtype="float64"), 0.0, 1.0)
    future = test["future_return"].to_numpy(dtype="float64")
    vol = test["vol_score"].to_numpy(dtype="float64")
    ok = np.isfinite(y) & np.isfinite(p)
    y, p, future, vol = y[ok], p[ok], future[ok], vol[ok]
    base = float(y.mean()) if len(y) else float("nan")
    auc = _interval(stats.roc_auc, y, p, seed=1)
    direction = _interval(stats.direction_auc, future, p, seed=2)
    skill = _interval(lambda yy, pp: stats.brier_skill(yy, pp, float(np.mean(yy))), y, p, seed=3)
    has_vol = np.isfinite(vol)
    vol_auc = stats.roc_auc(y[has_vol], vol[has_vol]) if has_vol.any() else None
    vol_dir = stats.direction_auc(future[has_vol], vol[has_vol]) if has_vol.any() else None
    constant = np.full(len(y), base)
    base_log_loss = stats.log_loss(y, constant) if len(y) else None
    log_loss = stats.log_loss(y, p) if len(y) else None
    ece = stats.expected_calibration_error(y, p, bins=10)
    train_rate = float(np.mean(folds["actual"])) if folds is not None and len(folds) else base
    called = p >= train_rate
    balanced = (
        0.5 * (np.mean(called[y == 1]) + np.mean(~called[y == 0])) if 0 < y.sum() < len(y) else None
    )
    fold_auc = _fold_auc(folds, column)
    mde, half_width = min_detectable_auc(y, auc)
    metrics = ClassifierMetrics(
        n=int(len(y)),
        base_rate=_round(base),
        roc_auc=_round(auc.point),
        fold_roc_auc=_round(fold_auc.point) if fold_auc else None,
        min_detectable_auc=mde,
        auc_half_width=half_width,
        direction_auc=_round(direction.point),
        log_loss=_round(log_loss),
        brier=_round(stats.brier(y, p)) if len(y) else None,
        brier_skill=_round(skill.point),
        balanced_accuracy=_round(balanced),
        ece=_round(ece),
    )
    baselines = ClassifierBaselines(
        roc_auc=0.5,
        direction_auc=0.5,
        volatility_auc=_round(vol_auc),
        volatility_direction_auc=_round(vol_dir),
        log_loss=_round(base_log_loss),
        brier=_round(stats.brier(y, constant)) if len(y) else None,
        base_rate=_round(base),
    )
    vol_bar = max(0.5, vol_auc if vol_auc is not None else 0.5)
    gates = {
        "auc": Gate(_round(auc.low), 0.5, _above(auc.low, 0.5), "AUC 95% lower bound > 0.5"),
        "beats_volatility": Gate(
            _round(auc.low),
            _round(vol_bar),
            _above(auc.low, vol_bar),
            "AUC 95% lower bound > the ATR/close baseline's AUC",
        ),
        "direction": Gate(
            _round(direction.low),
            0.5,
            _above(direction.low, 0.5),
            "direction AUC 95% lower bound > 0.5 (ranks up-moves above down-moves)",
        ),
        "log_loss": Gate(
            _round(log_loss),
            _round(base_log_loss),
            log_loss is not None and base_log_loss is not None and log_loss < base_log_loss,
            "log loss < the test period's base-rate log loss",
        ),
        "ece": Gate(
            _round(ece), ECE_LIMIT, ece is not None and ece <= ECE_LIMIT, "ECE out of time <= 0.05"
        ),
        "folds_agree": Gate(
            _round(fold_auc.low) if fold_auc else None,
            0.5,
            fold_auc is not None and _above(fold_auc.low, 0.5),
            "AUC on the walk-forward folds, 95% lower bound > 0.5 (folds and test agree)",
        ),
    }
    notes = [
        "Accuracy at a 0.5 threshold is not shown: on a rare event it equals always saying no."
    ]
    if mde is not None:
        notes.append(
            f"Power: its test window ({len(y):,} rows) can tell an AUC apart from 0.5 only from "
            f"about {mde:.3f} up (95% half-width {half_width:.3f}); a smaller real edge would "
            "show as no edge."
        )
    return ModelCard(
        output=Output.PROBABILITY.value,
        metrics=metrics,
        baselines=baselines,
        intervals={
            "roc_auc": auc,
            "direction_auc": direction,
            "brier_skill": skill,
        }
        | ({"fold_roc_auc": fold_auc} if fold_auc else {}),
        gates=gates,
        calibration=_reliability(folds, column, y, p),
        notes=tuple(notes),
    )


def _reliability(
    folds: pd.DataFrame | None, column: str, y: np.ndarray, p: np.ndarray
) -> Reliability:
    """Reliability table built on the fold rows (bins of probability, their hit rate) and
    reported on the test rows (the hit rate in the same bins), with ECE on the test window."""
    table: list[ReliabilityBin] = []
    if folds is not None and len(folds) >= 50:
        fp = folds[column].to_numpy(dtype="float64")
        fy = folds["actual"].to_numpy(dtype="float64")
        edges = np.unique(np.quantile(fp, np.linspace(0, 1, 6)[1:-1]))
        fb, tb = np.searchsorted(edges, fp, "right"), np.searchsorted(edges, p, "right")
        for b in range(len(edges) + 1):
            f_sel, t_sel = fb == b, tb == b
            n_test = int(t_sel.sum())
            low, high = stats.wilson_interval(int(y[t_sel].sum()), n_test)
            table.append(
                ReliabilityBin(
                    bin=b + 1,
                    built_n=int(f_sel.sum()),
                    built_hit_rate=_round(float(fy[f_sel].mean())) if f_sel.any() else None,
                    test_n=n_test,
                    test_hit_rate=_round(float(y[t_sel].mean())) if n_test else None,
                    test_low=_round(low),
                    test_high=_round(high),
                )
            )
    return Reliability(
        built_on="walk-forward folds",
        reported_on="test window",
        ece_out_of_time=_round(stats.expected_calibration_error(y, p, bins=10)),
        table=tuple(table),
    )


def _forecaster_card(output: Output, test: pd.DataFrame, column: str, horizon: int) -> ModelCard:
    forecast, actual = forecast_returns(output, test, column)
    ok = np.isfinite(forecast) & np.isfinite(actual)
    forecast, actual = forecast[ok], actual[ok]
    naive = np.zeros_like(actual)
    mase = stats.mase(actual, forecast, naive)
    dm_stat, dm_p = stats.diebold_mariano(
        np.abs(actual - forecast), np.abs(actual - naive), horizon=max(1, horizon)
    )

    def skill_of(a: np.ndarray, f: np.ndarray) -> float | None:
        m = stats.mase(a, f, np.zeros_like(a))
        return None if m is None else 1.0 - m

    def hit_rate(a: np.ndarray, f: np.ndarray) -> float | None:
        moved = (np.sign(a) != 0) & (np.sign(f) != 0)
        return float(np.mean(np.sign(a[moved]) == np.sign(f[moved]))) if moved.any() else None

    skill = _interval(skill_of, actual, forecast, seed=4)
    direction = _interval(hit_rate, actual, forecast, seed=5)
    up = float(np.mean(actual[actual != 0] > 0)) if (actual != 0).any() else 0.5
    metrics = ForecastMetrics(
        n=int(len(actual)),
        mae_log_return=_round(float(np.mean(np.abs(actual - forecast)))) if len(actual) else None,
        mase=_round(mase),
        skill=_round(skill.point),
        directional_accuracy=_round(direction.point),
        dm_statistic=_round(dm_stat),
        dm_p_value=_round(dm_p),
    )
    baselines = ForecastBaselines(
        mae_log_return=_round(float(np.mean(np.abs(actual)))) if len(actual) else None,
        mase=1.0,
        skill=0.0,
        majority_direction=_round(max(up, 1 - up)),
    )
    gates = {
        "mase": Gate(_round(mase), 1.0, mase is not None and mase < 1.0, "MASE < 1 (persistence)"),
        "diebold_mariano": Gate(
            _round(dm_p),
            DM_ALPHA,
            dm_p is not None and dm_p < DM_ALPHA,
            "Diebold-Mariano p < 0.05 (errors smaller than persistence's)",
        ),
    }
    return ModelCard(
        output=output.value,
        metrics=metrics,
        baselines=baselines,
        intervals={"skill": skill, "directional_accuracy": direction},
        gates=gates,
        notes=("Scored in log-return space; persistence (no change) is the naive forecast.",),
    )


def _above(value: float | None, bar: float) -> bool:
    return value is not None and np.isfinite(value) and value > bar


def beats(new: ModelCard | None, old: ModelCard | None) -> bool:
    """Whether ``new`` beats ``old`` on the card's headline (AUC for probabilities, MASE for
    forecasters); True when there is nothing to beat."""
    if new is None:
        return False
    if old is None or old.output != new.output:
        return True
    if isinstance(new.metrics, ClassifierMetrics) and isinstance(old.metrics, ClassifierMetrics):
        a, b = new.metrics.roc_auc, old.metrics.roc_auc
        return a is not None and (b is None or a > b)
    if isinstance(new.metrics, ForecastMetrics) and isinstance(old.metrics, ForecastMetrics):
        a, b = new.metrics.mase, old.metrics.mase
        return a is not None and (b is None or a < b)
    return False


#: Classifier and forecaster cards hold a challenger against its champion on the headline.
HEADLINE = Comparison(beats)
