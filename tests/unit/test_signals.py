"""The ensemble rule and its calibrated confidence, on hand-made out-of-sample prediction frames."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.config import SignalConfig
from core.errors import ConfigError
from core.signals.ensemble import SignalKind, build_calibration, combine_votes, merge_predictions
from core.signals.live import CoinModels, signal_from_models

START = pd.Timestamp("2025-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)


def path_from_steps(steps: list[float], start: float = 100.0) -> np.ndarray:
    """Closes that move by the given fractional steps, one per candle."""
    return start * np.cumprod([1.0, *(1.0 + np.asarray(steps))])


def lstm_frame(closes: np.ndarray, forecast_returns, split: str = "test") -> pd.DataFrame:
    n = len(closes)
    returns = np.broadcast_to(np.asarray(forecast_returns, dtype=float), (n,))
    return pd.DataFrame(
        {
            "open_time": START + HOUR * np.arange(n),
            "split": split,
            "close": closes,
            "forecast": closes * (1 + returns),
            "actual": np.append(closes[1:], np.nan),
        }
    )


def xgb_frame(closes: np.ndarray, probabilities, split: str = "test") -> pd.DataFrame:
    n = len(closes)
    future = np.append(closes[1:], np.nan)
    return pd.DataFrame(
        {
            "open_time": START + HOUR * np.arange(n),
            "split": split,
            "close": closes,
            "probability": np.broadcast_to(np.asarray(probabilities, dtype=float), (n,)),
            "actual": (future / closes - 1 >= 0.01).astype(float),
        }
    )


def test_a_rule_right_51_percent_of_the_time_says_51_percent():
    # 100 one-candle steps, 51 up and 49 down; the LSTM always forecasts up → 100 BULLISH calls.
    steps = [0.01] * 51 + [-0.01] * 49
    rng = np.random.default_rng(0)
    rng.shuffle(steps)
    closes = path_from_steps(steps)
    config = SignalConfig(strength_buckets=1, min_support=1)
    cal = build_calibration(None, lstm_frame(closes, 0.005), horizon=1, config=config)
    confidence, support, _ = cal.lookup(SignalKind.BULLISH, cal.strength(None, 0.005))
    assert confidence == pytest.approx(0.51)
    assert support == 100  # the last row's outcome is unknown and is not counted
    assert cal.rows == 100


def test_confidence_below_half_is_reported_as_is():
    steps = [0.01] * 30 + [-0.01] * 70
    cal = build_calibration(
        None,
        lstm_frame(path_from_steps(steps), 0.005),
        horizon=1,
        config=SignalConfig(strength_buckets=1, min_support=1),
    )
    confidence, support, _ = cal.lookup(SignalKind.BULLISH, 0.5)
    assert confidence == pytest.approx(0.30)
    assert support == 100


def test_stronger_calls_are_calibrated_on_their_own_bucket():
    # Weak forecasts (+0.2%) are followed by a fall, strong ones (+2%) by a rise.
    n = 120
    returns = np.where(np.arange(n) % 2 == 0, 0.002, 0.02)
    steps = [(-0.01 if r == 0.002 else 0.01) for r in returns[:-1]]
    frame = lstm_frame(path_from_steps(steps), returns)
    cal = build_calibration(
        None, frame, horizon=1, config=SignalConfig(strength_buckets=2, min_support=10)
    )
    weak = cal.lookup(SignalKind.BULLISH, cal.strength(None, 0.002))
    strong = cal.lookup(SignalKind.BULLISH, cal.strength(None, 0.02))
    assert weak[0] == pytest.approx(0.0) and strong[0] == pytest.approx(1.0)
    assert weak[1] == 60 and strong[1] == 59  # support counts per bucket
    assert weak[2] == 1 and strong[2] == 2
    overall = cal.table.query("signal == 'BULLISH' and bucket == 0").iloc[0]
    assert overall["support"] == 119 and overall["hits"] == 59


def test_thin_bucket_falls_back_to_all_calls_of_that_kind():
    n = 120
    returns = np.where(np.arange(n) % 2 == 0, 0.002, 0.02)
    steps = [(-0.01 if r == 0.002 else 0.01) for r in returns[:-1]]
    cal = build_calibration(
        None,
        lstm_frame(path_from_steps(steps), returns),
        horizon=1,
        config=SignalConfig(strength_buckets=2, min_support=100),
    )
    confidence, support, bucket = cal.lookup(SignalKind.BULLISH, cal.strength(None, 0.02))
    assert bucket is None and support == 119
    assert confidence == pytest.approx(59 / 119)


def test_a_kind_never_called_out_of_sample_has_no_confidence():
    cal = build_calibration(
        None, lstm_frame(path_from_steps([0.01] * 50), 0.005), horizon=1, config=SignalConfig()
    )
    assert cal.lookup(SignalKind.BEARISH, 0.9) == (None, 0, None)


def test_outcome_is_judged_horizon_candles_later():
    # Up 1% each candle for three candles, then down 5%: with horizon 3 the call at row 1 sees
    # 1.01 * 0.95 relative change (a loss), with horizon 1 a gain.
    steps = [0.01, 0.01, 0.01, -0.05] * 10
    frame = lstm_frame(path_from_steps(steps), 0.005)
    one = build_calibration(None, frame, horizon=1, config=SignalConfig(strength_buckets=1))
    three = build_calibration(None, frame, horizon=3, config=SignalConfig(strength_buckets=1))
    assert one.lookup(SignalKind.BULLISH, 0.5)[0] == pytest.approx(30 / 40)
    assert three.lookup(SignalKind.BULLISH, 0.5)[1] == 38
    # three candles: from rows 0 mod 4 the path is +1%,+1%,+1% (hit); other rows include -5%.
    assert three.lookup(SignalKind.BULLISH, 0.5)[0] == pytest.approx(10 / 38)


def test_xgboost_votes_against_the_base_rate_not_one_half():
    closes = path_from_steps([0.01, -0.01] * 30)
    probs = np.where(np.arange(61) % 3 == 0, 0.40, np.where(np.arange(61) % 3 == 1, 0.22, 0.05))
    config = SignalConfig(xgb_margin=0.05, strength_buckets=1, min_support=1)
    cal = build_calibration(
        xgb_frame(closes, probs), None, horizon=1, base_rate=0.22, config=config
    )
    counts = cal.table.query("bucket == 0").set_index("signal")["support"]
    # 0.40 is bullish (above 0.22 + 0.05), 0.22 abstains, 0.05 is bearish.
    assert counts["BULLISH"] == 20 and counts["NEUTRAL"] == 20 and counts["BEARISH"] == 20


def test_xgboost_base_rate_defaults_to_the_fold_labels():
    closes = path_from_steps([0.02, -0.01, -0.01] * 20)
    folds = xgb_frame(closes, 0.3, split="fold1")
    cal = build_calibration(folds, None, horizon=1, config=SignalConfig())
    assert cal.base_rate == pytest.approx(folds["actual"].mean())


def test_two_models_merge_on_time_and_contradiction_is_neutral():
    closes = path_from_steps([0.001, -0.001] * 30)
    xgb = xgb_frame(closes, 0.9)  # always up
    lstm = lstm_frame(closes, -0.01)[5:]  # always down, and five rows shorter
    merged = merge_predictions(xgb, lstm)
    assert len(merged) == len(lstm)
    cal = build_calibration(xgb, lstm, horizon=1, base_rate=0.2, config=SignalConfig())
    table = cal.table.query("bucket == 0").set_index("signal")
    assert table.loc["BULLISH", "support"] == 0 and table.loc["BEARISH", "support"] == 0
    # NEUTRAL is a hit when the close moved less than the band (1%): every 0.1% step is.
    assert table.loc["NEUTRAL", "support"] == len(lstm) - 1
    assert table.loc["NEUTRAL", "hit_rate"] == pytest.approx(1.0)


def test_combine_votes_rules():
    x = np.array([1, 1, 0, -1, 0, 1])
    lv = np.array([1, 0, 0, 1, -1, -1])
    assert combine_votes(x, lv).tolist() == [1, 1, 0, 0, -1, 0]
    assert combine_votes(x, lv, require_agreement=True).tolist() == [1, 0, 0, 0, 0, 0]
    assert combine_votes(None, lv).tolist() == lv.tolist()


def test_bad_signal_settings_are_refused():
    with pytest.raises(ConfigError):
        SignalConfig(xgb_margin=0.7)
    with pytest.raises(ConfigError):
        SignalConfig(horizon=0)


class FixedModel:
    """A stand-in model object that always predicts the same value."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict_latest(self, candles: pd.DataFrame) -> float:
        return self.value


