"""The use cases the UI and the CLI share, and the words they both show."""

from __future__ import annotations

import re
from pathlib import Path

from core.registry.gates import gate_words
from core.registry.metadata import Gate, ModelCard, ModelMetadata
from core.words import verdict_words

ROOT = Path(__file__).resolve().parents[2]


def _record(gates: dict[str, Gate] | None) -> ModelMetadata:
    card = None if gates is None else ModelCard(output="probability", gates=gates)
    return ModelMetadata("xgb_direction_btcusdt", "v1", "BTCUSDT", "xgb_direction", card=card)


def test_a_failed_gate_reads_as_what_was_measured_and_what_it_needs():
    auc = Gate(0.471, 0.5, False, "AUC 95% lower bound > 0.5")
    assert gate_words(auc) == "AUC 95% lower bound is 0.471, needs > 0.5"
    vol = Gate(0.45, 0.5553, False, "AUC 95% lower bound > the ATR/close baseline's AUC")
    assert gate_words(vol).endswith("needs > the ATR/close baseline's AUC (0.555)")
    assert gate_words(Gate(None, 0.05, False, "ECE out of time <= 0.05")) == (
        "ECE out of time is not measured, needs <= 0.05"
    )


def test_the_verdict_names_every_failed_gate_or_says_it_has_an_edge():
    gates = {
        "auc": Gate(0.52, 0.5, True, "AUC 95% lower bound > 0.5"),
        "ece": Gate(0.09, 0.05, False, "ECE out of time <= 0.05"),
    }
    assert verdict_words(_record(gates)) == (
        "No edge: passes 1 of 2 — fails: calibration (calibration error 0.09, needs ≤ 0.05)."
    )
    passing = {"auc": Gate(0.52, 0.5, True, "AUC 95% lower bound > 0.5")}
    assert verdict_words(_record(passing)) == "Has an edge: passes its one gate on the test window."
    assert "trained before model cards" in verdict_words(_record(None))


def test_the_live_signal_flow_is_written_once():
    # the CLI and the Signals page both go through core.usecases.live_signals: neither records
    # in the journal, resolves it or fetches candles on its own
    for path in ("core/cli/signals.py", "ui/signals_view.py"):
        text = (ROOT / path).read_text()
        assert "live_signals(" in text, path
        for own in (r"journal\.record\(", r"journal\.resolve", r"fetch_coins\("):
            assert not re.search(own, text), (path, own)
    assert "import streamlit" not in (ROOT / "core" / "usecases.py").read_text()
