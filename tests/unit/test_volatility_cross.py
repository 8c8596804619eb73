"""Cross-asset inputs of the boosted volatility model: the reference coin's HAR lags and returns,
past rows only, and a reference that ends early is left out in words, never a broken training."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data.store import save_candles
from core.models.volatility import VolGBMConfig
from core.registry.model_registry import ModelRegistry
from core.volatility.features import (
    REFERENCE_FEATURES,
    attach_reference,
    build_frame,
    reference_symbol,
)
from core.volatility.train import load_volatility_model, train_volatility
from tests.vol_sim import garch_candles

#: Small enough for seconds per fit; cross-asset inputs asked for (they are off by default).
CROSS = VolGBMConfig(n_estimators=40, max_depth=2, cross_asset=True)


def _pair(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    return garch_candles(n, seed=seed), garch_candles(n, seed=seed + 100)


def test_reference_symbol_is_btc_and_eth_for_btc() -> None:
    assert reference_symbol("SOLUSDT") == "BTCUSDT"
    assert reference_symbol("BTCUSDT") == "ETHUSDT"


def test_cross_asset_inputs_use_only_reference_rows_up_to_t() -> None:
    coin, ref = _pair(600, seed=3)
    t = 400
    full = build_frame(attach_reference(coin, "BTCUSDT", ref)).frame[REFERENCE_FEATURES]
    # The reference's later candles changed wildly: nothing up to t may move.
    later = ref.copy()
    for col in ("open", "high", "low", "close"):
        later.loc[t + 1 :, col] = later.loc[t + 1 :, col] * 3.0
    changed = build_frame(attach_reference(coin, "BTCUSDT", later)).frame[REFERENCE_FEATURES]
    assert full.iloc[168 : t + 1].notna().all(axis=None)
    pd.testing.assert_frame_equal(full.iloc[: t + 1], changed.iloc[: t + 1])
    assert not np.allclose(
        full["feat_ref_ret_1h"].iloc[t + 1], changed["feat_ref_ret_1h"].iloc[t + 1]
    )
    # Cut both coins at t: the same values as computed on all the data.
    cut = build_frame(attach_reference(coin.iloc[: t + 1], "BTCUSDT", ref.iloc[: t + 1])).frame[
        REFERENCE_FEATURES
    ]
    pd.testing.assert_frame_equal(full.iloc[: t + 1], cut)


def test_a_missing_reference_hour_is_nan_not_a_neighbour() -> None:
    coin, ref = _pair(400, seed=5)
    holed = ref.drop(index=300).reset_index(drop=True)
    frame = build_frame(attach_reference(coin, "BTCUSDT", holed)).frame
    assert np.isnan(frame["feat_ref_ret_1h"].iloc[300])
    assert np.isnan(frame["feat_ref_lrv_1h"].iloc[300])
    assert np.isfinite(frame["feat_ref_lrv_1h"].iloc[299])
    # without a reference the inputs are unknown, never made up
    assert build_frame(coin).frame[REFERENCE_FEATURES].isna().all(axis=None)


def test_gbm_reads_the_stored_reference_and_forecasts_with_it(home) -> None:
    coin, ref = _pair(3000, seed=7)
    save_candles(ref, "BTCUSDT", "1h")
    registry = ModelRegistry()
    result = train_volatility("ETH", estimator="gbm", registry=registry, candles=coin, config=CROSS)
    record = result.record
    assert set(REFERENCE_FEATURES) <= set(record.features)
    assert record.data["context"] == ["BTCUSDT"] and "context_left_out" not in record.data
    model, _ = load_volatility_model(registry, "ETH", "gbm")
    assert model.reference == "BTCUSDT"
    # live: the stored reference is attached by the model itself
    assert np.isfinite(model.log_variance(coin)["6h"][-1])


def test_a_reference_that_ends_early_is_left_out_and_said(home) -> None:
    coin, ref = _pair(3000, seed=9)
    save_candles(ref.iloc[:2500], "BTCUSDT", "1h")  # BTC ends 500 hours before ETH
    result = train_volatility(
        "ETH", estimator="gbm", registry=ModelRegistry(), candles=coin, config=CROSS
    )
    record = result.record
    assert not set(REFERENCE_FEATURES) & set(record.features)
    sentence = record.data["context_left_out"]["BTCUSDT"]
    assert "trained without the BTCUSDT inputs" in sentence and "fetch --coins BTC" in sentence
    assert record.card is not None and sentence in record.card.notes
    assert record.params["settings"]["cross_asset"] is False


def test_gbm_by_default_and_the_har_read_no_reference(home) -> None:
    coin, _ = _pair(3000, seed=11)
    small = VolGBMConfig(n_estimators=40, max_depth=2)
    for estimator, config in (("har", None), ("gbm", small)):
        result = train_volatility(
            "ETH", estimator=estimator, registry=ModelRegistry(), candles=coin, config=config
        )
        assert result.record.data["context"] == [] and "context_left_out" not in result.record.data
        assert not set(REFERENCE_FEATURES) & set(result.record.features)
