"""AppTest: the Training page picks models by kind and says, after a job, whether each model has
an edge and whether it became the champion (on really trained, carded models)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.atomic import atomic_write_json
from core.models import kind_info, kinds
from tests.card_home import ROOT, copy_carded_into
from tests.waiting import APP_TIMEOUT

pytestmark = pytest.mark.slow


def _job(home: Path, job_id: str, symbol: str, results: list[tuple[str, str, str]]) -> None:
    atomic_write_json(
        home / "runs" / job_id / "status.json",
        {
            "job_id": job_id,
            "symbol": symbol,
            "models": [kind for kind, _, _ in results],
            "state": "succeeded",
            "created_ns": time.time_ns(),
            "started_at": "2025-06-01T10:00:00+00:00",
            "finished_at": "2025-06-01T10:01:05+00:00",
            "result": [{"name": n, "version": v, "model_type": k} for k, n, v in results],
        },
    )


def test_a_finished_job_says_per_model_whether_it_has_an_edge_and_was_promoted(home: Path):
    copy_carded_into(home)
    _job(
        home,
        "20250601-100000-btcusdt-aaaa",
        "BTCUSDT",
        [
            ("xgb_direction", "xgb_direction_btcusdt", "v1"),
            ("lstm_return", "lstm_return_btcusdt", "v1"),
        ],
    )
    _job(
        home,
        "20250601-100001-ethusdt-bbbb",
        "ETHUSDT",
        [("xgb_direction", "xgb_direction_ethusdt", "v2")],
    )
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=APP_TIMEOUT)
    at.run()
    at.switch_page("pages/training.py").run()
    assert not at.exception, at.exception
    picker = at.button_group(key="training_models")
    assert picker.options == [kind_info(k).label for k in kinds()]
    lines = [m.value for m in at.markdown]
    head = next(t for t in lines if "`20250601-100000-btcusdt-aaaa`" in t)
    assert "XGBoost direction + LSTM return" in head
    btc = next(t for t in lines if t.startswith("**xgb_direction_btcusdt** v1"))
    assert re.search(r"Has an edge: passes all [4-6] gates", btc) and "it is the champion" in btc
    lstm = next(t for t in lines if t.startswith("**lstm_return_btcusdt** v1"))
    assert "No edge: passes" in lstm and "MASE" in lstm
    assert "with no edge it does not vote" in lstm
    eth = next(t for t in lines if t.startswith("**xgb_direction_ethusdt** v2"))
    assert re.search(r"No edge: passes [0-4] of [4-6] — fails: .*lower bound", eth)
    assert "Not promoted: its gates fail; v1 stays champion." in eth
