"""The model registry: versions, metadata, checksums, atomic saves, promotion and deletion."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import IntegrityError, ModelError, ModelNotFoundError
from core.registry.gates import version_verdict
from core.registry.metadata import SCHEMA_VERSION, ModelMetadata
from core.registry.model_registry import ModelRegistry
from core.registry.names import model_name, parse_version
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


class JsonModel:
    """A model that is two small JSON files: enough to exercise the registry's file handling."""

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def save(self, directory: Path) -> list[str]:
        (directory / "weights.json").write_text(json.dumps({"w": self.weight}))
        (directory / "prep").mkdir()
        (directory / "prep" / "scaler.json").write_text(json.dumps({"mean": 0.0}))
        return ["weights.json", "prep/scaler.json"]


def _meta(symbol: str = "BTCUSDT", kind: str = "xgboost", **extra) -> ModelMetadata:
    return ModelMetadata.from_dict(
        {
            "schema_version": SCHEMA_VERSION,
            "symbol": symbol,
            "interval": "1h",
            "model_type": kind,
            "data": {"start": "2024-05-01", "end": "2025-05-30", "rows": 100, "sha256": "ab"},
            "params": {"n_estimators": np.int64(3), "learning_rate": np.float32(0.5)},
            "metrics": {"test": {"auc": np.float64(0.51)}},
            **extra,
        }
    )


def _predictions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "open_time": pd.date_range("2025-01-01", periods=4, freq="h", tz="UTC"),
            "split": ["test"] * 4,
            "close": [1.0, 2.0, 3.0, 4.0],
            "probability": [0.1, 0.2, 0.3, 0.4],
            "actual": [0, 1, 0, 1],
        }
    )


def test_model_name_and_version_parsing():
    assert model_name("xgboost", "btc") == "xgboost_btcusdt"
    assert model_name("lstm", "ETH/USDT") == "lstm_ethusdt"
    assert parse_version("v3") == parse_version("3") == parse_version(3) == 3
    with pytest.raises(ModelNotFoundError):
        parse_version("latest")
    with pytest.raises(ModelError):
        model_name("../x", "BTC")


def test_default_root_is_models_folder_under_home(home: Path):
    meta = ModelRegistry().save(JsonModel(), _meta())
    assert (home / "models" / "xgboost_btcusdt" / "v1" / "metadata.json").is_file()
    assert meta.name == "xgboost_btcusdt" and meta.version == "v1"


def test_save_writes_metadata_with_checksums_of_every_artifact(home: Path):
    registry = ModelRegistry()
    meta = registry.save(JsonModel(), _meta(), predictions=_predictions())
    folder = home / "models" / "xgboost_btcusdt" / "v1"
    on_disk = json.loads((folder / "metadata.json").read_text())
    assert set(on_disk["artifacts"]) == {"weights.json", "prep/scaler.json", "predictions.parquet"}
    import hashlib

    for rel, digest in on_disk["artifacts"].items():
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == digest
    for key in ("name", "symbol", "interval", "model_type", "version", "created_at", "data"):
        assert key in on_disk
    assert on_disk["params"] == {"n_estimators": 3, "learning_rate": 0.5}
    assert meta.promoted is True
    assert registry.record("xgboost_btcusdt").version == "v1"
    frame = registry.get_predictions("xgboost_btcusdt")
    pd.testing.assert_frame_equal(frame, _predictions())


