"""The Training page under AppTest: defaults, settings checked in the form, jobs from disk."""

from __future__ import annotations

import fcntl
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import jobs
from core.atomic import atomic_write_json
from core.config import TargetConfig
from core.models import DEFAULT_KINDS, kind_info, kinds
from core.models.settings import LSTMConfig, XGBConfig
from core.registry.model_registry import ModelRegistry
from core.words import verdict_words
from tests.homes import env_runs
from tests.waiting import APP_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
PAGE = "pages/training.py"


def _page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    return at.switch_page(PAGE).run()


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in at.error] + [w.value for w in at.warning]
    parts += [c.value for c in at.code]
    return "\n".join(str(p) for p in parts)


def _train_button(at: AppTest):
    return next(b for b in at.button if b.label == "Train")


def test_defaults_preselect_no_coin_and_offer_the_default_settings(home_with_sample: Path):
    at = _page()
    assert not at.exception
    coins = at.multiselect(key="training_coins")
    assert coins.value == []  # one click must not start a job per stored coin
    assert coins.options == [
        "Bitcoin (BTC)",
        "Ethereum (ETH)",
        "Solana (SOL)",
        "XRP (XRP)",
        "Cardano (ADA)",
        "Avalanche (AVAX)",
        "Chainlink (LINK)",
        "Uniswap (UNI)",
        "Polkadot (DOT)",
    ]
    values = {n.key.removeprefix("training_setting_"): n.value for n in at.number_input}
    target, xgb, lstm = TargetConfig(), XGBConfig(), LSTMConfig()
    assert values == {
        "horizon": target.horizon,
        "threshold": target.threshold * 100,
        "trees": xgb.n_estimators,
        "depth": xgb.max_depth,
        "window": lstm.window,
        "units": lstm.units,
        "epochs": lstm.epochs,
        "batch_size": lstm.batch_size,
        "patience": lstm.patience,
    }
    assert (values["horizon"], values["threshold"], values["window"]) == (6, 1.0, 60)
    # every kind can be picked, by its label; the default set (direction, volatility) preselected
    picker = at.button_group(key="training_models")
    assert list(picker.value) == list(DEFAULT_KINDS)
    for kind in kinds():
        assert kind_info(kind).label in _texts(at)
    assert "No training jobs yet." in _texts(at)
    assert _train_button(at).disabled
    assert "Train is off: Pick at least one coin to train." in _texts(at)
    assert not at.warning  # no "default value also set via Session State" warning


def test_the_coin_in_view_is_preselected(home_with_sample: Path):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.session_state["selected_coin"] = "ETHUSDT"
    at.run()
    at.switch_page(PAGE).run()
    assert at.multiselect(key="training_coins").value == ["ETHUSDT"]


def test_settings_are_kept_across_reloads(home_with_sample: Path):
    at = _page()
    at.multiselect(key="training_coins").set_value(["ETHUSDT", "SOLUSDT"]).run()
    at.button_group(key="training_models").set_value(["xgb_direction"]).run()
    at.number_input(key="training_setting_trees").set_value(77).run()
    at.number_input(key="training_setting_threshold").set_value(1.5).run()
    assert not at.exception
    again = _page()  # a new session: what a reload or a restart gets
    assert again.multiselect(key="training_coins").value == ["ETHUSDT", "SOLUSDT"]
    assert list(again.button_group(key="training_models").value) == ["xgb_direction"]
    assert again.number_input(key="training_setting_trees").value == 77
    assert again.number_input(key="training_setting_threshold").value == 1.5
    assert again.number_input(key="training_setting_depth").value == XGBConfig().max_depth
    assert not again.warning


def test_without_data_the_page_says_to_fetch_first(home: Path):
    at = _page()
    assert not at.exception
    assert any("fetch" in i.value.lower() for i in at.info)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [("trees", 0, "trees"), ("window", 1, "window"), ("threshold", 80.0, "threshold")],
)
def test_an_impossible_setting_turns_train_off_and_says_why(
    home_with_sample: Path, key: str, value: float, message: str
):
    at = _page()
    at.multiselect(key="training_coins").set_value(["ETHUSDT"]).run()
    # a setting is checked for the picked kinds that have it: the seed's pair has every one
    at.button_group(key="training_models").set_value(["xgboost", "lstm"]).run()
    assert not _train_button(at).disabled
    at.number_input(key=f"training_setting_{key}").set_value(value).run()
    assert not at.exception
    assert _train_button(at).disabled
    off = next(c.value for c in at.caption if c.value.startswith("Train is off:"))
    assert message in off, off
    assert jobs.list_jobs(runs=env_runs()) == []