def candles_for(closes: np.ndarray) -> pd.DataFrame:
    times = START + HOUR * np.arange(len(closes))
    return pd.DataFrame({"open_time": times, "close": closes})


@pytest.mark.parametrize("kinds", [("xgb",), ("lstm",), ("xgb", "lstm")])
def test_live_signal_carries_its_evidence_for_one_or_two_model_types(kinds):
    closes = path_from_steps([0.02, -0.005] * 40)
    config = SignalConfig(strength_buckets=1, min_support=1)
    xgb = xgb_frame(closes, 0.6) if "xgb" in kinds else None
    lstm = lstm_frame(closes, 0.01) if "lstm" in kinds else None
    cal = build_calibration(xgb, lstm, horizon=1, base_rate=0.3, config=config)
    bundle = CoinModels(
        symbol="BTCUSDT",
        interval="1h",
        xgb=FixedModel(0.6) if xgb is not None else None,
        lstm=FixedModel(closes[-1] * 1.01) if lstm is not None else None,
        models={f"{k}_btcusdt": "v1" for k in kinds},
        base_rate=0.3,
        calibration=cal,
        config=config,
    )
    signal = signal_from_models(bundle, candles_for(closes))
    assert signal.signal is SignalKind.BULLISH
    assert signal.confidence == pytest.approx(0.5)  # 40 up steps, 40 down steps, all BULLISH
    assert signal.support == 80
    assert signal.price == pytest.approx(closes[-1])
    assert signal.candle_time == START + HOUR * (len(closes) - 1)
    assert (signal.xgb_probability is None) == ("xgb" not in kinds)
    assert (signal.lstm_change is None) == ("lstm" not in kinds)
    assert signal.agree == (True if len(kinds) == 2 else None)
    payload = json.loads(json.dumps(signal.to_dict()))
    for key in ("symbol", "signal", "confidence", "support", "price", "candle_time", "models"):
        assert key in payload
    assert payload["signal"] == "BULLISH"