def test_changed_missing_or_extra_artifact_is_refused_and_names_the_file(home: Path):
    registry = ModelRegistry()
    registry.save(JsonModel(), _meta(), predictions=_predictions())
    folder = home / "models" / "xgboost_btcusdt" / "v1"
    registry.verify("xgboost_btcusdt")

    (folder / "prep" / "scaler.json").write_text('{"mean": 1e9}')
    with pytest.raises(IntegrityError, match=r"prep/scaler.json was changed.*delete"):
        registry.verify("xgboost_btcusdt")
    with pytest.raises(IntegrityError, match="scaler.json"):
        registry.get_model("xgboost_btcusdt")

    (folder / "prep" / "scaler.json").write_text(json.dumps({"mean": 0.0}))
    registry.verify("xgboost_btcusdt", "v1")
    (folder / "evil.pkl").write_bytes(b"\x80\x04not a model")
    with pytest.raises(IntegrityError, match="evil.pkl is not one of the saved artifacts"):
        registry.verify("xgboost_btcusdt")
    (folder / "evil.pkl").unlink()

    (folder / "predictions.parquet").write_bytes(b"PAR1 tampered")
    with pytest.raises(IntegrityError, match="predictions.parquet"):
        registry.get_predictions("xgboost_btcusdt")
    (folder / "predictions.parquet").unlink()
    with pytest.raises(IntegrityError, match="predictions.parquet is missing"):
        registry.get_predictions("xgboost_btcusdt")


def test_versions_count_up_and_are_never_reused_after_delete():
    registry = ModelRegistry()
    for weight in (1.0, 2.0, 3.0):
        registry.save(JsonModel(weight), _meta())
    assert registry.versions("xgboost_btcusdt") == ["v1", "v2", "v3"]
    registry.delete("xgboost_btcusdt", "v3")
    assert registry.versions("xgboost_btcusdt") == ["v1", "v2"]
    assert registry.save(JsonModel(4.0), _meta()).version == "v4"
    registry.delete("xgboost_btcusdt", "v4")
    registry.delete("xgboost_btcusdt", "v2")
    registry.delete("xgboost_btcusdt", "v1")
    assert registry.names() == []
    assert registry.save(JsonModel(5.0), _meta()).version == "v5"


def test_promote_and_delete_of_the_promoted_version():
    registry = ModelRegistry()
    for weight in (1.0, 2.0, 3.0):
        registry.save(JsonModel(weight), _meta())
    assert registry.promoted_version("xgboost_btcusdt") == "v3"
    registry.promote("xgboost_btcusdt", "v1")
    assert registry.record("xgboost_btcusdt").version == "v1"
    rows = {(m.version, m.promoted) for m in registry.records()}
    assert rows == {("v1", True), ("v2", False), ("v3", False)}
    registry.delete("xgboost_btcusdt", "v1")
    assert registry.promoted_version("xgboost_btcusdt") == "v3"
    with pytest.raises(ModelNotFoundError, match="versions: v2, v3"):
        registry.record("xgboost_btcusdt", "v1")
    with pytest.raises(ModelNotFoundError):
        registry.promote("xgboost_btcusdt", "v9")
    with pytest.raises(ModelNotFoundError, match="Train it"):
        registry.record("lstm_btcusdt")


def test_records_cover_every_name_and_survives_a_broken_metadata_file(home: Path):
    registry = ModelRegistry()
    registry.save(JsonModel(), _meta("BTC", "xgboost"))
    registry.save(JsonModel(), _meta("ETH", "lstm"))
    registry.save(JsonModel(), _meta("ETH", "lstm"))
    rows = registry.records()
    assert [(m.name, m.version) for m in rows] == [
        ("lstm_ethusdt", "v1"),
        ("lstm_ethusdt", "v2"),
        ("xgboost_btcusdt", "v1"),
    ]
    (home / "models" / "lstm_ethusdt" / "v1" / "metadata.json").write_text("{not json")
    broken = registry.records()[0]
    assert broken.version == "v1" and broken.error and "cannot be read" in broken.error
    assert broken.symbol == "ETHUSDT" and broken.promoted is False
    assert all(r.error is None for r in registry.records()[1:])


def test_cache_key_changes_on_save_promote_and_delete():
    registry = ModelRegistry()
    empty = registry.cache_key()
    registry.save(JsonModel(), _meta())
    registry.save(JsonModel(), _meta())
    saved = registry.cache_key()
    assert saved != empty and saved == registry.cache_key()
    registry.promote("xgboost_btcusdt", "v1")
    promoted = registry.cache_key()
    assert promoted != saved
    registry.delete("xgboost_btcusdt", "v2")
    assert registry.cache_key() != promoted


