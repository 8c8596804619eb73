"""A kind became a recipe plus an estimator with the same numbers: BTC retrained from the bundled
sample with fixed seeds gets the metrics recorded before the refactor (commit 10ba903), and model
folders written by that version still load and predict the same."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import TargetConfig
from core.data.store import normalize_candles
from core.models import load_model
from core.models.settings import DirectionConfig, LSTMConfig, LSTMReturnConfig, XGBConfig
from core.training.train import train_coin
from tests.conftest import SAMPLE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RECORDED = json.loads((FIXTURES / "btc_sample_metrics_10ba903.json").read_text())
SETTINGS = {
    "xgboost": XGBConfig(n_estimators=40, max_depth=4),
    "xgb_direction": DirectionConfig(n_estimators=60, max_depth=3),
    "lstm": LSTMConfig(window=24, units=8, dense_units=4, epochs=2, batch_size=512),
    "lstm_return": LSTMReturnConfig(
        window=24, units=8, layers=1, dense_units=4, epochs=2, batch_size=512, patience=1
    ),
}
#: Boosting is exact; the LSTM goes through TensorFlow's float32 kernels.
TOLERANCE = {"xgboost": 1e-9, "xgb_direction": 1e-9, "lstm": 1e-5, "lstm_return": 1e-5}


def _floats(metrics: dict) -> dict[str, float]:
    return {k: v for k, v in metrics.items() if isinstance(v, float)}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(SETTINGS))
def test_btc_sample_metrics_equal_the_recorded_ones(kind, home_with_sample, monkeypatch):
    monkeypatch.setenv("CRYPTOVOLT_THREADS", "1")  # as recorded
    (result,) = train_coin("BTC", models=[kind], settings={kind: SETTINGS[kind]})
    got, want, tol = result.metadata.metrics, RECORDED[kind], TOLERANCE[kind]
    assert _floats(got.test) == pytest.approx(want["test"], rel=tol, abs=tol)
    assert got.skill == pytest.approx(want["skill"], rel=tol, abs=tol)
    assert len(got.walk_forward) == len(want["walk_forward"])
    for fold, recorded in zip(got.walk_forward, want["walk_forward"], strict=True):
        assert _floats(fold.metrics) == pytest.approx(recorded, rel=tol, abs=tol)


@pytest.mark.parametrize("kind", ["xgboost", "xgb_direction", "lstm", "lstm_return"])
def test_model_folders_saved_before_the_refactor_still_load(kind, tmp_path):
    expected = json.loads((FIXTURES / "models_10ba903" / "expected.json").read_text())[kind]
    folder = shutil.copytree(FIXTURES / "models_10ba903" / kind, tmp_path / kind)
    btc = normalize_candles(pd.read_parquet(SAMPLE / "BTCUSDT-1h.parquet")).iloc[:1500]
    eth = normalize_candles(pd.read_parquet(SAMPLE / "ETHUSDT-1h.parquet")).iloc[:1500]
    context = {"ETHUSDT": eth.reset_index(drop=True)}
    btc = btc.reset_index(drop=True)
    model = load_model(kind, folder)
    ds = model.make_dataset(btc, target=TargetConfig(), context=context)
    np.testing.assert_allclose(model.predict_output(ds.X[-5:]), expected["last_rows"], rtol=1e-6)
    assert model.predict_latest(btc, context=context) == pytest.approx(expected["latest"], rel=1e-6)
    again = tmp_path / "again"
    again.mkdir()
    model.save(again)  # and saves again in today's layout, which loads the same
    reloaded = load_model(kind, again)
    np.testing.assert_allclose(reloaded.predict_output(ds.X[-5:]), expected["last_rows"], rtol=1e-6)