def test_every_invalid_setting_is_reported_at_once(home_with_sample: Path):
    at = _page()
    at.multiselect(key="training_coins").set_value(["ETHUSDT"]).run()
    at.button_group(key="training_models").set_value(["xgboost", "lstm"]).run()
    at.number_input(key="training_setting_trees").set_value(0).run()
    at.number_input(key="training_setting_window").set_value(1).run()
    at.number_input(key="training_setting_horizon").set_value(0).run()
    off = next(c.value for c in at.caption if c.value.startswith("Train is off:"))
    assert "trees" in off and "window" in off and "horizon" in off, off


def test_an_empty_model_pick_says_why_train_is_off(home_with_sample: Path):
    at = _page()
    at.multiselect(key="training_coins").set_value(["ETHUSDT"]).run()
    at.button_group(key="training_models").set_value([]).run()
    assert _train_button(at).disabled
    assert "Train is off: Pick at least one model." in _texts(at)
    assert jobs.list_jobs(runs=env_runs()) == []


def _write_job(home: Path, job_id: str, **fields) -> None:
    status = {
        "job_id": job_id,
        "symbol": "BTCUSDT",
        "models": ["xgboost", "lstm"],
        "state": "succeeded",
        "created_ns": time.time_ns(),
        "started_at": "2025-06-01T10:00:00+00:00",
        "finished_at": "2025-06-01T10:01:05+00:00",
        "result": [],
        **fields,
    }
    atomic_write_json(home / "runs" / job_id / "status.json", status)


def test_jobs_on_disk_are_listed_with_results_errors_and_dead_processes(home_with_sample: Path):
    _write_job(
        home_with_sample,
        "20250601-100000-btcusdt-aaaa",
        result=[
            {
                "name": "xgboost_btcusdt",
                "version": "v3",
                "model_type": "xgboost",
                "metrics": {"test": {"roc_auc": 0.5312}, "baseline": {"roc_auc": 0.5}},
            }
        ],
    )
    _write_job(
        home_with_sample,
        "20250601-100001-ethusdt-bbbb",
        symbol="ETHUSDT",
        state="failed",
        error="Too few candles: 120 rows, 1,400 needed.",
    )
    # a "running" job whose process is long gone (pid 999999 does not exist)
    _write_job(
        home_with_sample,
        "20250601-100002-solusdt-cccc",
        symbol="SOLUSDT",
        state="running",
        pid=999_999,
        finished_at=None,
    )
    at = _page()
    assert not at.exception
    text = _texts(at)
    assert "xgboost_btcusdt" in text and "v3" in text and "0.5312 (0.5)" in text
    assert "Too few candles: 120 rows, 1,400 needed." in text
    assert jobs.DIED_MESSAGE in text
    assert "Solana (SOL)" in text and "Ethereum (ETH)" in text


def test_more_than_three_coins_ask_before_starting(home_with_sample: Path, monkeypatch):
    monkeypatch.setenv("CRYPTOVOLT_JOB_SLOTS", "1")
    slots = home_with_sample / "runs" / ".slots"
    slots.mkdir(parents=True)
    with open(slots / "0.lock", "a+") as held:  # keeps the jobs queued: nothing trains here
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        at = _page()
        four = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]
        at.multiselect(key="training_coins").set_value(four).run()
        at.button_group(key="training_models").set_value(["xgboost"]).run()
        _train_button(at).click().run()
        assert jobs.list_jobs(runs=env_runs()) == []  # not yet
        assert "This starts 4 training jobs, one per coin" in _texts(at)
        next(b for b in at.button if b.label == "Not now").click().run()
        assert (
            "This starts 4 training jobs" not in _texts(at)
            and jobs.list_jobs(runs=env_runs()) == []
        )
        _train_button(at).click().run()
        next(b for b in at.button if b.label == "Yes, start 4 jobs").click().run()
        assert not at.exception
        try:
            found = jobs.list_jobs(runs=env_runs())
            assert sorted(j["symbol"] for j in found) == sorted(four)
        finally:
            for job in jobs.list_jobs(runs=env_runs()):
                jobs.cancel(job["job_id"], runs=env_runs())


