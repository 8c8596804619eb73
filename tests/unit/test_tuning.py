"""Tuning: the nested objective never sees the test window; search spaces give valid settings;
one sweep per study at a time; stored studies are resumed, not silently overwritten; cards
record the sweep and old cards still load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import optuna
import pytest

from core.config import SplitConfig, TargetConfig
from core.errors import ConfigError, JobError
from core.models.settings import XGBConfig
from core.registry.horizons import CardCoverage
from core.registry.metadata import ModelCard, ModelMetadata
from core.registry.sweep_record import SweepResult, TuningRecord
from core.training.evaluate import chronological_split
from core.tuning import TuneSpec, describe, lock_holder, space_for, study_lock, tunable
from core.tuning.objective import InnerData, inner_period, objective_text, score_settings
from core.tuning.space import apply, suggest
from core.tuning.study import _open, counts, load_study
from tests.random_walk import random_walk_candles

TINY = XGBConfig(n_estimators=10, max_depth=2)
SPLIT = SplitConfig(folds=2)


def _score(candles) -> list[float]:
    data = InnerData.build("xgboost", candles, target=TargetConfig(), split=SPLIT)
    return score_settings(data, TINY)[1]


def test_every_kind_is_tuned_as_its_recipe_says():
    """The sweep asks the kind's recipe how to tune it (issue 18.2, no kind branch in
    core/tuning): every registered kind's recipe names a Tuning, and the volatility recipe's
    maximises QLIKE skill where the others' maximise Brier / MAE skill."""
    from core.models import kind_info, kinds
    from core.models.recipe import Tuning

    for kind in kinds():
        assert isinstance(kind_info(kind).tuning(), Tuning), kind
    assert "QLIKE" in objective_text("vol_gbm", 3)
    assert "Brier" in objective_text("xgboost", 3) and "QLIKE" not in objective_text("lstm", 3)


@pytest.mark.slow
def test_tuner_never_sees_the_test_window():
    candles = random_walk_candles(1500, seed=5)
    start = int(chronological_split(len(candles), test_fraction=0.2, horizon=6).test[0])
    assert len(inner_period(candles, SPLIT)) == start  # train_coin's test window starts here

    other = random_walk_candles(1500, seed=99)
    changed_test = candles.copy()
    for column in ("open", "high", "low", "close", "volume"):
        values = candles[column].to_numpy(dtype="float64", copy=True)
        values[start:] = other[column].to_numpy(dtype="float64")[start:] * 3
        changed_test[column] = values
    assert _score(changed_test) == _score(candles)

    changed_inner = candles.copy()  # the same change before the test window does change scores
    close = candles["close"].to_numpy(dtype="float64", copy=True)
    close[start - 300 : start] *= np.linspace(1.0, 1.3, 300)
    changed_inner["close"] = close
    assert _score(changed_inner) != _score(candles)


@pytest.mark.parametrize("kind", sorted(tunable()))
def test_every_suggested_point_is_a_valid_setting(kind: str):
    space = space_for(kind)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(25):
        values = suggest(study.ask(), space)
        cfg = apply(kind, {}, values)
        assert all(getattr(cfg, k) == v for k, v in values.items())
    json.dumps(describe(space))  # stored with the study and on the card


def test_fixed_settings_leave_the_space_and_unknown_kinds_are_refused():
    space = space_for("xgb", fixed={"n_estimators": 20, "max_depth": 2})
    assert "n_estimators" not in space and "max_depth" not in space and "learning_rate" in space
    with pytest.raises(ConfigError, match="Unknown model"):
        space_for("forest")
    with pytest.raises(ConfigError, match="trials"):
        TuneSpec("BTC", "xgb", trials=0)
    with pytest.raises(ConfigError, match="depth"):
        TuneSpec("BTC", "xgb", fixed={"max_depth": 99})
    assert TuneSpec("btc/usdt", "XGB").study == "xgboost_btcusdt_1h"


def test_a_second_sweep_of_a_locked_study_is_refused_with_who_holds_it(home: Path):
    assert lock_holder(home, "s1") is None
    with study_lock(home, "s1"):
        holder = lock_holder(home, "s1")
        assert holder is not None and holder.pid is not None and holder.pid > 0
        busy = r"Study s1 is already being tuned by process \d+"
        with pytest.raises(JobError, match=busy), study_lock(home, "s1"):
            pass
    assert lock_holder(home, "s1") is None
    with study_lock(home, "s1"):  # free again once the first one ended
        pass