def test_save_refuses_metadata_without_name_parts_and_unwritten_files(home: Path):
    registry = ModelRegistry()
    with pytest.raises(ModelError, match="model_type"):
        registry.save(JsonModel(), ModelMetadata("", "", "BTCUSDT", ""))

    class Liar(JsonModel):
        def save(self, directory: Path) -> list[str]:
            return [*super().save(directory), "missing.bin"]

    with pytest.raises(ModelError, match="missing.bin"):
        registry.save(Liar(), _meta())
    assert registry.names() == []
    assert not [p for p in (home / "models" / "xgboost_btcusdt").iterdir() if p.is_dir()]


KILL_SCRIPT = """
import sys, time
from pathlib import Path
from core.registry.metadata import ModelMetadata
from core.registry.model_registry import ModelRegistry

class SlowModel:
    def save(self, directory):
        (directory / "weights.json").write_text('{"w": 1}')
        Path(sys.argv[1]).write_text("saving")
        time.sleep(60)
        return ["weights.json"]

ModelRegistry().save(SlowModel(), ModelMetadata("", "", "BTCUSDT", "xgboost"))
"""


def test_process_killed_while_saving_leaves_no_visible_version(home: Path, tmp_path: Path):
    registry = ModelRegistry()
    registry.save(JsonModel(1.0), _meta())
    marker = tmp_path / "saving"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(marker)],
        cwd=ROOT,
        env={**os.environ, "CRYPTOVOLT_HOME": str(home)},
    )
    try:

        def started() -> bool:
            assert proc.poll() is None, "the saver exited before it began saving"
            return marker.exists()

        wait_until(started, 60, "the saver to begin saving")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    folder = home / "models" / "xgboost_btcusdt"
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".tmp-")]
    assert len(leftovers) == 1, "the killed save's temp folder should be the only trace"
    assert registry.versions("xgboost_btcusdt") == ["v1"]
    assert [m.version for m in registry.records()] == ["v1"]
    assert registry.record("xgboost_btcusdt").version == "v1"

    assert registry.save(JsonModel(2.0), _meta()).version == "v2"
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")], "stale temp not removed"
    registry.verify("xgboost_btcusdt", "v2")


def _tiny_xgboost(candles: pd.DataFrame):
    from core.config import TargetConfig
    from core.models import create_model
    from core.models.settings import XGBConfig

    model = create_model("xgboost", XGBConfig(n_estimators=3, max_depth=2))
    ds = model.make_dataset(candles.iloc[:3000], target=TargetConfig())
    return model.fit(ds.X, ds.y), ds


def test_real_xgboost_round_trip_predicts_the_same(btc_candles: pd.DataFrame):
    model, ds = _tiny_xgboost(btc_candles)
    registry = ModelRegistry()
    meta = registry.save(model, _meta(), predictions=_predictions())
    assert set(meta.artifacts) == {"model.ubj", "model.json", "predictions.parquet"}
    loaded = registry.get_model("xgboost_btcusdt")
    np.testing.assert_allclose(loaded.predict_output(ds.X), model.predict_output(ds.X))
    assert loaded.predict_latest(btc_candles) == pytest.approx(model.predict_latest(btc_candles))


def test_tampered_real_model_is_refused_before_anything_is_deserialised(
    home: Path, btc_candles: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
):
    import core.models

    model, _ = _tiny_xgboost(btc_candles)
    registry = ModelRegistry()
    registry.save(model, _meta())
    loads: list[str] = []
    real_load = core.models.load_model

    def spy(kind, directory):
        loads.append(str(kind))
        return real_load(kind, directory)

    monkeypatch.setattr(core.models, "load_model", spy)
    booster = home / "models" / "xgboost_btcusdt" / "v1" / "model.ubj"
    original = booster.read_bytes()
    booster.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(IntegrityError, match=r"model.ubj was changed.*nothing was loaded"):
        registry.get_model("xgboost_btcusdt")
    assert loads == [], "the loader ran on an unverified file"
    booster.unlink()
    with pytest.raises(IntegrityError, match="model.ubj is missing"):
        registry.get_model("xgboost_btcusdt", "v1")
    assert loads == []
    booster.write_bytes(original)
    registry.get_model("xgboost_btcusdt")
    assert loads == ["xgboost"]


