"""AppTest of the Models, Signals and Backtest pages on a registry of really trained, carded models
(tests/card_home.py: BTC has a model that passes its gates, ETH has none)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.config import BacktestConfig
from core.context import Context
from core.data.coins import display_name
from core.data.store import load_candles, save_candles
from core.registry.model_registry import ModelRegistry
from core.signals import journal
from core.signals.backtest import backtest_coin
from core.signals.live import compute_signal
from tests.app.pages import open_page
from tests.card_home import ROOT, copy_carded_into
from tests.homes import env_paths
from tests.random_walk import random_walk_candles
from tests.waiting import APP_TIMEOUT

pytestmark = pytest.mark.slow


@pytest.fixture
def trained(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The carded home, with the clock (``CRYPTOVOLT_NOW``) one hour after BTC's last candle
    closed, so BTC's signal is fresh (its planted candles end in 2023)."""
    copy_carded_into(home)
    pretend_now_after(load_candles("BTCUSDT"), monkeypatch)
    return home


def pretend_now_after(candles: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    last = candles["open_time"].iloc[-1]
    monkeypatch.setenv("CRYPTOVOLT_NOW", (last + pd.Timedelta(hours=2)).isoformat())


def card_order(at: AppTest) -> list[str]:
    return [
        s
        for m in at.markdown
        for s in ("BTCUSDT", "ETHUSDT")
        if m.value.startswith("**") and f"`{s}`" in m.value
    ]


def card_text(at: AppTest, symbol: str) -> str:
    """Every markdown and caption of ``symbol``'s card, in page order."""
    texts = [e.value for e in at.main if e.type in {"markdown", "caption"}]
    starts = [i for i, t in enumerate(texts) if t.startswith("**") and "` · " in t]
    begin = next(i for i in starts if f"`{symbol}`" in texts[i])
    end = next((i for i in starts if i > begin), len(texts))
    return "\n".join(texts[begin:end])


def test_signals_page_shows_each_coin_with_the_numbers_core_computes(home: Path, trained: Path):
    at = open_page("pages/signals.py")
    registry = ModelRegistry()
    btc = compute_signal("BTCUSDT", registry, load_candles("BTCUSDT"), now=Context.from_env().now())
    assert btc.signal.value in {"BULLISH", "BEARISH", "NEUTRAL"}
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Confidence"] == f"{btc.confidence:.0%}"
    assert metrics["Base rate"] == f"{btc.base_rate:.0%}"
    text = card_text(at, "BTCUSDT")
    low, high = btc.interval
    assert f"95% interval {low:.0%}–{high:.0%}" in text
    assert f"rests on {btc.support:,} earlier out-of-sample calls" in text
    assert f"right {btc.test_hit_rate:.0%} of {btc.test_support:,} such calls" in text
    assert f"{btc.price:,.6g}" in text and btc.signal.value in text
    assert "XGBoost direction (xgb_direction_btcusdt v1)" in text and "→ votes" in text
    assert "LSTM return (lstm_return_btcusdt v1)" in text
    assert "xgb_direction_btcusdt v1" in text and "lstm_return_btcusdt v1" in text
    assert "xgb_probability" not in text and "XGBoost P(" not in text
    recorded = journal.entries(home)
    assert sorted(recorded["symbol"]) == ["BTCUSDT", "ETHUSDT"]
    assert set(recorded["source"]) == {"app"}
    at.run()  # showing the same signals again does not record them twice
    assert len(journal.entries(home)) == 2


def test_a_coin_without_a_passing_model_shows_no_edge_and_why(home: Path, trained: Path):
    at = open_page("pages/signals.py")
    text = card_text(at, "ETHUSDT")
    assert "NO EDGE" in text and "nothing is called" in text
    assert "XGBoost direction (xgb_direction_ethusdt v1)" in text
    assert re.search(r"does not vote\. No edge: passes [0-4] of [4-6] — fails: ", text)
    assert "lower bound" in text and "calibration error" in text
    assert "BULLISH" not in text and "BEARISH" not in text
    assert len(at.metric) == 2  # only BTC's confidence and base rate: NO EDGE shows no numbers
    eth = journal.entries(home, symbol="ETHUSDT").iloc[0]
    assert eth["signal"] == "NO_EDGE" and eth["status"] == journal.NO_EDGE


def test_a_stale_coin_shows_stale_with_no_call_and_is_not_journalled(
    home: Path, trained: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("CRYPTOVOLT_NOW")  # the real clock: BTC's planted candles end in 2023
    at = open_page("pages/signals.py")
    text = card_text(at, "BTCUSDT")
    assert "STALE · no call" in text
    assert "BULLISH" not in text and "BEARISH" not in text and "NEUTRAL" not in text
    assert "→ votes" not in text and "does not vote (stale candles: no vote)" in text
    assert "Training window: XGBoost direction v1 trained on 2023-01-" in text
    errors = " ".join(e.value for e in at.error)
    assert "STALE: the last closed candle is" in errors and "years old" in errors
    assert "nothing is called on it. Top the candles up" in errors
    assert [m.label for m in at.metric] == []  # no confidence, no base rate: nothing is called
    assert list(journal.entries(home)["symbol"]) == ["ETHUSDT"]  # ETH's NO EDGE; BTC's STALE not
    first = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    first.run()  # the sidebar (AppTest shows it on the first page run) says how old files are
    side = " ".join(c.value for c in first.sidebar.caption)
    assert re.search(
        r"\*\*Bitcoin \(BTC\)\*\* 1h · 6,000 candles · to 2023-09-07 23:00 UTC · [\d.]+ years old",
        side,
    ), side


def test_candles_far_past_the_training_window_warn_on_the_card(
    trained: Path, monkeypatch: pytest.MonkeyPatch
):
    stored = load_candles("BTCUSDT")
    later = random_walk_candles(
        24 * 60,  # 60 days of new candles after the models' data ended
        start=str(stored["open_time"].iloc[-1] + pd.Timedelta(hours=1)),
        price=float(stored["close"].iloc[-1]),
    )
    save_candles(pd.concat([stored, later], ignore_index=True), "BTCUSDT")
    pretend_now_after(load_candles("BTCUSDT"), monkeypatch)
    at = open_page("pages/signals.py")
    text = card_text(at, "BTCUSDT")
    assert "STALE" not in text  # fresh candles: a call
    warning = " ".join(w.value for w in at.warning)
    assert "The candles this signal is computed on are 2.0 months past the last candle" in warning
    assert "Retrain before trusting it." in warning


def test_signals_sort_by_confidence_puts_no_edge_last(trained: Path):
    at = open_page("pages/signals.py")
    assert card_order(at) == ["BTCUSDT", "ETHUSDT"]
    at.segmented_control[0].set_value("coin").run()
    assert card_order(at) == ["BTCUSDT", "ETHUSDT"]


def test_refresh_says_binance_cannot_be_reached_and_how_old_the_data_is(
    trained: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BINANCE_BASE_URL", "http://127.0.0.1:9")  # nothing listens on port 9
    at = open_page("pages/signals.py")
    at.button[0].click().run()
    warnings = " ".join(w.value for w in at.warning)
    assert "Binance cannot be reached for BTCUSDT, ETHUSDT" in warnings
    assert re.search(r"BTCUSDT [\d.]+ (days|months|years) old", warnings), warnings
    assert [m.label for m in at.metric] == ["Confidence", "Base rate"]  # stored data still shown


def test_refresh_from_another_source_holds_the_candles_back_and_the_card_says_so(
    trained: Path, monkeypatch: pytest.MonkeyPatch
):
    from core.data import quarantine
    from core.data.store import candle_path
    from tests.fake_binance import FakeBinance

    stored = candle_path("BTCUSDT").read_bytes()
    now = pd.Timestamp(os.environ["CRYPTOVOLT_NOW"])
    # its prices do not carry on from the planted closes; its clock is the test's "now"
    with FakeBinance(now_ms=int(now.value // 1_000_000)) as fake:
        monkeypatch.setenv("BINANCE_BASE_URL", fake.url)
        at = open_page("pages/signals.py")
        at.button[0].click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    note = next(e for e in errors if e.startswith("BTCUSDT 1h:"))
    assert "were not stored and are held in quarantine" in note
    card = next(e for e in errors if e.startswith("New candles held back: BTCUSDT 1h:"))
    assert "Choose on the **Data** page: replace the stored series" in card
    assert candle_path("BTCUSDT").read_bytes() == stored
    assert quarantine.pending("BTCUSDT", paths=env_paths()) is not None
    assert [m.label for m in at.metric] == ["Confidence", "Base rate"]  # stored data still shown
    again = open_page("pages/signals.py")  # a new session: the card still says it, from disk
    assert any(e.value.startswith("New candles held back: BTCUSDT") for e in again.error)


def test_signals_page_never_loads_tensorflow(trained: Path):
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file('streamlit_app.py', default_timeout={APP_TIMEOUT})\n"
        "at.run(); at.switch_page('pages/signals.py').run()\n"
        "assert not at.exception, at.exception\n"
        "print(len([m for m in at.metric if m.label == 'Base rate']), "
        "'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["1", "False", "False"]


def test_models_page_lists_every_version_with_its_gates_and_champion(trained: Path):
    at = open_page("pages/models.py")
    table = at.dataframe[0].value
    assert len(table) == 4
    assert not {"xgboost", "lstm"} & set(table["model"])  # kinds by their labels
    registry = ModelRegistry()
    records = registry.records()
    for row, record in zip(table.to_dict("records"), records, strict=True):
        assert (row["coin"], row["version"]) == (display_name(record.symbol), record.version)
        assert row["champion"] == record.promoted
        assert row["edge"] == ("yes" if record.gates_passed else "NO EDGE")
        assert row["gates"].startswith("passes all") == record.gates_passed
    warning = " ".join(w.value for w in at.warning)
    assert "No edge (their gates fail, so they do not vote)" in warning
    assert "Ethereum (ETH) XGBoost direction v1" in warning
    at.multiselect(key="models_types").set_value(["lstm_return"]).run()
    assert list(at.dataframe[0].value["model"]) == ["LSTM return"]


def test_models_page_shows_the_card_of_a_version(trained: Path):
    at = open_page("pages/models.py")
    at.selectbox(key="models_selected").set_value("xgb_direction_btcusdt").run()
    assert not at.exception
    record = ModelRegistry().record("xgb_direction_btcusdt", "v1")
    assert any(re.search(r"Has an edge: passes all [4-6] gates", s.value) for s in at.success)
    metrics, gates, reliability = (t.value for t in at.table[:3])
    auc = record.card.intervals["roc_auc"]
    assert metrics.loc["AUC", "test window"] == f"{record.card.metrics.roc_auc:.4g}"
    assert metrics.loc["AUC", "95% interval"] == f"{auc.low:.3g} to {auc.high:.3g}"
    assert metrics.loc["AUC", "baseline"] == "0.5"
    assert {k for keys in gates["card keys"] for k in keys.split(", ")} == set(record.card.gates)
    assert set(gates["result"]) == {"✅ pass"}
    assert record.card.calibration is not None
    assert len(reliability) == len(record.card.calibration.table)
    assert "built on the walk-forward folds, reported on the later test window" in " ".join(
        m.value for m in at.markdown
    )
    at.selectbox(key="models_selected").set_value("xgb_direction_ethusdt").run()
    warning = " ".join(w.value for w in at.warning)
    assert re.search(r"No edge: passes [0-4] of [4-6] — fails: .*lower bound", warning)
    assert "It does not vote" in warning
    assert "❌ fail" in set(at.table[1].value["result"])


def _edit_metadata(home: Path, name: str, version: str, edit) -> None:
    path = home / "models" / name / version / "metadata.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def test_models_page_names_the_skill_and_flags_numbers_it_cannot_trust(trained: Path):
    def too_good(data):  # what a deterministic fake gives: AUC 0.999, never a predicted "up"
        data["card"]["metrics"]["roc_auc"] = 0.999
        data["metrics"]["test"]["predicted_positive_rate"] = 0.0

    def no_folds(data):
        data["metrics"]["walk_forward"] = []

    _edit_metadata(trained, "xgb_direction_ethusdt", "v1", too_good)
    _edit_metadata(trained, "xgb_direction_ethusdt", "v2", no_folds)
    at = open_page("pages/models.py")
    table = at.dataframe[0].value.set_index(["coin", "model", "version"])
    skill = table["skill [95% interval]"]
    btc = skill[("Bitcoin (BTC)", "XGBoost direction", "v1")]
    assert btc.startswith("Brier skill vs the base rate +") and "no edge" not in btc
    assert skill[("Ethereum (ETH)", "XGBoost direction", "v2")].endswith(
        ": no edge (its 95% interval includes 0)"
    )
    lstm = skill[("Bitcoin (BTC)", "LSTM return", "v1")]
    assert lstm.startswith("skill vs persistence (1 - MASE)") and "no edge" in lstm
    assert (
        table["check"][("Ethereum (ETH)", "XGBoost direction", "v1")]
        == "never predicts up, suspicious"
    )
    assert table["check"][("Bitcoin (BTC)", "XGBoost direction", "v1")] == ""
    assert "AUC" not in " ".join(skill)

    at.selectbox(key="models_selected").set_value("xgb_direction_ethusdt").run()
    warnings = " ".join(w.value for w in at.warning)
    assert "It never predicts the positive class on the test window" in warnings
    assert "Test AUC 0.999 is above 0.75 on 1h candles" in warnings
    assert "suspicious: check the data source and for look-ahead" in warnings
    assert any(m.value.startswith("**Skill**: Brier skill vs the base rate") for m in at.markdown)
    assert any("Walk-forward folds" in c.proto.spec for c in at.get("plotly_chart"))
    at.radio[0].set_value(1).run()  # v2: its walk-forward was removed
    assert not any("Walk-forward folds" in c.proto.spec for c in at.get("plotly_chart"))
    assert any(c.value.startswith("No walk-forward chart") for c in at.caption)


def test_models_page_compares_promotes_and_deletes_versions(trained: Path):
    at = open_page("pages/models.py")
    at.selectbox(key="models_selected").set_value("xgb_direction_ethusdt").run()
    compare = at.dataframe[-1].value
    assert list(compare.columns[:2]) == ["v1", "v2"]
    assert compare.loc["param n_estimators"].tolist()[:3] == ["20", "30", "≠"]
    assert compare.loc["has an edge"].tolist()[:2] == ["False", "False"]
    at.radio[0].set_value(1).run()  # v2, the challenger: its gates fail
    promote = next(b for b in at.button if b.label == "Promote")
    assert promote.disabled
    assert any("Promote is off: No edge: passes" in c.value for c in at.caption)
    next(c for c in at.checkbox if c.label == "Promote anyway").check().run()
    next(b for b in at.button if b.label == "Promote").click().run()
    assert not at.exception
    assert ModelRegistry().promoted_version("xgb_direction_ethusdt") == "v2"
    at.radio[0].set_value(0).run()  # v1
    next(b for b in at.button if b.label == "Delete").click().run()  # a dialog asks first
    assert ModelRegistry().versions("xgb_direction_ethusdt") == ["v1", "v2"]
    next(b for b in at.button if b.label == "Yes, delete v1 for good").click().run()
    assert not at.exception
    assert ModelRegistry().versions("xgb_direction_ethusdt") == ["v2"]


def test_backtest_page_shows_the_core_backtest_for_both_modes(trained: Path):
    at = open_page("pages/backtest.py")
    expected = backtest_coin("BTCUSDT", ModelRegistry(), config=BacktestConfig())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Trades"] == str(expected.metrics.strategy.trades)
    assert metrics["Strategy return"] == f"{expected.metrics.strategy.total_return:.2%}"
    assert metrics["Buy and hold return"] == f"{expected.metrics.buy_and_hold.total_return:.2%}"
    at.toggle(key="backtest_long_short").set_value(True).run()
    short = backtest_coin("BTCUSDT", ModelRegistry(), config=BacktestConfig(allow_short=True))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Strategy return"] == f"{short.metrics.strategy.total_return:.2%}"
    table = at.table[0].value
    assert {"strategy", "buy and hold"} <= set(table.columns)
    assert "Sortino (annualised)" in table.index
    span = expected.equity["open_time"].iloc[-1] - expected.equity["open_time"].iloc[0]
    days = span.total_seconds() / 86_400  # the test window: 50 days
    warnings = [w.value for w in at.warning]
    assert any(w.startswith(f"The CAGR is annualised from {days:.0f} days") for w in warnings)
    # the planted series is synthetic: its Sharpe is too good to be real, and the page says so
    assert any(w.startswith("A Sharpe ratio of") and "suspicious" in w for w in warnings)


def test_auto_refresh_tops_up_at_once_then_after_each_candle_close(
    trained: Path, monkeypatch: pytest.MonkeyPatch
):
    from core.clock import next_wake

    monkeypatch.setenv("BINANCE_BASE_URL", "http://127.0.0.1:9")
    at = open_page("pages/signals.py")
    assert not at.warning
    at.toggle(key="signals_auto_refresh").set_value(True).run()
    assert "Binance cannot be reached" in " ".join(w.value for w in at.warning)
    first = at.session_state["signals_last_refresh"]
    at.run()  # a rerun before the next close does not contact Binance again
    assert at.session_state["signals_last_refresh"] == first
    wake = next_wake(first)  # 5 s after the next hourly close
    monkeypatch.setenv("CRYPTOVOLT_NOW", (wake - pd.Timedelta(seconds=1)).isoformat())
    at.run()
    assert at.session_state["signals_last_refresh"] == first
    monkeypatch.setenv("CRYPTOVOLT_NOW", wake.isoformat())
    at.run()  # the close has passed: top up again
    assert at.session_state["signals_last_refresh"] == wake
