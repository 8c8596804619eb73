"""On a pure random walk (no signal by construction) the whole pipeline reports no skill.

Full ``train_coin`` with the real registry, small but real settings: the XGBoost test AUC stays
within 0.05 of 0.5 and the LSTM does not beat persistence by more than 2%.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from core.config import LSTMConfig, SplitConfig, TargetConfig, XGBConfig
from core.models import ModelKind
from core.models.lstm import transform
from core.registry.model_registry import ModelRegistry
from core.training.train import Stage, train_coin
from tests.random_walk import random_walk_candles

XGB = XGBConfig(n_estimators=60, max_depth=4, early_stopping_rounds=10)
LSTM = LSTMConfig(window=24, units=16, dense_units=8, epochs=4, batch_size=256, patience=2)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("CRYPTOVOLT_HOME", str(home))
    candles = random_walk_candles(7000, seed=11)
    events = []
    try:
        results = train_coin(
            "BTC",
            target=TargetConfig(),
            split=SplitConfig(),
            xgb=XGB,
            lstm=LSTM,
            candles=candles,
            progress=events.append,
        )
        yield home, candles, results, events
    finally:
        mp.undo()


@pytest.mark.slow
def test_random_walk_xgboost_auc_is_a_coin_flip(trained):
    _, _, results, _ = trained
    xgb = next(m for m in results if m["model_type"] == "xgboost")
    auc = xgb["metrics"]["test"]["roc_auc"]
    assert abs(auc - 0.5) <= 0.05, auc
    folds = xgb["metrics"]["walk_forward"]
    assert [f["fold"] for f in folds] == ["fold1", "fold2", "fold3", "fold4"]
    assert all(abs(f["metrics"]["roc_auc"] - 0.5) <= 0.08 for f in folds)
    assert xgb["metrics"]["baseline"]["roc_auc"] == 0.5
    # Over 24 seeds this setup gave test AUC 0.502 +- 0.029 (sd): chance, not leakage. Pooling
    # all ~6,900 out-of-sample rows (folds + test) makes the no-skill check much tighter.
    pooled = ModelRegistry(trained[0] / "models").get_predictions("xgboost_btcusdt")
    assert abs(roc_auc_score(pooled["actual"], pooled["probability"]) - 0.5) <= 0.03
    assert xgb["metrics"]["skill"] <= 0.02  # Brier no better than the training base rate


@pytest.mark.slow
def test_random_walk_lstm_has_no_skill_over_persistence(trained):
    _, _, results, _ = trained
    lstm = next(m for m in results if m["model_type"] == "lstm")
    assert lstm["metrics"]["skill"] <= 0.02
    assert lstm["metrics"]["test"]["mae"] >= 0.98 * lstm["metrics"]["baseline"]["mae"]
    curve = lstm["training"]["loss_curve"]
    assert len(curve["loss"]) == len(curve["val_loss"]) == lstm["training"]["epochs_run"]


@pytest.mark.slow
def test_registered_versions_carry_metadata_and_out_of_sample_predictions(trained):
    home, candles, results, events = trained
    registry = ModelRegistry(home / "models")  # train_coin's default: {home}/models
    assert [m["name"] for m in results] == ["xgboost_btcusdt", "lstm_btcusdt"]
    for meta in results:
        for key in ("name", "symbol", "interval", "model_type", "version", "created_at", "data"):
            assert meta[key], key
        assert meta["data"]["rows"] == 7000 and len(meta["data"]["sha256"]) == 64
        assert set(meta["metrics"]) >= {"test", "walk_forward", "baseline", "skill"}
        assert meta["train_seconds"] > 0 and "xgboost" in meta["library_versions"]
        assert set(meta["artifacts"]) >= {"predictions.parquet"}
        model = registry.get_model(meta["name"])
        assert np.isfinite(model.predict_latest(candles))

    xgb_pred = registry.get_predictions("xgboost_btcusdt")
    assert list(xgb_pred.columns) == ["open_time", "split", "close", "probability", "actual"]
    assert set(xgb_pred["split"]) == {"fold1", "fold2", "fold3", "fold4", "test"}
    assert str(xgb_pred["open_time"].dt.tz) == "UTC"
    lstm_pred = registry.get_predictions("lstm_btcusdt")
    assert list(lstm_pred.columns) == ["open_time", "split", "close", "forecast", "actual"]
    # both models are tested on the same period
    assert set(lstm_pred["split"]) == {"test"}
    test_start = xgb_pred.loc[xgb_pred["split"] == "test", "open_time"].min()
    assert lstm_pred["open_time"].min() == test_start == candles["open_time"].iloc[5600]

    stages = [(e.model, e.stage) for e in events]
    assert stages[0] == (None, Stage.LOADING) and stages[-1] == (None, Stage.DONE)
    assert (ModelKind.XGBOOST, Stage.WALK_FORWARD) in stages
    epochs = [e for e in events if e.model is ModelKind.LSTM and e.stage is Stage.FITTING]
    assert any("val_loss" in e.metrics for e in epochs)
    log = (home / "logs" / "model_training.log").read_text()
    assert "xgboost_btcusdt v1" in log and "lstm test" in log


@pytest.mark.slow
def test_training_ends_horizon_candles_before_the_test_period(trained):
    _, candles, results, _ = trained
    for meta in results:
        horizon = meta["target"]["horizon"]
        train_end = pd.Timestamp(meta["split"]["train"]["end"])
        test_start = pd.Timestamp(meta["split"]["test"]["start"])
        assert test_start - train_end == pd.Timedelta(hours=horizon + 1), meta["name"]


@pytest.mark.slow
def test_lstm_scaler_in_metadata_comes_from_training_rows_only(trained):
    _, candles, results, _ = trained
    lstm = next(m for m in results if m["model_type"] == "lstm")
    scaler = lstm["training"]["scaler"]
    train_rows = lstm["split"]["train_rows"]  # the fit rows, before the validation slice
    close = candles["close"].to_numpy()
    first = LSTM.window  # the first candle with a full window
    rows = np.arange(first, first + train_rows)
    windows = np.stack(
        [
            candles[["close", "high", "low", "volume"]].to_numpy()[r - LSTM.window : r + 1]
            for r in rows
        ]
    )
    own = transform(windows)[:, -1, :]
    np.testing.assert_allclose(scaler["x_mean"], own.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(scaler["x_scale"], own.std(axis=0), rtol=1e-9)
    returns = np.log(close[rows + 1] / close[rows])
    assert scaler["y_mean"] == pytest.approx(returns.mean(), rel=1e-9)
    assert pd.Timestamp(lstm["split"]["train"]["start"]) == candles["open_time"].iloc[first]