def test_concurrent_saves_of_one_name_get_distinct_versions():
    from concurrent.futures import ThreadPoolExecutor

    registry = ModelRegistry()
    with ThreadPoolExecutor(max_workers=4) as pool:
        saved = list(pool.map(lambda w: registry.save(JsonModel(w), _meta()), range(6)))
    assert sorted(m.version for m in saved) == [f"v{n}" for n in range(1, 7)]
    assert registry.versions("xgboost_btcusdt") == [f"v{n}" for n in range(1, 7)]
    for label in registry.versions("xgboost_btcusdt"):
        registry.verify("xgboost_btcusdt", label)


def test_a_challenger_saved_without_promote_stays_unpromoted_unless_it_is_the_first():
    registry = ModelRegistry()
    first = registry.save(JsonModel(1.0), _meta(), promote=False)
    assert first.promoted is True  # nothing to stay champion: the first version is promoted
    second = registry.save(JsonModel(2.0), _meta(), promote=False)
    assert second.version == "v2" and second.promoted is False
    assert registry.promoted_version("xgboost_btcusdt") == "v1"
    assert registry.save(JsonModel(3.0), _meta()).promoted is True
    assert registry.promoted_version("xgboost_btcusdt") == "v3"


def test_records_are_typed_and_version_1_files_still_load(home: Path):
    from core.models.base import Output, VoteRule
    from core.registry.metadata import Gate, ModelCard

    registry = ModelRegistry()
    # a version-1 file: no schema_version, no card, no vote rule
    registry.save(JsonModel(), _meta())
    path = home / "models" / "xgboost_btcusdt" / "v1" / "metadata.json"
    written = json.loads(path.read_text())
    v1 = {k: written[k] for k in ("name", "version", "symbol", "interval", "model_type")}
    v1 |= {"artifacts": written["artifacts"], "metrics": {"baseline": {"train_base_rate": 0.23}}}
    path.write_text(json.dumps(v1))
    old = registry.record("xgboost_btcusdt")
    assert isinstance(old, ModelMetadata) and old.schema_version == 1
    assert old.vote == VoteRule(Output.PROBABILITY, 0.05, 0.23, up_only=True)
    assert old.card is None and not old.gates_passed and "retrain" in version_verdict(old)

    card = ModelCard(
        Output.RETURN.value,
        metrics={"mase": 0.99},
        gates={"mase": Gate(0.99, 1.0, True, "MASE < 1"), "dm": Gate(0.2, 0.05, False, "p")},
    )
    meta = _meta(
        kind="lstm_return",
        schema_version=SCHEMA_VERSION,
        target={"horizon": 1, "signal_horizon": 6},
        vote=VoteRule(Output.RETURN, 0.001).to_dict(),
        card=card.to_dict(),
    )
    saved = registry.save(JsonModel(), meta)
    new = registry.record("lstm_return_btcusdt")
    assert new.schema_version == SCHEMA_VERSION and new.promoted
    assert new.horizon == 1 and new.signal_horizon == 6
    assert new.card == card and not new.gates_passed
    assert version_verdict(new) == "no edge: passes 1 of 2 — fails: dm (p: 0.2)"
    assert ModelMetadata.from_dict(new.to_dict()) == new == saved


def test_card_numbers_are_typed_and_older_cards_still_load():
    from core.registry.metadata import ClassifierMetrics, ForecastMetrics, ModelCard, Scores

    stored = {
        "output": "probability",
        "metrics": {"roc_auc": 0.6, "accuracy": 0.7},  # no fold_roc_auc yet; a retired metric
        "baselines": {"roc_auc": 0.5},
        "intervals": {"roc_auc": {"point": 0.6, "low": 0.55, "high": 0.65}},
        "gates": {},
    }
    card = ModelCard.from_dict(stored)
    assert isinstance(card.metrics, ClassifierMetrics)
    assert card.metrics.roc_auc == 0.6 and card.metrics.fold_roc_auc is None
    assert card.metrics.extra == {"accuracy": 0.7}
    assert card.baselines.as_dict()["roc_auc"] == 0.5
    assert card.intervals["roc_auc"].low == 0.55 and card.intervals["roc_auc"].level == 0.95
    assert card.to_dict()["metrics"]["accuracy"] == 0.7
    assert ModelCard.from_dict(card.to_dict()) == card
    forecaster = ModelCard.from_dict({"output": "return", "metrics": {"mase": 0.98}})
    assert isinstance(forecaster.metrics, ForecastMetrics) and forecaster.metrics.mase == 0.98
    volatility = ModelCard.from_dict({"output": "volatility", "metrics": {"6h_qlike": 0.3}})
    assert type(volatility.metrics) is Scores
    assert volatility.metrics.as_dict() == {"6h_qlike": 0.3}


