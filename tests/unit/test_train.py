"""train_coin refuses bad input with messages that say what to do, before any work starts."""

from __future__ import annotations

import pytest

from core.config import LSTMConfig, SplitConfig, TargetConfig, XGBConfig
from core.errors import ConfigError, InsufficientDataError, NoDataError, StablecoinError
from core.models import ModelKind
from core.registry.model_registry import ModelRegistry
from core.training.train import Stage, required_candles, train_coin
from tests.random_walk import random_walk_candles

TINY_XGB = XGBConfig(n_estimators=10, max_depth=3)


def test_a_coin_without_data_says_to_fetch_it_first_and_where(home):
    with pytest.raises(NoDataError) as err:
        train_coin("ETH", models=["xgboost"])
    text = str(err.value)
    assert "python -m core fetch --coins ETH" in text and str(home / "data" / "raw") in text


def test_a_stablecoin_is_refused_with_the_reason():
    with pytest.raises(StablecoinError, match="no volatility"):
        train_coin("USDCUSDT", candles=random_walk_candles(3000))


def test_an_unknown_model_kind_is_refused():
    with pytest.raises(ConfigError, match="xgboost"):
        train_coin("BTC", models=["forest"], candles=random_walk_candles(3000))


def test_too_few_candles_say_how_many_are_needed(home):
    need = required_candles("xgboost")
    events = []
    with pytest.raises(InsufficientDataError) as err:
        train_coin("BTC", candles=random_walk_candles(need - 1), progress=events.append)
    text = str(err.value)
    assert f"{need - 1:,} 1h candles" in text and f"xgboost needs {need:,}" in text
    assert "python -m core fetch --coins BTC" in text
    assert all(e.stage is Stage.LOADING for e in events)  # refused before any fitting
    assert not (home / "models").exists()


def test_required_candles_grow_with_window_folds_and_horizon():
    base = required_candles(ModelKind.XGBOOST)
    assert base == 2170  # 5 blocks of (199 warm-up + 6 purge + 229 for 200 fit rows after val)
    assert required_candles("xgboost", split=SplitConfig(folds=8)) > base
    assert required_candles("xgboost", target=TargetConfig(horizon=24)) > base
    lstm = required_candles("lstm")
    assert required_candles("lstm", lstm=LSTMConfig(window=200)) > lstm
    assert required_candles("lstm", lstm=LSTMConfig(walk_forward=True)) > lstm


def test_exactly_enough_candles_train(home):
    need = required_candles("xgboost")
    [meta] = train_coin(
        "BTC", models=["xgb"], xgb=TINY_XGB, candles=random_walk_candles(need, seed=2)
    )
    assert meta["version"] == "v1" and meta["data"]["rows"] == need
    assert len(meta["metrics"]["walk_forward"]) == 4
    assert ModelRegistry().get_metadata("xgboost_btcusdt")["promoted"] is True
    assert (home / "logs" / "model_training.log").exists()
