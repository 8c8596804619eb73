"""On a pure random walk (no signal by construction) the whole pipeline reports no skill, every
model card fails its gates, and the coin shows NO EDGE.

Full ``train_coin`` of every default kind with the real registry and small but real settings:
the classifiers' test AUC stays within 0.05 of 0.5, the forecasters do not beat persistence by
more than 2%, no card passes, no walk-forward fold reaches into the test window, and
``compute_signals`` says NO_EDGE with the reason instead of a direction made of noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from core.config import SplitConfig, TargetConfig
from core.models.sequence import transform
from core.models.settings import DirectionConfig, LSTMConfig, LSTMReturnConfig, XGBConfig
from core.registry.gates import failed_gates, version_verdict
from core.registry.model_registry import ModelRegistry
from core.signals.ensemble import SignalKind
from core.signals.live import compute_signals
from core.training.records import Stage
from core.training.train import train_coin
from tests.random_walk import random_walk_candles
from tests.unit.test_train import assert_folds_before_test

#: The four kinds of the direction and seed recipes (the default set before volatility kinds).
FOUR_KINDS = ("xgb_direction", "lstm_return", "xgboost", "lstm")

XGB = XGBConfig(n_estimators=60, max_depth=4, early_stopping_rounds=10)
DIRECTION = DirectionConfig(n_estimators=60, max_depth=3, early_stopping_rounds=10)
LSTM = LSTMConfig(window=24, units=16, dense_units=8, epochs=4, batch_size=256, patience=2)
RETURN = LSTMReturnConfig(window=24, units=8, dense_units=8, epochs=3, batch_size=256, patience=2)
SETTINGS = {"xgb_direction": DIRECTION, "lstm_return": RETURN, "xgboost": XGB, "lstm": LSTM}
ROWS = 7000


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("CRYPTOVOLT_HOME", str(home))
    candles = random_walk_candles(ROWS, seed=11)
    # the direction model's cross-asset inputs: an independent random walk for ETH
    context = {"BTCUSDT": candles, "ETHUSDT": random_walk_candles(ROWS, seed=12, price=10.0)}
    events = []
    try:
        results = train_coin(
            "BTC",
            models=FOUR_KINDS,
            target=TargetConfig(),
            split=SplitConfig(),
            settings=SETTINGS,
            candles=candles,
            context=context,
            progress=events.append,
        )
        yield home, candles, context, {r.metadata.model_type: r for r in results}, events
    finally:
        mp.undo()


@pytest.mark.slow
def test_random_walk_xgboost_auc_is_a_coin_flip(trained):
    home, _, _, results, _ = trained
    xgb = results["xgboost"].metadata
    auc = xgb.metrics.test["roc_auc"]
    assert abs(auc - 0.5) <= 0.05, auc
    folds = xgb.metrics.walk_forward
    assert [f.fold for f in folds] == ["fold1", "fold2", "fold3", "fold4"]
    assert all(abs(f.metrics["roc_auc"] - 0.5) <= 0.08 for f in folds)
    assert xgb.metrics.baseline["roc_auc"] == 0.5
    # Pooling all out-of-sample rows (folds + test) makes the no-skill check much tighter.
    pooled = ModelRegistry(home / "models").get_predictions("xgboost_btcusdt")
    assert abs(roc_auc_score(pooled["actual"], pooled["probability"]) - 0.5) <= 0.03
    assert xgb.metrics.skill <= 0.02  # Brier no better than the training base rate


@pytest.mark.slow
def test_random_walk_direction_model_cannot_rank_up_moves(trained):
    home, _, _, results, _ = trained
    meta = results["xgb_direction"].metadata
    assert abs(meta.metrics.test["roc_auc"] - 0.5) <= 0.05
    assert abs(meta.card.metrics.direction_auc - 0.5) <= 0.05
    assert meta.metrics.skill <= 0.02
    pooled = ModelRegistry(home / "models").get_predictions("xgb_direction_btcusdt")
    assert abs(roc_auc_score(pooled["actual"], pooled["probability"]) - 0.5) <= 0.03
    assert abs(pooled["actual"].mean() - 0.5) <= 0.05  # "higher in 6 h": about half the time


@pytest.mark.slow
def test_random_walk_forecasters_have_no_skill_over_persistence(trained):
    _, _, _, results, _ = trained
    lstm = results["lstm"].metadata
    assert lstm.metrics.skill <= 0.02
    assert lstm.metrics.test["mae"] >= 0.98 * lstm.metrics.baseline["mae"]
    curve = lstm.training["loss_curve"]
    assert len(curve["loss"]) == len(curve["val_loss"]) == lstm.training["epochs_run"]
    ret = results["lstm_return"].metadata
    assert ret.metrics.skill <= 0.02
    assert ret.card.metrics.mase >= 0.98
    assert len(ret.metrics.walk_forward) == 4  # it runs walk-forward, so it can be calibrated


@pytest.mark.slow
def test_every_gate_set_fails_on_a_random_walk(trained):
    _, _, _, results, _ = trained
    assert set(results) == set(FOUR_KINDS)
    for kind, result in results.items():
        meta = result.metadata
        card = meta.card
        assert card is not None and card.gates, kind
        assert not card.passed and not meta.gates_passed, (kind, card.to_dict()["gates"])
        assert version_verdict(meta).startswith("no edge:") and failed_gates(card), kind
        assert result.promoted  # the first version is champion even without an edge
    probability = results["xgboost"].metadata.card
    assert {"auc", "beats_volatility", "direction", "log_loss", "ece"} <= set(probability.gates)
    assert not probability.gates["auc"].passed  # the AUC interval does not clear 0.5
    assert set(results["lstm"].metadata.card.gates) == {"mase", "diebold_mariano"}


@pytest.mark.slow
def test_the_coin_shows_no_edge_with_the_reason(trained):
    home, candles, context, _, _ = trained
    registry = ModelRegistry(home / "models")
    signals, errors = compute_signals(registry, ["BTC"], candles=context)
    assert errors == {}
    [signal] = signals
    assert signal.symbol == "BTCUSDT" and signal.signal is SignalKind.NO_EDGE
    assert signal.reason and "No model beats its baselines" in signal.reason
    assert signal.confidence is None and signal.base_rate is None and signal.support == 0
    assert signal.gates_passed == {f"{k}_btcusdt": False for k in FOUR_KINDS}
    assert all(v.vote is None and v.output is not None for v in signal.votes)
    payload = signal.to_dict()
    assert payload["signal"] == "NO_EDGE" and payload["reason"] == signal.reason
    assert signal.candle_time == candles["open_time"].iloc[-1]


@pytest.mark.slow
def test_no_walk_forward_fold_overlaps_the_test_window_or_its_purge(trained):
    home, _, _, results, _ = trained
    assert_folds_before_test(ModelRegistry(home / "models"), list(results.values()))
    # the return forecaster's label looks one candle ahead, its calls are judged over six: the
    # folds keep the longer purge
    ret = results["lstm_return"].metadata
    assert ret.horizon == 1 and ret.signal_horizon == 6


@pytest.mark.slow
def test_registered_versions_carry_metadata_and_out_of_sample_predictions(trained):
    home, candles, context, results, events = trained
    registry = ModelRegistry(home / "models")  # train_coin's default: {home}/models
    assert list(results) == list(FOUR_KINDS)
    for kind, result in results.items():
        meta = result.metadata
        assert meta.name == f"{kind}_btcusdt" and meta.version == "v1"
        assert meta.symbol == "BTCUSDT" and meta.interval == "1h" and meta.created_at
        assert meta.data["rows"] == ROWS and len(meta.data["sha256"]) == 64
        assert set(meta.metrics.to_dict()) >= {"test", "walk_forward", "baseline", "skill"}
        assert meta.train_seconds > 0 and "xgboost" in meta.library_versions
        assert set(meta.artifacts) >= {"predictions.parquet"}
        assert meta.vote is not None
        model = registry.get_model(meta.name)
        assert np.isfinite(model.predict_latest(candles, context=context)), kind
    assert results["xgb_direction"].metadata.data["context"] == ["BTCUSDT", "ETHUSDT"]

    extras = ["future_return", "vol_score"]
    columns = {
        "xgboost": "probability",
        "xgb_direction": "probability",
        "lstm": "forecast",
        "lstm_return": "forecast_return",
    }
    frames = {k: registry.get_predictions(f"{k}_btcusdt") for k in FOUR_KINDS}
    for kind, frame in frames.items():
        expected = ["open_time", "split", "close", columns[kind], "actual", *extras]
        assert list(frame.columns) == expected, kind
        assert str(frame["open_time"].dt.tz) == "UTC"
    folds = {"fold1", "fold2", "fold3", "fold4", "test"}
    assert set(frames["xgboost"]["split"]) == set(frames["lstm_return"]["split"]) == folds
    assert set(frames["lstm"]["split"]) == {"test"}  # the seed LSTM runs no walk-forward
    # every model is tested on the same period
    starts = {k: f.loc[f["split"] == "test", "open_time"].min() for k, f in frames.items()}
    assert set(starts.values()) == {candles["open_time"].iloc[5600]}, starts
    # future_return is the move over the signal horizon from the row's candle
    close = candles.set_index("open_time")["close"]
    row = frames["lstm_return"].iloc[100]
    later = close[row["open_time"] + pd.Timedelta(hours=6)]
    assert row["future_return"] == pytest.approx(later / row["close"] - 1, rel=1e-9)

    stages = [(e.model, e.stage) for e in events]
    assert stages[0] == (None, Stage.LOADING) and stages[-1] == (None, Stage.DONE)
    assert ("xgboost", Stage.WALK_FORWARD) in stages and (
        "lstm_return",
        Stage.WALK_FORWARD,
    ) in stages
    assert ("lstm", Stage.WALK_FORWARD) not in stages
    epochs = [e for e in events if e.model == "lstm" and e.stage is Stage.FITTING]
    assert any("val_loss" in e.metrics for e in epochs)
    log = (home / "logs" / "model_training.log").read_text()
    assert "xgboost_btcusdt v1" in log and "lstm test" in log and "card: no edge" in log


@pytest.mark.slow
def test_training_ends_horizon_candles_before_the_test_period(trained):
    _, _, _, results, _ = trained
    for result in results.values():
        meta = result.metadata
        train_end = pd.Timestamp(meta.split["train"]["end"])
        test_start = pd.Timestamp(meta.split["test"]["start"])
        assert test_start - train_end == pd.Timedelta(hours=meta.horizon + 1), meta.name


@pytest.mark.slow
def test_lstm_scaler_in_metadata_comes_from_training_rows_only(trained):
    _, candles, _, results, _ = trained
    lstm = results["lstm"].metadata
    scaler = lstm.training["scaler"]
    train_rows = lstm.split["train_rows"]  # the fit rows, before the validation slice
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
    assert pd.Timestamp(lstm.split["train"]["start"]) == candles["open_time"].iloc[first]