def test_stored_evaluation_and_calibration_read_as_types_and_write_back_as_stored():
    from core.registry.calibration import BandCalibration, Reliability
    from core.registry.metadata import Evaluation, ModelCard

    fold = {
        "fold": "fold1",
        "start": "2024-01-01T00:00:00+00:00",
        "end": "2024-02-01T00:00:00+00:00",
    }
    fold |= {"metrics": {"roc_auc": 0.52}, "baseline": {"roc_auc": 0.5}, "skill": -0.01}
    stored = {
        "test": {"roc_auc": 0.55, "brier": 0.24},
        "baseline": {"roc_auc": 0.5, "brier": 0.25},
        "skill": 0.04,
        "skill_basis": "1 - Brier / Brier of the training base rate",
        "walk_forward": [fold | {"rows": {"train": 900, "test": 100}}],
        "walk_forward_mean": {"roc_auc": 0.52, "skill": -0.01},
        "something_new": [1, 2],
    }
    evaluation = Evaluation.from_dict(stored)
    assert evaluation.test["roc_auc"] == 0.55 and evaluation.skill == 0.04
    (first,) = evaluation.walk_forward
    assert first.fold == "fold1" and first.metrics == {"roc_auc": 0.52} and first.skill == -0.01
    assert first.extra == {"rows": {"train": 900, "test": 100}}
    assert evaluation.to_dict() == stored
    # the earliest files stored the skill as {"mae": ...}; a volatility record has no skill
    assert Evaluation.from_dict({"skill": {"mae": 0.02}}).skill == 0.02
    assert Evaluation(test={"6h_qlike": 1.2}).to_dict() == {
        "test": {"6h_qlike": 1.2},
        "baseline": {},
    }

    row = {"bin": 1, "built_n": 300, "built_hit_rate": 0.41, "test_n": 80}
    row |= {"test_hit_rate": 0.45, "test_low": 0.35, "test_high": 0.56}
    reliability = {"built_on": "walk-forward folds", "reported_on": "test window"}
    reliability |= {"ece_out_of_time": 0.03, "table": [row]}
    card = ModelCard.from_dict({"output": "probability", "calibration": reliability})
    assert isinstance(card.calibration, Reliability) and card.bands is None
    assert card.calibration.table[0].test_hit_rate == 0.45
    assert card.to_dict()["calibration"] == reliability
    bands = {"24h": {"coverage_terciles": {"80": [0.8, 0.79, 0.7]}, "tests": {"80": {"n": 9}}}}
    bands["24h"] |= {
        "static_coverage_terciles": {"80": [0.9, 0.8, 0.6]},
        "width_ratio": {"80": 1.1},
    }
    vol = ModelCard.from_dict({"output": "volatility", "calibration": bands})
    assert vol.calibration is None and isinstance(vol.bands["24h"], BandCalibration)
    assert vol.bands["24h"].width_ratio == {"80": 1.1}
    assert vol.to_dict()["calibration"] == bands


def test_a_version_2_record_without_a_vote_rule_does_not_get_one():
    from core.registry.metadata import SCHEMA_VERSION, ModelMetadata

    record = ModelMetadata.from_dict(
        {"name": "vol_har_btcusdt", "version": "v1", "symbol": "BTCUSDT", "model_type": "vol_har"}
        | {"schema_version": SCHEMA_VERSION, "vote": None}
    )
    assert record.vote is None
