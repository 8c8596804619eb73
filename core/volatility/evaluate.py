"""One coin's volatility forecasts scored out of time, with baselines, gates and bands.

Per horizon ``h`` (6 h, 24 h), on the coin's candle timeline:

1. The test window is the most recent ``test_fraction`` of candles; training rows stop ``h``
   candles before it (the label looks ``h`` hours ahead: purge).
2. The last ``calibration_fraction`` of the training rows (again purged by ``h``) is the
   calibration slice; everything is fit on the rows before it: the estimator, the HAR baseline,
   the EWMA decay. The calibration slice sets the log models' level and gives the conformal
   scores of the bands; it is never used to fit.
3. On the test window: QLIKE, log-MSE and R² of the model and of each baseline; a one-sided
   Diebold–Mariano–HLN test of the model's QLIKE against each; bands run forward with ACI.

Gates per horizon: QLIKE below the best baseline's with DM p < 0.05; the 80% band covers
77–83%, Kupiec and Christoffersen not rejected at 5%, and every third of forecast volatility
within 5 points of 80%.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.volatility.bands import (
    LEVELS,
    BandState,
    christoffersen,
    conformal_bands,
    kupiec,
    level_key,
)
from core.volatility.baselines import (
    HARModel,
)
from core.volatility.estimators import estimator_features, make_estimator, reference_params
from core.volatility.features import (
    HAR_FEATURES,
    HORIZONS,
    VolFrame,
    attached_reference,
    build_frame,
    ret_column,
    sequence_length,
    target_column,
)
from core.volatility.folds import fold_scores
from core.volatility.metrics import diebold_mariano, log_mse, qlike, r2
from core.volatility.split import split_rows

__all__ = [
    "BAND_LEVEL",
    "COVERAGE_TOLERANCE",
    "DM_ALPHA",
    "HorizonResult",
    "VolEvaluation",
    "evaluate_coin",
    "horizon_key",
]

DM_ALPHA = 0.05
BAND_LEVEL = 0.8
#: The 80% band must cover within this many points overall (3) and in each third (5).
COVERAGE_TOLERANCE = 0.03
TERCILE_TOLERANCE = 0.05
TEST_ALPHA = 0.05


def horizon_key(horizon: int) -> str:
    return f"{horizon}h"


def _round(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


@dataclass
class HorizonResult:
    """Everything measured at one horizon (JSON-ready through :meth:`to_dict`)."""

    horizon: int
    estimator: Any
    decay: float
    scores: dict[str, dict[str, float | None]]  # forecaster -> {qlike, log_mse, r2}
    dm: dict[str, dict[str, float | None]]  # baseline -> {statistic, p_value, ...}
    best_baseline: str
    coverage: dict[str, float | None]  # level key -> share covered on the test window
    coverage_terciles: dict[str, list[float | None]]
    tests: dict[str, dict[str, float | None]]  # level key -> {kupiec_p, christoffersen_p, n}
    width_ratio: dict[str, float | None]  # level key -> mean width / static band's width
    static_terciles: dict[str, list[float | None]]  # the static band's coverage per third
    gates: dict[str, dict[str, Any]]
    band_state: BandState
    rows: dict[str, int]
    frame: pd.DataFrame = field(repr=False)  # test rows: time, y, forecasts, ret, sigma, q...
    #: Walk-forward folds inside the fitting rows (empty for a pooled model's coin view).
    folds: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(g["passed"] for g in self.gates.values())

    @property
    def skill_passed(self) -> bool:
        return bool(self.gates["qlike_vs_best_baseline"]["passed"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "horizon": self.horizon,
            "ewma_decay": self.decay,
            "scores": self.scores,
            "dm": self.dm,
            "best_baseline": self.best_baseline,
            "coverage": self.coverage,
            "coverage_terciles": self.coverage_terciles,
            "tests": self.tests,
            "width_ratio": self.width_ratio,
            "static_coverage_terciles": self.static_terciles,
            "gates": self.gates,
            "folds": self.folds,
            "passed": self.passed,
            "band_state": self.band_state.to_dict(),
            "rows": self.rows,
        }


@dataclass
class VolEvaluation:
    """A coin's volatility evaluation at every horizon."""

    estimator: str
    horizons: dict[str, HorizonResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.horizons.values())

    @property
    def reads_reference(self) -> bool:
        """True when an estimator reads the cross-asset inputs (``feat_ref_*``)."""
        return any(
            name.startswith("feat_ref_")
            for r in self.horizons.values()
            for name in r.estimator.features
        )

    @property
    def coverage(self) -> dict[str, dict[str, float | None]]:
        """``coverage["24h"]["80"]``: the share of test rows inside the band."""
        return {k: dict(r.coverage) for k, r in self.horizons.items()}


