"""AppTest of the Models, Signals and Backtest pages on a registry of really trained tiny models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import BacktestConfig
from core.data.store import load_candles
from core.registry.model_registry import ModelRegistry
from core.signals import journal
from core.signals.backtest import backtest_coin
from core.signals.live import compute_signal
from tests.trained_home import ROOT, copy_trained_into

pytestmark = pytest.mark.slow


@pytest.fixture
def trained(home: Path) -> Path:
    return copy_trained_into(home)


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def card_order(at: AppTest) -> list[str]:
    return [
        s
        for m in at.markdown
        for s in ("BTCUSDT", "ETHUSDT")
        if m.value.startswith("**") and f"`{s}`" in m.value
    ]


def test_signals_page_shows_each_coin_with_the_numbers_core_computes(trained: Path):
    at = open_page("pages/signals.py")
    confidences = [m.value for m in at.metric if m.label == "Confidence"]
    captions = " ".join(c.value for c in at.caption)
    text = " ".join(m.value for m in at.markdown)
    registry = ModelRegistry()
    for symbol in ("BTCUSDT", "ETHUSDT"):
        signal = compute_signal(symbol, registry, load_candles(symbol))
        assert f"{signal.confidence:.0%}" in confidences
        assert f"rests on {signal.support:,} out-of-sample calls" in captions
        assert f"{signal.price:,.6g}" in text
        assert signal.signal.value in text
    assert "LSTM next close" in text and "XGBoost P(+1% in 6 candles)" in text
    assert "xgboost_ethusdt v2" in captions and "lstm_btcusdt v1" in captions
    recorded = journal.entries()
    assert sorted(recorded["symbol"]) == ["BTCUSDT", "ETHUSDT"]
    assert set(recorded["source"]) == {"app"}
    at.run()  # showing the same signals again does not record them twice
    assert len(journal.entries()) == 2


def test_signals_sort_by_confidence_puts_the_most_confident_first(trained: Path):
    registry = ModelRegistry()
    confidence = {
        s: compute_signal(s, registry, load_candles(s)).confidence for s in ("BTCUSDT", "ETHUSDT")
    }
    at = open_page("pages/signals.py")
    assert card_order(at) == sorted(confidence, key=lambda s: -confidence[s])
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
    assert "BTCUSDT" in warnings and "days old" in warnings
    assert len([m for m in at.metric if m.label == "Confidence"]) == 2  # stored data still shown


def test_signals_page_never_loads_tensorflow(trained: Path):
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('streamlit_app.py', default_timeout=60)\n"
        "at.run(); at.switch_page('pages/signals.py').run()\n"
        "assert not at.exception, at.exception\n"
        "print(len([m for m in at.metric if m.label == 'Confidence']), "
        "'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["2", "False", "False"]


def test_models_page_lists_every_version_beside_its_baseline(trained: Path):
    at = open_page("pages/models.py")
    table = at.dataframe[0].value
    assert len(table) == 4
    registry = ModelRegistry()
    for row in table.to_dict("records"):
        meta = registry.get_metadata(f"{row['type']}_{row['coin'].lower()}", row["version"])
        metrics = meta["metrics"]
        assert row["beats baseline"] == ("yes" if metrics["skill"] > 0 else "NO")
        expected = 0.5 if row["type"] == "xgboost" else metrics["baseline"]["mae"]
        assert row["baseline"] == pytest.approx(expected)
    at.multiselect(key="models_types").set_value(["lstm"]).run()
    assert list(at.dataframe[0].value["type"]) == ["lstm"]


def test_models_page_compares_promotes_and_deletes_versions(trained: Path):
    at = open_page("pages/models.py")
    at.selectbox(key="models_selected").set_value("xgboost_ethusdt").run()
    compare = at.dataframe[-1].value
    assert list(compare.columns[:2]) == ["v1", "v2"]
    assert compare.loc["param n_estimators"].tolist()[:3] == ["15", "25", "≠"]
    at.radio[0].set_value(0).run()  # v1
    next(b for b in at.button if b.label == "Promote").click().run()
    assert not at.exception
    assert ModelRegistry().promoted_version("xgboost_ethusdt") == "v1"
    at.checkbox[0].check().run()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert ModelRegistry().versions("xgboost_ethusdt") == ["v2"]


def test_backtest_page_shows_the_core_backtest_for_both_modes(trained: Path):
    at = open_page("pages/backtest.py")
    expected = backtest_coin("BTCUSDT", ModelRegistry(), config=BacktestConfig())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Trades"] == str(expected.metrics["strategy"]["trades"])
    assert metrics["Strategy return"] == f"{expected.metrics['strategy']['total_return']:.2%}"
    assert (
        metrics["Buy and hold return"] == f"{expected.metrics['buy_and_hold']['total_return']:.2%}"
    )
    at.toggle(key="backtest_long_short").set_value(True).run()
    short = backtest_coin("BTCUSDT", ModelRegistry(), config=BacktestConfig(allow_short=True))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Strategy return"] == f"{short.metrics['strategy']['total_return']:.2%}"
    table = at.table[0].value
    assert list(table.columns) == ["strategy", "buy and hold"]
    assert "Sortino (annualised)" in table.index


def test_auto_refresh_tops_up_at_once_then_every_five_minutes(
    trained: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BINANCE_BASE_URL", "http://127.0.0.1:9")
    at = open_page("pages/signals.py")
    assert not at.warning
    at.toggle(key="signals_auto_refresh").set_value(True).run()
    assert "Binance cannot be reached" in " ".join(w.value for w in at.warning)
    first = at.session_state["signals_last_refresh"]
    at.run()  # a rerun within five minutes does not contact Binance again
    assert at.session_state["signals_last_refresh"] == first
