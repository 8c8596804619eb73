"""The directional kinds: ``xgb_direction`` (calibrated P(the close h candles ahead is higher)) and
``lstm_return`` (next-candle log return): samples, fit / predict, calibration on the validation
slice only, save / load, a planted signal found, and how each votes."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.config import SignalConfig, TargetConfig
from core.errors import InsufficientDataError, ModelError
from core.features.causal import FEATURES, direction_labels
from core.models import create_model, load_model
from core.models.base import Output, Task, VoteRule
from core.models.sequence import RETURN_INPUTS as INPUTS
from core.models.sequence import VOLATILITY_WINDOW
from core.models.settings import DirectionConfig, LSTMReturnConfig
from core.models.tabular import feature_layout
from tests.random_walk import random_walk_candles

ROOT = Path(__file__).resolve().parents[2]
TINY_DIR = DirectionConfig(
    calibration="isotonic",  # the isotonic path; Platt (the default) is tested below
    n_estimators=80,
    max_depth=2,
    learning_rate=0.1,
    min_child_weight=5,
    early_stopping_rounds=10,
    use_context=False,
)
TINY_RET = LSTMReturnConfig(
    window=6, units=4, layers=1, dense_units=3, epochs=2, batch_size=128, patience=1
)
H = 6


def _drop(candles: pd.DataFrame, rows: list[int]) -> pd.DataFrame:
    """The candles with ``rows`` removed: a gap (the store never fills one)."""
    return candles.drop(index=candles.index[rows]).reset_index(drop=True)


def _from_returns(r: np.ndarray, seed: int) -> pd.DataFrame:
    """Candles in the store schema whose closes follow the log returns ``r``."""
    frame = random_walk_candles(len(r), seed=seed)
    close = 100.0 * np.exp(np.cumsum(r))
    open_ = np.concatenate([[100.0], close[:-1]])
    frame["open"], frame["close"] = open_, close
    frame["high"] = np.maximum(open_, close) * 1.001
    frame["low"] = np.minimum(open_, close) * 0.999
    return frame


def _trend_candles(n: int, seed: int = 3) -> pd.DataFrame:
    """Each hour drifts with the sign of the last 6 hours' move: the next 6 h move has the sign
    of the previous 6 h move about 65% of the time (measured: 0.649 on 20,000 hours)."""
    rng = np.random.default_rng(seed)
    sigma, r = 0.006, np.zeros(n)
    for t in range(n):
        r[t] = 0.25 * sigma * np.sign(r[max(0, t - 6) : t].sum()) + rng.normal(0.0, sigma)
    return _from_returns(r, seed)


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    """Mann-Whitney AUC (ties count a half)."""
    ranks = pd.Series(p).rank().to_numpy()
    pos = y == 1
    return float((ranks[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * (~pos).sum()))


@pytest.fixture(scope="module")
def trend() -> pd.DataFrame:
    return _trend_candles(3000)


@pytest.fixture(scope="module")
def direction(trend):
    """A tiny direction model fit on the first 60% of the trend rows, validated on the next 15%."""
    model = create_model("xgb_direction", TINY_DIR)
    ds = model.make_dataset(trend, target=TargetConfig(horizon=H))
    a, b = int(len(ds) * 0.6), int(len(ds) * 0.75)
    model.fit(ds.X[:a], ds.y[:a], validation=(ds.X[a + H : b], ds.y[a + H : b]))
    return model, ds, a, b


@pytest.fixture(scope="module")
def lstm_return():
    """The one tiny Keras fit of this file."""
    candles = random_walk_candles(700, seed=11)
    model = create_model("lstm_return", TINY_RET)
    ds = model.make_dataset(candles, target=TargetConfig())
    model.fit(ds.X[:450], ds.y[:450], validation=(ds.X[451:550], ds.y[451:550]))
    return model, ds, candles


# ---- xgb_direction ----------------------------------------------------------------------------


def test_kinds_declare_what_they_predict():
    d, r = create_model("direction", TINY_DIR), create_model("lstm_return", TINY_RET)
    assert (d.kind, d.output, d.output_name, d.task) == (
        "xgb_direction",
        Output.PROBABILITY,
        "probability",
        Task.CLASSIFICATION,
    )
    assert (r.kind, r.output, r.output_name, r.task) == (
        "lstm_return",
        Output.RETURN,
        "forecast_return",
        Task.REGRESSION,
    )


def test_direction_label_is_the_sign_of_the_move_with_no_row_for_flat_unknown_or_gap():
    candles = random_walk_candles(12, seed=1)
    candles["close"] = [100.0, 101, 100, 100, 99, 100, 102, 102, 103, 101, 101, 104]
    y = direction_labels(candles, 2)
    nan = np.nan
    expected = [nan, 0, 0, nan, 1, 1, 1, 0, 0, 1, nan, nan]  # c[t+2] vs c[t]; 100 -> 100: flat
    np.testing.assert_array_equal(y, expected)
    gapped = _drop(candles, [5])  # candles 0-4, then a missing hour, then 102, 102, 103, ...
    y = direction_labels(gapped, 2)
    assert np.isnan(y[3]) and np.isnan(y[4])  # 100 -> 102 and 99 -> 102, but across the gap
    assert y[2] == 0 and y[5] == 1  # 100 -> 99 before the gap, 102 -> 103 after it


def test_direction_dataset_rows_match_the_labels_and_skip_gaps():
    candles = random_walk_candles(400, seed=2)
    candles.loc[300 + H, "close"] = candles.loc[300, "close"]  # a flat move: no label
    candles = _drop(candles, [350])
    model = create_model("xgb_direction", TINY_DIR)
    ds = model.make_dataset(candles, target=TargetConfig(horizon=H))
    c = candles["close"].to_numpy()
    assert ds.features == list(FEATURES) and ds.X.shape == (len(ds), len(FEATURES))
    assert ds.target == "target_direction_6h" and ds.horizon == H
    assert ds.position[0] == 199  # the longest causal look-back (SMA 200)
    np.testing.assert_array_equal(ds.y, (c[ds.position + H] > c[ds.position]).astype(int))
    np.testing.assert_array_equal(ds.close, c[ds.position])
    assert 300 not in ds.position
    # the missing candle sits between rows 349 and 350 of the gapped frame
    assert not set(range(350 - H, 350)) & set(ds.position)
    assert ds.position[-1] == len(candles) - 1 - H
    assert set(np.unique(ds.y)) == {0, 1} and not np.isnan(ds.X).any()


def test_direction_fit_predicts_calibrated_probabilities(direction):
    model, ds, a, b = direction
    p = model.predict_output(ds.X[b:])
    assert p.shape == (len(ds) - b,) and ((p > 0) & (p < 1)).all()
    assert (
        model.estimator_.inner.booster_.num_boosted_rounds()
        == model.estimator_.inner.best_iteration_ + 1
    )
    assert model.train_rows_ == a and model.train_base_rate_ == pytest.approx(ds.y[:a].mean())
    assert model.context_symbols_ == ()
    summary = model.summary()
    assert summary["calibration"]["kind"] == "isotonic"
    assert summary["calibration"]["validation_rows"] == b - a - H
    assert sum(summary["feature_importance"].values()) == pytest.approx(1)
    assert set(summary["feature_importance"]) == set(ds.features)


def test_calibrator_is_fit_on_the_validation_slice_only(direction):
    from sklearn.isotonic import IsotonicRegression

    model, ds, a, b = direction
    val_X, val_y = ds.X[a + H : b], ds.y[a + H : b]
    planted = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
    planted.fit(model.predict_raw(val_X), val_y)
    np.testing.assert_allclose(model.calibrator_["x"], planted.X_thresholds_)
    np.testing.assert_allclose(model.calibrator_["y"], planted.y_thresholds_)
    test_raw = model.predict_raw(ds.X[b:])
    np.testing.assert_allclose(
        model.predict_output(ds.X[b:]), np.clip(planted.predict(test_raw), 0.001, 0.999)
    )
    on_train = IsotonicRegression(out_of_bounds="clip").fit(model.predict_raw(ds.X[:a]), ds.y[:a])
    assert not np.array_equal(on_train.X_thresholds_, planted.X_thresholds_)

    bare = create_model("xgb_direction", TINY_DIR).fit(ds.X[:a], ds.y[:a])
    assert bare.calibrator_ is None and bare.summary()["calibration"]["kind"] == "none"
    assert "no validation" in bare.summary()["calibration"]["note"]
    np.testing.assert_array_equal(bare.predict_output(ds.X[b:]), bare.predict_raw(ds.X[b:]))
    assert (
        bare.estimator_.inner.best_iteration_ == TINY_DIR.n_estimators - 1
    )  # no early stopping either


@pytest.mark.parametrize("kind", ["sigmoid", "none"])
def test_platt_and_no_calibration(direction, kind):
    _, ds, a, b = direction
    cfg = replace(TINY_DIR, calibration=kind)
    model = create_model("xgb_direction", cfg)
    model.fit(ds.X[:a], ds.y[:a], validation=(ds.X[a + H : b], ds.y[a + H : b]))
    raw, p = model.predict_raw(ds.X[b:]), model.predict_output(ds.X[b:])
    if kind == "none":
        assert model.calibrator_ is None
        np.testing.assert_array_equal(p, raw)
    else:
        assert set(model.calibrator_) == {"kind", "coef", "intercept"}
        assert model.calibrator_["coef"] > 0  # monotone: the ranking is kept
        assert _auc(ds.y[b:], p) == pytest.approx(_auc(ds.y[b:], raw))


def test_direction_finds_a_planted_direction_signal(direction):
    model, ds, _, b = direction
    auc = _auc(ds.y[b:], model.predict_output(ds.X[b:]))
    assert auc > 0.58, f"test AUC {auc:.3f} on a 65% planted direction signal"


def test_direction_save_load_round_trip(direction, trend, tmp_path):
    model, ds, _, b = direction
    tmp_path = tmp_path / "model"
    tmp_path.mkdir()
    files = model.save(tmp_path)
    assert sorted(files) == ["model.json", "model.ubj"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.ubj"]
    info = json.loads((tmp_path / "model.json").read_text())
    assert info["calibrator"]["kind"] == "isotonic" and len(info["calibrator"]["x"]) > 1
    assert info["features"] == ds.features and info["context_symbols"] == []
    loaded = load_model("xgb_direction", tmp_path)
    np.testing.assert_array_equal(loaded.predict_output(ds.X[b:]), model.predict_output(ds.X[b:]))
    assert loaded.summary() == model.summary()
    cut = trend.iloc[: ds.position[-1] + 1]
    assert loaded.predict_latest(cut) == pytest.approx(model.predict_output(ds.X[-1:])[0])
    (tmp_path / "model.ubj").write_bytes(b"not a booster")
    with pytest.raises(ModelError, match="direction model"):
        load_model("xgb_direction", tmp_path)
    with pytest.raises(ModelError):
        load_model("xgb_direction", tmp_path / "missing")


def test_direction_with_context_uses_the_references_given(tmp_path):
    candles = random_walk_candles(1300, seed=8)
    btc = random_walk_candles(1300, seed=9)
    cfg = replace(TINY_DIR, use_context=True, n_estimators=20)
    model = create_model("xgb_direction", cfg)
    ds = model.make_dataset(candles, target=TargetConfig(horizon=H), context={"BTCUSDT": btc})
    assert ds.features == feature_layout(True)
    btc_cols = [i for i, n in enumerate(ds.features) if n.startswith("feat_btc_")]
    eth_cols = [i for i, n in enumerate(ds.features) if n.startswith("feat_eth_")]
    assert len(btc_cols) == 5 and len(eth_cols) == 5
    assert not np.isnan(ds.X[:, btc_cols]).any() and np.isnan(ds.X[:, eth_cols]).all()
    tf = [i for i, n in enumerate(ds.features) if n.startswith(("feat_tf4h_", "feat_tf1d_"))]
    assert tf and not np.isnan(ds.X[:, tf]).any()
    a = int(len(ds) * 0.7)
    model.fit(ds.X[:a], ds.y[:a], validation=(ds.X[a + H :], ds.y[a + H :]))
    assert model.context_symbols_ == ("BTCUSDT",)
    assert model.summary()["context_symbols"] == ["BTCUSDT"]

    cut = ds.position[-1] + 1
    expected = model.predict_output(ds.X[-1:])[0]
    latest = model.predict_latest(candles.iloc[:cut], context={"BTCUSDT": btc.iloc[:cut]})
    assert latest == pytest.approx(expected)
    with pytest.raises(InsufficientDataError, match="BTCUSDT"):
        model.predict_latest(candles.iloc[:cut])
    with pytest.raises(InsufficientDataError, match="top up BTCUSDT"):
        model.predict_latest(candles.iloc[:cut], context={"BTCUSDT": btc.iloc[: cut - 3]})
    with pytest.raises(InsufficientDataError, match="undefined"):
        model.predict_latest(candles.iloc[:cut], context={"BTCUSDT": _drop(btc, [cut - 2])})
    model.save(tmp_path)
    assert load_model("xgb_direction", tmp_path).context_symbols_ == ("BTCUSDT",)

    alone = create_model("xgb_direction", cfg)
    ds_alone = alone.make_dataset(candles, target=TargetConfig(horizon=H))
    assert ds_alone.features == ds.features  # same layout: a fresh model fits either
    alone.fit(ds_alone.X, ds_alone.y)
    assert alone.context_symbols_ == ()
    assert 0 < alone.predict_latest(candles) < 1  # needs no context


def test_direction_predict_latest_refuses_too_little_history(direction, trend):
    model = direction[0]
    with pytest.raises(InsufficientDataError, match="consecutive candles"):
        model.predict_latest(trend.iloc[:100])


def test_vote_rules(direction):
    signal = SignalConfig(direction_margin=0.03, min_return=0.002)
    with pytest.raises(ModelError, match="not trained"):
        create_model("xgb_direction", TINY_DIR).vote_rule(signal)
    model = direction[0]
    base = model.train_base_rate_
    rule = model.vote_rule(signal)
    assert rule == VoteRule(Output.PROBABILITY, 0.03, reference=base) and not rule.up_only
    edge = rule.edge(np.array([base + 0.04, base + 0.01, base - 0.04, base]), np.ones(4))
    assert list(rule.votes(edge)) == [1, 0, -1, 0]  # both directions
    ret = create_model("lstm_return", TINY_RET).vote_rule(signal)
    assert ret == VoteRule(Output.RETURN, 0.002)
    assert list(ret.votes(ret.edge(np.array([0.003, 0.001, -0.0025]), np.ones(3)))) == [1, 0, -1]


# ---- lstm_return ------------------------------------------------------------------------------


def test_lstm_return_dataset_windows_and_targets():
    candles = random_walk_candles(200, seed=4)
    candles.loc[40, "volume"] = 0.0  # a zero-volume candle: taker share counts as even
    model = create_model("lstm_return", TINY_RET)
    look = TINY_RET.window + VOLATILITY_WINDOW - 1
    ds = model.make_dataset(candles)
    c = candles["close"].to_numpy()
    assert ds.X.shape == (len(ds), TINY_RET.window, len(INPUTS)) and ds.features == list(INPUTS)
    assert ds.horizon == 1 and ds.target == "target_next_log_return"
    assert ds.position[0] == look and ds.position[-1] == len(candles) - 2
    np.testing.assert_allclose(ds.y, np.log(c[ds.position + 1] / c[ds.position]))
    i = 50 - look  # the sample of candle 50: window rows 45..50
    t, rows = ds.position[i], np.arange(50 - TINY_RET.window + 1, 51)
    assert t == 50
    x = ds.X[i]
    np.testing.assert_allclose(x[:, 0], np.log(c[rows] / c[rows - 1]), rtol=1e-5)
    h, lo = candles["high"].to_numpy(), candles["low"].to_numpy()
    np.testing.assert_allclose(x[:, 1], np.log(h[rows] / lo[rows]), rtol=1e-5)
    v, taker = candles["volume"].to_numpy(), candles["taker_buy_base_volume"].to_numpy()
    np.testing.assert_allclose(x[:, 2], np.log1p(v[rows]) - np.log1p(v[rows - 1]), rtol=1e-5)
    np.testing.assert_allclose(x[-1, 3], taker[50] / v[50] - 0.5, rtol=1e-5)
    assert ds.X[40 - look][-1, 3] == 0.0 and ds.position[40 - look] == 40
    returns = np.log(c[1:] / c[:-1])
    np.testing.assert_allclose(x[-1, 4], returns[50 - 24 : 50].std(ddof=1), rtol=1e-5)
    hour = candles["open_time"].iloc[50].hour
    np.testing.assert_allclose(x[-1, 5:], [np.sin(np.pi * hour / 12), np.cos(np.pi * hour / 12)])


def test_lstm_return_windows_never_span_a_gap():
    candles = _drop(random_walk_candles(200, seed=4), [120])  # missing between rows 119 and 120
    model = create_model("lstm_return", TINY_RET)
    look = TINY_RET.window + VOLATILITY_WINDOW - 1
    ds = model.make_dataset(candles)
    pos = set(ds.position.tolist())
    # the sample at t needs rows t - look .. t + 1 consecutive
    assert not pos & set(range(119, 120 + look))
    assert {118, 120 + look} <= pos


def test_lstm_return_fit_predict_and_latest(lstm_return):
    model, ds, candles = lstm_return
    out = model.predict_output(ds.X[550:])
    assert out.shape == (len(ds) - 550,) and np.isfinite(out).all()
    assert np.abs(out).max() < 0.05  # log returns of a 0.6%-per-hour walk, not prices
    net = model.estimator_
    assert model.train_rows_ == 450 and net.x_mean_.shape == (len(INPUTS),)
    np.testing.assert_allclose(net.x_mean_, ds.X[:450, -1, :].astype(float).mean(axis=0))
    assert net.y_mean_ == pytest.approx(ds.y[:450].mean())  # scalers: training rows only
    keras = net.keras_model_.predict(net.scale(ds.X[550:]).astype("float32"), verbose=0)
    np.testing.assert_allclose(out, keras[:, 0] * net.y_scale_ + net.y_mean_, atol=1e-6)
    cut = candles.iloc[: ds.position[-1] + 1]
    assert model.predict_latest(cut) == pytest.approx(out[-1], rel=1e-6, abs=1e-9)
    need = TINY_RET.window + VOLATILITY_WINDOW
    assert model.predict_latest(cut.iloc[-need:]) == pytest.approx(out[-1], rel=1e-6, abs=1e-9)
    with pytest.raises(InsufficientDataError, match=f"last {need} candles"):
        model.predict_latest(cut.iloc[-need + 1 :])
    summary = model.summary()
    assert summary["inputs"] == list(INPUTS) and summary["train_rows"] == 450


def test_lstm_return_save_load_without_tensorflow(lstm_return, tmp_path):
    model, ds, _ = lstm_return
    files = model.save(tmp_path)
    assert sorted(files) == ["model.json", "model.keras", "weights.npz"]
    expected = model.predict_output(ds.X[550:])
    np.save(tmp_path / "X.npy", ds.X[550:])
    code = (
        "import sys, json, numpy as np\n"
        "from pathlib import Path\n"
        "from core.models import load_model\n"
        f"d = Path({str(tmp_path)!r})\n"
        "m = load_model('lstm_return', d)\n"
        "out = m.predict_output(np.load(d / 'X.npy'))\n"
        "print(json.dumps({'tf': 'tensorflow' in sys.modules, 'keras': 'keras' in sys.modules,"
        " 'out': out.tolist()}))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert not result["tf"] and not result["keras"]
    np.testing.assert_array_equal(result["out"], expected)
    loaded = load_model("lstm_return", tmp_path)
    assert loaded.summary() == json.loads(json.dumps(model.summary()))
    (tmp_path / "weights.npz").write_bytes(b"junk")
    with pytest.raises(ModelError, match="LSTM return model"):
        load_model("lstm_return", tmp_path)


def test_a_reference_that_does_not_overlap_the_coin_is_refused_in_words():
    coin = random_walk_candles(600, seed=1, start="2023-01-01")
    btc = random_walk_candles(600, seed=2, start="2025-01-01")
    model = create_model("xgb_direction", DirectionConfig(use_context=True))
    with pytest.raises(InsufficientDataError, match="do not overlap") as err:
        model.make_dataset(coin, target=TargetConfig(), context={"BTCUSDT": btc})
    assert "2025-01-01" in str(err.value) and "2023-01-01" in str(err.value)
    overlapping = random_walk_candles(600, seed=2, start="2023-01-01")
    data = model.make_dataset(coin, target=TargetConfig(), context={"BTCUSDT": overlapping})
    assert len(data.y) > 0
