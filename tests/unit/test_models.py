"""The model wrappers: fit / predict / save / load, the numpy LSTM equals Keras, train-only
scaling, and a light ``import core.models``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.config import TargetConfig
from core.errors import ConfigError, InsufficientDataError
from core.models import (
    DEFAULT_KINDS,
    SEED_KINDS,
    config_class,
    create_model,
    kinds,
    load_model,
    parse_kind,
    parse_kinds,
)
from core.models.sequence import transform
from core.models.settings import LSTMConfig, XGBConfig
from tests.random_walk import random_walk_candles

ROOT = Path(__file__).resolve().parents[2]
TINY_XGB = XGBConfig(n_estimators=30, max_depth=3, early_stopping_rounds=5)
TINY_LSTM = LSTMConfig(window=8, units=4, dense_units=3, epochs=3, batch_size=64, patience=2)


def _run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_importing_core_models_loads_neither_tensorflow_nor_xgboost():
    code = (
        "import sys, core.models, core.models.base, core.training.train\n"
        "from core.models import create_model\n"
        "create_model('lstm'), create_model('lstm_return')\n"  # no TF until a fit
        "print(','.join(m for m in ('tensorflow', 'keras', 'xgboost') if m in sys.modules))"
    )
    assert _run(code) == ""


def test_model_kind_parses_user_spellings_and_refuses_others():
    assert parse_kind("XGB") == "xgboost"
    assert parse_kind(" lstm ") == "lstm"
    assert parse_kind("direction") == "xgb_direction" and parse_kind("lstm-return") == "lstm_return"
    with pytest.raises(ConfigError, match="xgboost"):
        parse_kind("random-forest")
    assert parse_kinds("xgb, LSTM,xgb") == ("xgboost", "lstm")
    assert parse_kinds("all") == DEFAULT_KINDS and parse_kinds("seed") == SEED_KINDS
    assert parse_kinds(["XGBoost"]) == ("xgboost",)
    with pytest.raises(ConfigError, match="at least one"):
        parse_kinds("")
    assert set(DEFAULT_KINDS) <= set(kinds())
    assert config_class("xgb") is XGBConfig and config_class("lstm") is LSTMConfig
    with pytest.raises(ConfigError, match="LSTMConfig"):
        create_model("lstm", XGBConfig())


def _xgb_data(btc_candles):
    model = create_model("xgboost", TINY_XGB)
    ds = model.make_dataset(btc_candles.iloc[:3000], target=TargetConfig())
    return model, ds


def test_xgboost_fit_predict_save_load_round_trip(btc_candles, tmp_path):
    model, ds = _xgb_data(btc_candles)
    assert ds.X.shape == (len(ds), 59) and set(np.unique(ds.y)) == {0, 1}
    assert not np.isnan(ds.X).any() and ds.position[0] >= 199  # SMA(200) warm-up dropped
    fitted = model.fit(ds.X[:2000], ds.y[:2000], validation=(ds.X[2100:2400], ds.y[2100:2400]))
    assert fitted is model
    booster = model.estimator_
    assert booster.best_iteration_ < TINY_XGB.n_estimators
    assert booster.booster_.num_boosted_rounds() == booster.best_iteration_ + 1  # later dropped
    p = model.predict_output(ds.X[2400:])
    assert ((p > 0) & (p < 1)).all()
    assert np.allclose(model.predict_proba(ds.X[2400:]).sum(axis=1), 1)
    importance = model.estimator_.feature_importance()
    assert sum(importance.values()) == pytest.approx(1) and set(importance) == set(ds.features)

    files = model.save(tmp_path)
    assert sorted(files) == ["model.json", "model.ubj"]
    info = json.loads((tmp_path / "model.json").read_text())
    assert info["features"] == ds.features and info["config"]["max_depth"] == 3
    loaded = load_model("xgboost", tmp_path)
    np.testing.assert_allclose(loaded.predict_output(ds.X[2400:]), p, rtol=1e-6)
    candles = btc_candles.iloc[:3000]
    assert loaded.predict_latest(candles) == pytest.approx(model.predict_latest(candles))
    # the latest prediction at the last sample's candle is that sample's prediction
    cut = candles.iloc[: ds.position[-1] + 1]
    assert loaded.predict_latest(cut) == pytest.approx(p[-1], rel=1e-6)


def test_xgboost_refit_forgets_the_first_fit(btc_candles):
    model, ds = _xgb_data(btc_candles)
    model.fit(ds.X[:1500], ds.y[:1500])
    first = model.predict_output(ds.X[-100:])
    model.fit(ds.X[1000:2500], ds.y[1000:2500])
    assert model.train_rows_ == 1500
    fresh = create_model("xgboost", TINY_XGB).fit(ds.X[1000:2500], ds.y[1000:2500])
    np.testing.assert_allclose(model.predict_output(ds.X[-100:]), fresh.predict_output(ds.X[-100:]))
    assert not np.allclose(first, fresh.predict_output(ds.X[-100:]))


def test_xgboost_refuses_one_class_labels_and_short_history(btc_candles):
    model, ds = _xgb_data(btc_candles)
    with pytest.raises(InsufficientDataError, match="threshold"):
        model.fit(ds.X[:100], np.zeros(100))
    model.fit(ds.X[:500], ds.y[:500])
    with pytest.raises(InsufficientDataError, match="at least 200"):
        model.predict_latest(btc_candles.iloc[:150])


@pytest.fixture(scope="module")
def lstm_fit():
    """A tiny LSTM trained once on a random walk: (model, dataset, steps reported)."""
    candles = random_walk_candles(700, seed=3)
    model = create_model("lstm", TINY_LSTM)
    ds = model.make_dataset(candles, target=TargetConfig())
    steps = []
    model.fit(
        ds.X[:450], ds.y[:450], validation=(ds.X[460:560], ds.y[460:560]), on_step=steps.append
    )
    return model, ds, candles, steps


def test_lstm_dataset_windows_end_at_their_candle(lstm_fit):
    model, ds, candles, _ = lstm_fit
    assert ds.X.shape == (len(candles) - 8 - 1, 9, 4)  # last candle has no next close
    assert ds.position[0] == 8
    assert ds.X[0, -1, 0] == candles["close"].iloc[8] == ds.close[0]
    assert ds.y[0] == candles["close"].iloc[9]  # the next close


def test_lstm_numpy_forward_equals_keras_predict(lstm_fit):
    model, ds, _, _ = lstm_fit
    net = model.estimator_
    inputs = net.scale(transform(ds.X[560:])).astype("float32")
    keras_out = net.keras_model_.predict(inputs, verbose=0)[:, 0]
    np.testing.assert_allclose(net.forward(inputs), keras_out, atol=1e-5, rtol=1e-5)


def test_lstm_scaler_is_fit_on_training_rows_only(lstm_fit):
    model, ds, _, _ = lstm_fit
    model = model.estimator_
    own = transform(ds.X[:450])[:, -1, :]  # the inputs at the training candles themselves
    np.testing.assert_allclose(model.x_mean_, own.mean(axis=0))
    np.testing.assert_allclose(model.x_scale_, own.std(axis=0))
    returns = np.log(ds.y[:450] / ds.X[:450, -1, 0])
    assert model.y_mean_ == pytest.approx(returns.mean())
    assert model.y_scale_ == pytest.approx(returns.std())
    everything = transform(ds.X)[:, -1, :]
    assert not np.allclose(model.x_mean_, everything.mean(axis=0))


def test_lstm_reports_every_epoch_and_restores_the_best_weights(lstm_fit):
    model, ds, _, steps = lstm_fit
    model = model.estimator_
    assert [s.step for s in steps] == list(range(1, model.epochs_run_ + 1))
    assert all(s.total == 3 and {"loss", "val_loss"} <= set(s.metrics) for s in steps)
    assert steps[-1].seconds_left == 0 and steps[0].seconds_left > 0
    val_loss = model.history_["val_loss"]
    assert len(val_loss) == model.epochs_run_ == len(model.history_["loss"])
    assert model.best_epoch_ == int(np.argmin(val_loss)) + 1
    val_inputs = model.scale(transform(ds.X[460:560])).astype("float32")
    val_target = (np.log(ds.y[460:560] / ds.X[460:560, -1, 0]) - model.y_mean_) / model.y_scale_
    restored = np.mean((model.forward(val_inputs) - val_target) ** 2)
    assert restored == pytest.approx(min(val_loss), rel=1e-3)


def test_lstm_save_load_predicts_the_same_without_tensorflow(lstm_fit, tmp_path):
    model, ds, candles, _ = lstm_fit
    files = model.save(tmp_path)
    assert sorted(files) == ["model.json", "model.keras", "weights.npz"]
    forecasts = model.predict_output(ds.X[560:])
    assert np.all(forecasts > 0)
    candles.to_parquet(tmp_path / "candles.parquet")
    code = (
        "import sys, pandas as pd\n"
        "from core.models import load_model\n"
        f"m = load_model('lstm', {str(tmp_path)!r})\n"
        f"c = pd.read_parquet({str(tmp_path / 'candles.parquet')!r})\n"
        "print(repr(m.predict_latest(c)), 'tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    value, tf_loaded, keras_loaded = _run(code).split()
    assert (tf_loaded, keras_loaded) == ("False", "False")
    assert float(value) == pytest.approx(model.predict_latest(candles), rel=1e-12)
    loaded = load_model("lstm", tmp_path)
    np.testing.assert_allclose(loaded.predict_output(ds.X[560:]), forecasts, rtol=1e-12)
    again = tmp_path / "again"
    again.mkdir()
    loaded.save(again)  # a loaded model can be saved again (its .keras file travels along)
    assert (again / "model.keras").read_bytes() == (tmp_path / "model.keras").read_bytes()


def test_lstm_same_seed_same_model():
    candles = random_walk_candles(300, seed=5)
    cfg = LSTMConfig(window=6, units=3, dense_units=2, epochs=2, batch_size=32, patience=0)
    a, b = (create_model("lstm", cfg) for _ in range(2))
    ds = a.make_dataset(candles)
    for m in (a, b):
        m.fit(ds.X[:200], ds.y[:200])
    for wa, wb in zip(a.estimator_.weights_, b.estimator_.weights_, strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_lstm_needs_a_full_window_for_the_latest_forecast(lstm_fit):
    model, _, candles, _ = lstm_fit
    with pytest.raises(InsufficientDataError, match="last 9 candles"):
        model.predict_latest(candles.iloc[:5])