def test_a_running_job_says_where_it_is_with_one_estimate_and_wraps_its_log(
    home_with_sample: Path,
):
    job_id = "20250601-100003-btcusdt-ffff"
    _write_job(
        home_with_sample,
        job_id,
        models=["xgb_direction", "lstm_return"],
        state="running",  # no pid yet and just created: alive (the start grace)
        finished_at=None,
        model="lstm_return",
        stage="walk-forward",
        step=1,
        total=60,
        message="fold 4/4: 1/60 loss 0.31, ~8s left",
        eta_seconds=0.0,
    )
    (home_with_sample / "runs" / job_id / "job.log").write_text("x" * 400 + "\n")
    at = _page()
    assert not at.exception
    [bar] = at.get("progress")
    text = bar.proto.text
    assert text.startswith(
        "LSTM return (model 2 of 2): checking on earlier periods (walk-forward), fold 4 of 4 · "
    )
    assert bar.proto.value > 50  # one bar across both models: past the first
    assert "0s left" not in text and "1/60" not in text
    log = next(c for c in at.code if "xxxx" in c.value)
    assert log.proto.wrap_lines
    (folded,) = [e for e in at.expander if e.label == "Log"]
    assert not folded.proto.expanded, "even a running job's log starts collapsed"


def test_train_launches_a_job_that_can_be_cancelled_from_the_page(
    home_with_sample: Path, monkeypatch
):
    monkeypatch.setenv("CRYPTOVOLT_JOB_SLOTS", "1")
    slots = home_with_sample / "runs" / ".slots"
    slots.mkdir(parents=True)
    with open(slots / "0.lock", "a+") as held:  # keeps the job queued while we look at it
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        at = _page()
        at.multiselect(key="training_coins").set_value(["ETHUSDT"]).run()
        at.button_group(key="training_models").set_value(["xgboost"]).run()
        _train_button(at).click()
        at.run()
        assert not at.exception
        found = jobs.list_jobs(runs=env_runs())
        assert [(j["symbol"], j["models"], j["state"]) for j in found] == [
            ("ETHUSDT", ["xgboost"], "queued")
        ]
        job_id = found[0]["job_id"]
        assert f"`{job_id}`" in _texts(at)
        cancel = next(b for b in at.button if b.key == f"cancel_{job_id}")
        cancel.click()
        at.run()
        assert not at.exception
        assert jobs.status(job_id, runs=env_runs())["state"] == "cancelled"
        assert "cancelled" in _texts(at)


def test_finished_job_opens_its_model_on_the_models_page(home_with_sample: Path):
    from core.jobs.results import model_result
    from core.training.train import train_coin

    [spec] = jobs.make_specs(["BTC"], models="xgboost", trees=5, depth=2)
    assert spec.settings["xgboost"].n_estimators == 5
    [result] = train_coin("BTC", models=spec.models, settings=spec.settings)
    summary = model_result(result.metadata.to_dict()).to_dict()
    _write_job(home_with_sample, "20250601-100000-btcusdt-dddd", result=[summary])
    at = _page()
    assert not at.exception
    text = _texts(at)
    record = ModelRegistry().record("xgboost_btcusdt")
    # the version, its card's headline with its interval, the verdict in words, the champion
    assert "**xgboost_btcusdt** v1" in text and "AUC " in text and " vs 0.5" in text
    assert verdict_words(record) in text
    assert "Promoted: it is the champion" in text
    # after training the page is a short table: the model (coin, kind, version, champion), its
    # verdict, a button to its card
    cells = [m.value for m in at.markdown]
    label = kind_info("xgboost").label
    at_row = cells.index(f"**Bitcoin (BTC)**  \n{label} v1 · :blue-badge[champion]")
    words = verdict_words(record)
    assert cells[at_row + 1] in (f":green[{words}]", f":orange[{words}]")
    # the numbers and promotion paragraphs, and every log, are folded away
    folded = next(e for e in at.expander if e.label == "Numbers and promotion of each version")
    assert not folded.proto.expanded
    assert "Promoted: it is the champion" in " ".join(m.value for m in folded.markdown)
    logs = [e for e in at.expander if e.label == "Log"]
    assert logs and not any(e.proto.expanded for e in logs), "logs start collapsed"
    if (ROOT / "pages" / "models.py").exists():
        next(b for b in at.button if (b.key or "").startswith("card_20250601")).click()
        at.run()
        assert not at.exception
        assert at.selectbox(key="models_selected").value == "xgboost_btcusdt"


