"""AppTest of issue 20 points 1 and 2 on really trained, carded models (tests/card_home.py: BTC
has a model that passes its gates, ETH has none) plus a coin with candles and no model:

* the top of Signals is one verdict line per stored coin in plain words, the untrained coin
  says so and its button opens Training with that coin picked; Models and Backtest open with
  the same line;
* one gate wording on every page: the same model's gates read the same on Models (table and
  card), Signals (card and verdict details), Training (a finished job), Backtest (its notes),
  the tuning summary and the CLI.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import jobs
from core.atomic import atomic_write_json
from core.data.coins import display_name
from core.data.store import load_candles, save_candles
from core.jobs.control import finish
from core.jobs.results import ModelResult
from core.jobs.tune_job import TuneJob
from core.registry.gates import gates_summary
from core.registry.model_registry import ModelRegistry
from core.tuning import TuneSpec
from core.tuning.study import _open
from tests.card_home import ROOT, copy_carded_into
from tests.homes import env_home, env_runs
from tests.random_walk import random_walk_candles
from tests.waiting import APP_TIMEOUT

pytestmark = pytest.mark.slow


@pytest.fixture
def carded(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The carded home plus SOL candles without a model; the clock just after BTC's last close."""
    copy_carded_into(home)
    save_candles(random_walk_candles(400, seed=3), "SOLUSDT")
    last = load_candles("BTCUSDT")["open_time"].iloc[-1]
    monkeypatch.setenv("CRYPTOVOLT_NOW", (last + pd.Timedelta(hours=2)).isoformat())
    return home


def _open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _verdict_rows(at: AppTest) -> dict[str, str]:
    """The verdict line per coin name, as drawn (markdown of each ``verdict_<symbol>`` row)."""
    rows = {}
    for symbol, name in (("BTCUSDT", "Bitcoin"), ("ETHUSDT", "Ethereum"), ("SOLUSDT", "Solana")):
        for m in at.markdown:
            if m.value.startswith(f"**{name} (") and "-badge[" in m.value:
                rows[symbol] = m.value
                break
    return rows


def _texts(at: AppTest) -> str:
    """Every text of the page as a reader sees it (Markdown's backslash escapes removed:
    ``ui.text.plain`` writes ``needs \\> 0.5`` for ``needs > 0.5``)."""
    kinds = {"markdown", "caption", "warning", "success", "info", "error"}
    text = "\n".join(str(e.value) for e in at.main if e.type in kinds)
    return re.sub(r"\\(.)", r"\1", text)


def test_signals_open_with_a_verdict_per_stored_coin_and_a_train_button(carded: Path):
    at = _open_page("pages/signals.py")
    rows = _verdict_rows(at)
    assert list(rows) == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    assert "such calls were right" in rows["BTCUSDT"]
    assert ":orange-badge[no call]" in rows["ETHUSDT"]
    assert (
        "its model is not clearly better than a coin flip at telling rises from falls over the"
        in (rows["ETHUSDT"])
    )
    assert "no models yet" in rows["SOLUSDT"]
    captions = [c.value for c in at.caption if c.value.startswith("Market: 24 h ")]
    assert len(captions) == 3 and all("× its" in c for c in captions)
    # the gate numbers are in an expander, not in the line
    assert "lower bound" not in rows["ETHUSDT"]
    assert any(e.label.startswith("Why: each model's checks") for e in at.expander)
    # the NO EDGE card speaks as the line does: no "out of sample", no "baselines"
    said = [m.value for m in at.markdown]
    assert any("did better than a naive guess (a coin flip)" in m for m in said)
    assert not any("out of sample" in m for m in said)
    button = at.button(key="verdict_train_SOLUSDT")
    assert button.label == "Train Solana (SOL)"
    button.click().run()
    assert not at.exception, at.exception
    assert at.session_state["training_coins"] == ["SOLUSDT"]
    assert any(h.value == "Training" for h in at.title)


def test_models_and_backtest_open_with_the_same_verdict_line(carded: Path):
    signals = _verdict_rows(_open_page("pages/signals.py"))
    models = _verdict_rows(_open_page("pages/models.py"))
    assert models == {k: v for k, v in signals.items() if k != "SOLUSDT"}
    backtest = _open_page("pages/backtest.py")
    shown = _verdict_rows(backtest)
    coin = backtest.session_state["selected_coin"]
    assert shown == {coin: signals[coin]}


def _training_job(home: Path, job_id: str, symbol: str, name: str, version: str) -> None:
    atomic_write_json(
        home / "runs" / job_id / "status.json",
        {
            "job_id": job_id,
            "symbol": symbol,
            "models": ["xgb_direction"],
            "state": "succeeded",
            "created_ns": time.time_ns(),
            "started_at": "2025-06-01T10:00:00+00:00",
            "finished_at": "2025-06-01T10:01:05+00:00",
            "result": [{"name": name, "version": version, "model_type": "xgb_direction"}],
        },
    )


def _tuned(home: Path, name: str, version: str) -> str:
    """A finished sweep of ETH's direction model that registered ``name`` ``version``."""
    spec = TuneSpec("ETH", "xgb_direction", trials=2, fixed={"n_estimators": 20})
    study = _open(home, spec, resume=False, fresh=False)
    trial = study.ask({"learning_rate": optuna.distributions.FloatDistribution(0.01, 0.3)})
    study.tell(trial, -0.01)
    job_id = jobs.prepare(TuneJob(spec, resume=True), home=env_home())
    finish(job_id, jobs.JobState.SUCCEEDED, result=(ModelResult(name, version),), runs=env_runs())
    return spec.study


def test_one_gate_wording_for_the_same_model_on_every_page_and_the_cli(carded: Path):
    name = "xgb_direction_ethusdt"
    record = ModelRegistry().record(name)  # the champion, v1: its gates fail
    words = gates_summary(record.card)
    assert words.startswith("passes ") and " — fails: " in words
    _training_job(carded, "20250601-100001-ethusdt-bbbb", "ETHUSDT", name, record.version)

    models = _open_page("pages/models.py")
    rows = models.dataframe[0].value.to_dict("records")
    eth = {"ETHUSDT", display_name("ETHUSDT")}  # the table may show the coin by its name
    row = next(r for r in rows if r["coin"] in eth and r["version"] == record.version)
    assert words in row["verdict"]
    models.selectbox(key="models_selected").set_value(name).run()
    assert words in _texts(models)

    signals = _texts(_open_page("pages/signals.py"))
    assert signals.count(words) >= 2  # the card's member list and the verdict's details

    training = _texts(_open_page("pages/training.py"))
    assert words in training

    backtest = _open_page("pages/backtest.py")
    backtest.selectbox(key="selected_coin").set_value("ETHUSDT").run()
    assert words in _texts(backtest)

    _tuned(carded, name, "v2")
    tuning = _open_page("pages/training.py")
    summary = re.sub(r"\\(.)", r"\1", next(m.value for m in tuning.markdown if "Tuned" in m.value))
    v2 = ModelRegistry().record(name, "v2")
    assert gates_summary(v2.card) in summary and "not promoted" in summary

    done = subprocess.run(
        [sys.executable, "-m", "core", "signals", "--no-journal"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert words in done.stdout
    for page_text in (signals, training, done.stdout):
        assert "beats_volatility" not in page_text and "fail (" not in page_text