def _given(value: Any, default: float) -> float:
    """``value`` as a float, ``default`` when it is missing (a p-value of 0.0 is a value)."""
    return default if value is None else float(value)


def _gate(value: float | None, threshold: float | None, passed: bool, rule: str) -> dict[str, Any]:
    return {
        "value": _round(value) if value is not None else None,
        "threshold": threshold,
        "passed": bool(passed),
        "rule": rule,
    }


def evaluate_horizon(
    vf: VolFrame,
    horizon: int,
    *,
    estimator: str = "har",
    test_fraction: float = 0.2,
    calibration_fraction: float = 0.2,
    levels: Sequence[float] = LEVELS,
    fitted: Any = None,
    params: dict[str, Any] | None = None,
    fold_models: list[Any] | None = None,
) -> HorizonResult:
    """Fit on training rows, score on the test window, run the bands (see the module doc).

    ``fitted``: an estimator already fit elsewhere on training rows only (a pooled model seen
    through this coin's normalisation); it is then only calibrated here, on this coin's
    calibration rows. ``params``: the estimator's settings (its defaults when ``None``).
    ``fold_models``: with ``fitted``, the pooled model's fit on each walk-forward fold (so a
    pooled model's folds are scored too).
    """
    frame = vf.frame
    y_all = frame[target_column(horizon)].to_numpy(dtype="float64")
    ret_all = frame[ret_column(horizon)].to_numpy(dtype="float64")
    model = fitted if fitted is not None else make_estimator(estimator, params)
    feats = list(model.features)
    X_all = frame[feats].to_numpy(dtype="float64")
    H_all = frame[HAR_FEATURES].to_numpy(dtype="float64")
    parts = split_rows(
        vf, horizon, feats, test_fraction=test_fraction, calibration_fraction=calibration_fraction
    )
    fit_rows, cal_rows, test_rows, decay = parts.fit, parts.cal, parts.test, parts.decay
    base_all = dict(parts.baselines)

    if fitted is None:
        model.fit(X_all[fit_rows], y_all[fit_rows])
    model.calibrate(X_all[cal_rows], y_all[cal_rows])
    forecasts = {"model": model.predict(X_all)}
    medians = {"model": model.predict_log(X_all)}
    har = HARModel().fit(H_all[fit_rows], y_all[fit_rows])
    har.calibrate(H_all[cal_rows], y_all[cal_rows])
    # The HAR estimator is not its own baseline: the plain HAR is reported beside it, ungated.
    reported = {"har": har.predict(H_all)}
    if not estimator.endswith("har"):
        base_all["har"] = reported["har"]
    medians["har"] = har.predict_log(H_all)
    forecasts.update(base_all)
    forecasts.update(reported)

    y = y_all[test_rows]
    scores: dict[str, dict[str, float | None]] = {}
    losses: dict[str, np.ndarray] = {}
    for name, f in forecasts.items():
        losses[name] = qlike(y, f[test_rows])
        # A log model's median forecast is judged in logs, its mean (level-set) one by QLIKE.
        m = medians.get(name, f)[test_rows]
        scores[name] = {
            "qlike": _round(float(np.mean(losses[name]))),
            "log_mse": _round(float(np.mean(log_mse(y, m)))),
            "r2": _round(r2(y, m)),
        }
    dm: dict[str, dict[str, float | None]] = {}
    for name in (n for n in forecasts if n != "model"):
        res = diebold_mariano(losses["model"], losses[name], horizon=horizon)
        dm[name] = {
            "statistic": _round(res.statistic),
            "p_value": _round(res.p_value),
            "mean_difference": _round(res.mean_difference),
            "lags": res.lags,
        }
    best = min(base_all, key=lambda n: float(np.mean(losses[n])))
    model_q, best_q = float(np.mean(losses["model"])), float(np.mean(losses[best]))
    # One-sided p is above 0.5 whenever the model's QLIKE is the higher, so "the largest p is
    # below 0.05" says "lower than every baseline, significantly" in one number.
    worst_p = max(_given(dm[n]["p_value"], 1.0) for n in base_all)
    beaten = worst_p < DM_ALPHA and all(model_q < float(np.mean(losses[n])) for n in base_all)
    folds = (
        fold_scores(
            estimator,
            X_all,
            y_all,
            base_all,
            fit_rows,
            horizon=horizon,
            params=params,
            fitted=fold_models,
        )
        if fitted is None or fold_models
        else []
    )
    gates = {
        "qlike_vs_best_baseline": _gate(
            worst_p,
            DM_ALPHA,
            beaten,
            f"QLIKE {model_q:.3g} below every baseline's (best: {best} {best_q:.3g}) with "
            f"DM-HLN p < {DM_ALPHA} against each (the largest p)",
        )
    }

    if folds:
        # Folds pooled (row-weighted): one regime shift inside a fold should not decide alone.
        weights = np.array([f["rows"] for f in folds], dtype="float64")
        pooled = {
            n: float(np.average([f["qlike"][n] for f in folds], weights=weights))
            for n in folds[0]["qlike"]
            if n == "model" or n in base_all
        }
        fold_best = min((n for n in pooled if n != "model"), key=pooled.__getitem__)
        gates["folds_agree"] = _gate(
            pooled["model"],
            _round(pooled[fold_best]),
            pooled["model"] < pooled[fold_best],
            f"QLIKE over the {len(folds)} walk-forward folds before the test window below the "
            f"best baseline's there ({fold_best})",
        )

    # Bands: sigma of the h-hour log return = sqrt(variance forecast).
    log_sigma = 0.5 * forecasts["model"]
    hours = pd.DatetimeIndex(frame["open_time"]).as_unit("ns").asi8 / 3.6e12
    run = conformal_bands(
        log_sigma[cal_rows],
        ret_all[cal_rows],
        log_sigma[test_rows],
        ret_all[test_rows],
        hours[test_rows],
        horizon=horizon,
        levels=levels,
    )
    ret = ret_all[test_rows]
    sig = np.exp(log_sigma[test_rows])
    terc = np.quantile(log_sigma[test_rows], [1 / 3, 2 / 3])
    test_third = np.searchsorted(terc, log_sigma[test_rows], side="right")
    coverage: dict[str, float | None] = {}
    coverage_terciles: dict[str, list[float | None]] = {}
    tests: dict[str, dict[str, float | None]] = {}
    width_ratio: dict[str, float | None] = {}
    static_terciles: dict[str, list[float | None]] = {}
    every = np.arange(0, len(test_rows), horizon)
    for k, lv in enumerate(levels):
        key = level_key(lv)
        cov = run.covered[:, k]
        coverage[key] = _round(float(cov.mean()))
        coverage_terciles[key] = [_round(float(cov[test_third == g].mean())) for g in range(3)]
        misses = ~cov[every]
        tests[key] = {
            "kupiec_p": _round(kupiec(misses, 1.0 - lv)),
            "christoffersen_p": _round(christoffersen(misses)),
            "n": len(every),
        }
        static_q = float(np.quantile(np.abs(ret), float(cov.mean())))
        width_ratio[key] = (
            _round(float(np.mean(run.q[:, k] * sig)) / static_q) if static_q > 0 else None
        )
        inside = np.abs(ret) <= static_q
        static_terciles[key] = [_round(float(inside[test_third == g].mean())) for g in range(3)]
    k80 = list(levels).index(BAND_LEVEL) if BAND_LEVEL in levels else None
    if k80 is not None:
        key = level_key(BAND_LEVEL)
        c80 = float(run.covered[:, k80].mean())
        gates["band80_coverage"] = _gate(
            c80,
            BAND_LEVEL,
            abs(c80 - BAND_LEVEL) <= COVERAGE_TOLERANCE + 1e-12,
            f"80% band covers {BAND_LEVEL - COVERAGE_TOLERANCE:.0%}–{BAND_LEVEL + COVERAGE_TOLERANCE:.0%} of the test window",
        )
        gates["band80_kupiec"] = _gate(
            tests[key]["kupiec_p"],
            TEST_ALPHA,
            _given(tests[key]["kupiec_p"], 0.0) >= TEST_ALPHA,
            "Kupiec unconditional coverage not rejected at 5% (every h-th row)",
        )
        gates["band80_christoffersen"] = _gate(
            tests[key]["christoffersen_p"],
            TEST_ALPHA,
            _given(tests[key]["christoffersen_p"], 0.0) >= TEST_ALPHA,
            "Christoffersen independence not rejected at 5% (every h-th row)",
        )
        worst = max(abs((c if c is not None else 0.0) - BAND_LEVEL) for c in coverage_terciles[key])
        gates["band80_terciles"] = _gate(
            worst,
            TERCILE_TOLERANCE,
            worst <= TERCILE_TOLERANCE + 1e-12,
            "80% band within 5 points in every third of forecast volatility",
        )
    out = pd.DataFrame(
        {
            "open_time": frame["open_time"].to_numpy()[test_rows],
            "actual": y,
            **{f"forecast_{n}": f[test_rows] for n, f in forecasts.items()},
            "ret": ret,
            "sigma": sig,
            **{f"q{level_key(lv)}": run.q[:, k] for k, lv in enumerate(levels)},
            "regime": run.regime,
        }
    )
    rows = {
        "fit": len(fit_rows),
        "calibration": len(cal_rows),
        "test": len(test_rows),
        "purge": horizon,
    }
    return HorizonResult(
        horizon,
        model,
        decay,
        scores,
        dm,
        best,
        coverage,
        coverage_terciles,
        tests,
        width_ratio,
        static_terciles,
        gates,
        run.state,
        rows,
        out,
        folds,
    )


def evaluate_coin(
    candles: pd.DataFrame,
    *,
    estimator: str = "har",
    horizons: Sequence[int] = HORIZONS,
    test_fraction: float = 0.2,
    calibration_fraction: float = 0.2,
    params: dict[str, Any] | None = None,
) -> VolEvaluation:
    """Evaluate ``estimator`` (with ``params``) on one coin's candles (store schema) at every
    horizon.

    Cross-asset inputs are read only when a reference coin's candles are attached
    (:func:`core.volatility.features.attach_reference`).

    Raises:
        InsufficientDataError: too few candles for the split.
        ValueError: an unknown estimator.
    """
    params = reference_params(estimator, params, attached_reference(candles) is not None)
    sequence = sequence_length(estimator_features(estimator, params))
    vf = build_frame(candles, horizons, sequence=sequence)
    results = {
        horizon_key(h): evaluate_horizon(
            vf,
            h,
            estimator=estimator,
            test_fraction=test_fraction,
            calibration_fraction=calibration_fraction,
            params=params,
        )
        for h in horizons
    }
    return VolEvaluation(estimator, results)
