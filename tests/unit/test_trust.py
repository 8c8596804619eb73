"""A "beats its baseline" a user can trust: the skill metric named, "no edge" when the interval
reaches zero, a classifier that never says "up", numbers too good to be true, short backtests."""

from __future__ import annotations

import pandas as pd

from core.registry.metadata import Gate, ModelCard, ModelMetadata
from core.training.trust import SUSPICIOUS, backtest_warnings, model_warnings, skill_words


def classifier(*, auc=0.56, skill=(0.012, 0.004, 0.02), predicted_up=0.3, interval="1h"):
    point, low, high = skill
    card = ModelCard(
        output="probability",
        metrics={"roc_auc": auc, "brier_skill": point},
        baselines={"roc_auc": 0.5},
        intervals={"brier_skill": {"point": point, "low": low, "high": high}},
        gates={"auc": Gate(auc - 0.02, 0.5, True, "AUC 95% lower bound > 0.5")},
    )
    return ModelMetadata(
        name="xgboost_btcusdt",
        version="v1",
        symbol="BTCUSDT",
        model_type="xgboost",
        interval=interval,
        metrics={"test": {"predicted_positive_rate": predicted_up}},
        card=card,
    )


def forecaster(skill: float, low: float, high: float, interval: str = "1h") -> ModelMetadata:
    card = ModelCard(
        output="return",
        metrics={"mase": 1 - skill, "skill": skill},
        intervals={"skill": {"point": skill, "low": low, "high": high}},
    )
    return ModelMetadata(
        name="lstm_return_btcusdt",
        version="v1",
        symbol="BTCUSDT",
        model_type="lstm_return",
        interval=interval,
        card=card,
    )


def test_the_skill_metric_is_named_and_a_tiny_difference_is_no_edge():
    assert skill_words(classifier()) == "Brier skill vs the base rate +0.012 [+0.004, +0.020]"
    # 288.78 vs 288.81 MAE: a skill of 0.0001 whose interval spans zero is not a "yes"
    tiny = skill_words(forecaster(0.0001, -0.002, 0.002))
    assert tiny.startswith("skill vs persistence (1 - MASE) +0.000 [-0.002, +0.002]")
    assert tiny.endswith(": no edge (its 95% interval includes 0)")
    worse = skill_words(forecaster(-0.032, -0.044, -0.021))
    assert worse.endswith("-0.032 [-0.044, -0.021]: no edge (no better than the baseline)")
    assert "AUC" not in skill_words(classifier())


def test_a_classifier_that_never_predicts_up_is_flagged():
    [warning] = model_warnings(classifier(predicted_up=0.0))
    assert "never predicts the positive class" in warning and "predicted-up" in warning
    assert model_warnings(classifier(predicted_up=0.01)) == []


def test_numbers_too_good_for_hourly_candles_are_suspicious():
    [auc] = model_warnings(classifier(auc=0.999))
    assert auc.startswith("Test AUC 0.999 is above 0.75 on 1h candles") and SUSPICIOUS in auc
    [skill] = model_warnings(forecaster(0.45, 0.4, 0.5))
    assert (
        skill.startswith("Forecast skill 0.45 vs persistence is above 0.3") and SUSPICIOUS in skill
    )
    assert model_warnings(classifier(auc=0.74)) == []
    assert model_warnings(forecaster(0.45, 0.4, 0.5, interval="1d")) == []  # daily: not flagged


def test_absurd_backtests_are_suspicious_and_short_windows_carry_a_caveat():
    start, end = pd.Timestamp("2025-03-12", tz="UTC"), pd.Timestamp("2025-05-29", tz="UTC")
    sharpe, cagr, caveat = backtest_warnings(5082.93, 41.7, start, end)
    assert sharpe == f"A Sharpe ratio of 41.7 is far beyond real trading: {SUSPICIOUS}."
    assert cagr.startswith("A CAGR of 508,293% is absurd") and SUSPICIOUS in cagr
    assert caveat.startswith("The CAGR is annualised from 78 days of candles")
    year = backtest_warnings(0.2, 1.1, start, start + pd.Timedelta(days=400))
    assert year == []