def test_open_shows_the_exact_version_the_job_trained(home_with_sample: Path):
    """Open goes to the Models page on that model and that version, not on the first one."""
    from core.jobs.results import model_result
    from core.training.train import train_coin

    [spec] = jobs.make_specs(["BTC"], models="xgboost", trees=5, depth=2)
    train_coin("BTC", models=spec.models, settings=spec.settings)  # v1
    [second] = train_coin("BTC", models=spec.models, settings=spec.settings)
    assert second.metadata.version == "v2"
    summary = model_result(second.metadata.to_dict()).to_dict()
    _write_job(home_with_sample, "20250601-110000-btcusdt-eeee", result=[summary])
    at = _page()
    # every statistic has help in words: the verdict column and each version's numbers
    from ui.card_view import VERDICT_HELP

    (heading,) = [c for c in at.caption if c.value == "verdict"]
    assert heading.proto.help == VERDICT_HELP
    folded = next(e for e in at.expander if e.label == "Numbers and promotion of each version")
    (numbers,) = [m for m in folded.markdown if m.value.startswith("**xgboost_btcusdt** v2")]
    assert "AUC: Chance it ranks a random hour with the event above one" in numbers.proto.help
    assert "[low, high]: the range" in numbers.proto.help
    next(b for b in at.button if (b.key or "").startswith("card_20250601")).click()
    at.run()
    assert not at.exception
    assert at.selectbox(key="models_selected").value == "xgboost_btcusdt"
    assert at.radio(key="models_version_xgboost_btcusdt").value == 1  # v2, not v1
    assert "v2" in at.radio(key="models_version_xgboost_btcusdt").options[1]
    assert dict(at.query_params) == {
        "coin": "BTCUSDT",
        "model": "xgboost_btcusdt",
        "version": "v2",
    }


def test_a_finished_job_with_too_good_numbers_is_not_a_green_box(home_with_sample: Path):
    import json

    from core.jobs.results import model_result
    from core.training.train import train_coin

    [spec] = jobs.make_specs(["BTC"], models="xgboost", trees=5, depth=2)
    [result] = train_coin("BTC", models=spec.models, settings=spec.settings)
    path = home_with_sample / "models" / "xgboost_btcusdt" / "v1" / "metadata.json"
    data = json.loads(path.read_text())
    data["card"]["metrics"]["roc_auc"] = 0.999  # what a deterministic fake's prices give
    path.write_text(json.dumps(data))
    _write_job(
        home_with_sample, "20250601-100000-btcusdt-gggg", result=[model_result(data).to_dict()]
    )
    at = _page()
    text = _texts(at)
    assert ":orange[Test AUC 0.999 is above 0.75 on 1h candles" in text
    assert "suspicious: check the data source and for look-ahead" in text
    assert ":green[" not in text


NO_TF_CHECK = f"""
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("streamlit_app.py", default_timeout={APP_TIMEOUT})
at.run()
at.switch_page("pages/training.py").run()
assert not at.exception, at.exception
print(",".join(m for m in ("tensorflow", "keras") if m in sys.modules) or "none")
"""


def test_training_page_never_imports_tensorflow(home_with_sample: Path):
    import os
    import subprocess
    import sys

    _write_job(
        home_with_sample,
        "20250601-100000-btcusdt-eeee",
        result=[{"name": "lstm_btcusdt", "version": "v1", "model_type": "lstm", "metrics": {}}],
    )
    out = subprocess.run(
        [sys.executable, "-c", NO_TF_CHECK],
        cwd=ROOT,
        env={**os.environ, "CRYPTOVOLT_HOME": str(home_with_sample)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "none"
