"""Volatility models are kinds (issue 19 points 1 and 7): listed by ``kinds``, trained by
``train --models vol_har`` through the job layer, pooled by ``train --pooled``, with the same
numbers as the separate ``core volatility`` path they replace (recorded at 4184914)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.jobs.spec import JobSpec, make_specs
from core.models import kind_info, kinds, load_model, pooled_kind, voting_kinds
from core.registry.metadata import ModelMetadata
from core.registry.model_registry import ModelRegistry
from core.signals.live import promoted_versions
from core.training.train import train_coin
from core.volatility.model import VolatilityModel
from tests.core_cli import run_core
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
RECORDED = json.loads((ROOT / "tests/fixtures/vol_cards_4184914.json").read_text())


def _core(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_core(home, *args, CRYPTOVOLT_THREADS="1")


def _same_as_recorded(record: ModelMetadata, recorded: dict, *, folds_added: bool = False) -> None:
    """The same card and per-horizon record as recorded; ``folds_added``: a pooled model now
    also has walk-forward folds (recorded without them), so its ``folds_agree`` gates are new
    and every other number is the same."""
    assert record.card is not None
    card = record.card.to_dict()
    horizons = {key: h.to_dict() for key, h in record.volatility.items()}
    if folds_added:
        for key in ("6h", "24h"):
            assert card["gates"].pop(f"{key}_folds_agree")["threshold"] is not None
            assert (
                horizons[key]["gates"].pop("folds_agree") and len(horizons[key].pop("folds")) == 3
            )
            recorded["horizons"][key].pop("folds")
            for gone in ("passed",):
                horizons[key].pop(gone), recorded["horizons"][key].pop(gone)
        card.pop("passed"), recorded["card"].pop("passed")
    assert card == recorded["card"]
    assert horizons == recorded["horizons"]


def test_volatility_kinds_are_in_the_one_registry_and_never_vote() -> None:
    for name in ("vol_har", "vol_gbm", "vol_pooled_har", "vol_pooled_gbm"):
        assert name in kinds() and name not in voting_kinds()
        assert kind_info(name).output.value == "volatility"
    assert pooled_kind("vol_har") == "vol_pooled_har" and pooled_kind("volatility") == (
        "vol_pooled_har"
    )
    assert kind_info("vol_gbm").estimator_name == "XGBoost"
    with pytest.raises(Exception, match="cannot be trained pooled"):
        pooled_kind("lstm")


def test_har_kind_card_equals_the_old_volatility_command_on_the_sample(home, btc_candles) -> None:
    registry = ModelRegistry()
    (result,) = train_coin("BTC", models=["vol_har"], candles=btc_candles, registry=registry)
    assert result.name == "vol_har_btcusdt" and result.promoted
    _same_as_recorded(result.metadata, RECORDED["har"]["BTCUSDT"])
    # the registry reads it back through the kind's loader, checksums verified
    model = registry.get_model("vol_har_btcusdt")
    assert isinstance(model, VolatilityModel) and model.passed_horizons == ["6h"]
    assert isinstance(load_model("vol_har", registry.root / "vol_har_btcusdt" / "v1"), type(model))
    # a volatility model is not a direction member of the coin's signal
    assert promoted_versions(registry, "BTC") == {}


def test_pooled_kind_fits_once_and_cards_each_coin_as_before(home_with_sample) -> None:
    registry = ModelRegistry()
    results = train_coin("BTC", models=["vol_pooled_har"], pool=["BTC", "ETH"], registry=registry)
    assert [r.name for r in results] == ["vol_pooled_har_btcusdt", "vol_pooled_har_ethusdt"]
    for r in results:
        _same_as_recorded(
            r.metadata, copy.deepcopy(RECORDED["pooled_har"][r.metadata.symbol]), folds_added=True
        )
        assert r.metadata.params["pooled_over"] == ["BTCUSDT", "ETHUSDT"]


def test_pooled_specs_put_the_pool_in_one_job_and_round_trip() -> None:
    specs = make_specs(["BTC", "ETH", "SOL"], models="xgb_direction,vol_har", pooled=False)
    assert [s.models for s in specs] == [("xgb_direction", "vol_har")] * 3
    specs = make_specs(["BTC", "ETH"], models="vol_har,vol_gbm", pooled=True)
    (spec,) = specs
    assert spec.models == ("vol_pooled_har", "vol_pooled_gbm")
    assert spec.pool == ("BTCUSDT", "ETHUSDT")
    assert JobSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    mixed = make_specs(["BTC", "ETH"], models="xgb_direction,vol_pooled_har")
    assert [s.models for s in mixed] == [("xgb_direction", "vol_pooled_har"), ("xgb_direction",)]
    with pytest.raises(Exception, match="cannot be trained pooled"):
        make_specs(["BTC"], models="lstm", pooled=True)


def test_train_pooled_runs_as_one_background_job(home_with_sample: Path) -> None:
    home = home_with_sample
    run = _core(
        home,
        "train",
        "--coins",
        "BTC,ETH",
        "--models",
        "vol_har",
        "--pooled",
        "--background",
        "--json",
    )
    assert run.returncode == 0, run.stderr
    (launched,) = json.loads(run.stdout)["jobs"]

    def ended() -> dict | None:
        out = _core(home, "job", "status", launched["job"], "--json").stdout
        status = json.loads(out)
        return status if status["state"] not in {"queued", "running"} else None

    status = wait_until(ended, 240, "the pooled job to end", interval=0.5)
    assert status["state"] == "succeeded", status
    registry = ModelRegistry()
    for symbol in ("BTCUSDT", "ETHUSDT"):
        record = registry.record(f"vol_pooled_har_{symbol.lower()}")
        _same_as_recorded(record, copy.deepcopy(RECORDED["pooled_har"][symbol]), folds_added=True)


def test_volatility_command_is_an_alias_of_train(home_with_sample: Path) -> None:
    done = _core(home_with_sample, "volatility", "--coins", "BTC", "--json")
    assert done.returncode == 0, done.stderr
    assert "alias" in done.stderr and "train --coins BTC --models vol_har --json" in done.stderr
    (version,) = json.loads(done.stdout)["versions"]
    assert version["name"] == "vol_har_btcusdt" and version["coin"] == "BTCUSDT"
    bad = _core(home_with_sample, "volatility", "--coins", "BTC", "--estimators", "garch")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --estimators 'garch'")


def test_lstm_kind_reuses_the_network_estimator_and_reloads_without_tensorflow(home) -> None:
    from core.models.volatility import VolLSTMConfig
    from tests.vol_sim import garch_candles

    candles = garch_candles(6000, seed=5)
    cfg = VolLSTMConfig(window=12, units=4, dense_units=4, epochs=2, batch_size=512)
    registry = ModelRegistry()
    (result,) = train_coin(
        "BTC", models=["vol_lstm"], settings={"vol_lstm": cfg}, candles=candles, registry=registry
    )
    record = result.metadata
    assert record.name == "vol_lstm_btcusdt" and record.card is not None
    assert record.card.coverage is not None and "6h" in record.card.coverage.horizons
    assert set(record.card.coverage.shares["6h"]) == {"50", "80", "90"}
    assert list(record.features) == [f"feat_lrv_seq_{k}" for k in range(11, -1, -1)]
    saved = registry.get_predictions("vol_lstm_btcusdt").query("horizon == '6h'")
    # a fresh process loads it and forecasts in numpy: the test window's forecasts come back
    code = (
        "import sys, json; from core.registry.model_registry import ModelRegistry; "
        "from core.data.store import load_candles; "
        "m = ModelRegistry().get_model('vol_lstm_btcusdt'); "
        "f = m.log_variance(load_candles('BTCUSDT', '1h'))['6h']; "
        "print(json.dumps({'tf': 'tensorflow' in sys.modules, 'last': float(f[-1]), "
        "'n': int((f == f).sum())}))"
    )
    from core.data.store import save_candles

    save_candles(candles, "BTCUSDT", "1h")
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout)
    assert loaded["tf"] is False and loaded["n"] > len(saved)
    model = registry.get_model("vol_lstm_btcusdt")
    forecasts = model.log_variance(candles)["6h"]
    assert loaded["last"] == pytest.approx(forecasts[-1])
    times = pd.DatetimeIndex(candles["open_time"])
    at = times.get_indexer(pd.DatetimeIndex(saved["open_time"]))
    np.testing.assert_allclose(forecasts[at], saved["forecast_model"].to_numpy(), rtol=1e-5)