def test_stored_study_needs_resume_and_a_killed_runs_trial_is_retried(home: Path):
    spec = TuneSpec("BTC", "xgb", trials=4, fixed={"n_estimators": 10})
    study = _open(home, spec, resume=False, fresh=False)
    done = study.ask()
    study.tell(done, 0.01)
    study.ask({"learning_rate": optuna.distributions.FloatDistribution(0.01, 0.3, log=True)})
    with pytest.raises(ConfigError, match="--resume continues it, --fresh"):
        _open(home, spec, resume=False, fresh=False)

    resumed = _open(home, spec, resume=True, fresh=False)  # the "running" trial was a killed run's
    states = [t.state.name for t in resumed.get_trials()]
    assert states == ["COMPLETE", "FAIL", "WAITING"]
    assert resumed.get_trials()[2].user_attrs["retry_of"] == 1
    assert counts(load_study(home, spec.study))["finished"] == 1

    fresh = _open(home, spec, resume=False, fresh=True)
    assert fresh.get_trials() == []


def test_card_records_the_sweep_and_cards_without_one_still_load():
    tuning = TuningRecord(
        SweepResult("xgboost_btcusdt_1h", finished=50),
        "/h/tuning/x.db",
        search_space={"max_depth": {}},
    )
    card = ModelCard(output="probability", tuning=tuning)
    again = ModelCard.from_dict(json.loads(json.dumps(card.to_dict())))
    assert again.tuning == tuning
    old = {"output": "probability", "metrics": {}, "gates": {}, "notes": []}
    assert ModelCard.from_dict(old).tuning is None
    assert "tuning" not in ModelCard.from_dict(old).to_dict()


def test_a_tuned_volatility_card_saved_before_the_card_was_typed_loads_and_saves_the_same():
    """metadata.json of a tuned vol_gbm version as f4a956f wrote it (untyped ``tuning`` and
    ``coverage`` dicts; tests/fixtures/save_tuned_vol_card.py): it loads into the typed card and
    writes back the same JSON, key for key and in the same order."""
    path = Path(__file__).parents[1] / "fixtures" / "cards_f4a956f" / "vol_gbm_tuned.json"
    stored = json.loads(path.read_text())
    record = ModelMetadata.from_dict(stored)
    card = record.card
    assert card is not None and isinstance(card.tuning, TuningRecord)
    sweep = card.tuning.result
    assert sweep.study == "vol_gbm_btcusdt_1h" and sweep.finished == 2
    assert sweep.trials_by_state == {"complete": 2} and sweep.best_trial == 1
    assert set(sweep.best_params) == {"learning_rate", "subsample"}
    assert card.tuning.fixed["horizons"] == [6] and "QLIKE" in card.tuning.objective
    assert isinstance(card.coverage, CardCoverage) and card.coverage.horizons == ("6h",)
    assert card.coverage.share("6h", "80") == stored["card"]["coverage"]["6h"]["80"]
    assert json.dumps(card.to_dict()) == json.dumps(stored["card"])


def test_a_reader_never_finishes_creating_a_study_file_the_sweep_is_creating(tmp_path: Path):
    """Optuna creates a study file in steps: tables, a version_info row, then the alembic stamp.
    A reader (the page's Tuning section, `tune --status`, a test polling trials) that opened it
    between the last two stamped it too, and the sweep then failed with "UNIQUE constraint
    failed: alembic_version.version_num" (a fresh-clone run at load 7). The file in that state
    is not a study yet for a reader: it is refused in words and left as it was."""
    import sqlite3

    from core.tuning.state import storage_path, storage_url

    name = "xgboost_btcusdt_1h"
    storage_path(tmp_path, name).parent.mkdir(parents=True)
    optuna.storages.RDBStorage(storage_url(tmp_path, name))  # the whole creation
    with sqlite3.connect(storage_path(tmp_path, name)) as db:
        db.execute("DELETE FROM alembic_version")  # back to the moment before the stamp
    with pytest.raises(JobError, match="No study"):
        load_study(tmp_path, name)
    with sqlite3.connect(storage_path(tmp_path, name)) as db:
        assert db.execute("SELECT COUNT(*) FROM alembic_version").fetchone()[0] == 0
