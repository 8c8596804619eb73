"""The ensemble rule and its out-of-time confidence, on hand-made out-of-sample prediction frames.

Each member's frame has what the trainer writes: ``open_time, split, close, <output>,
future_return`` (the move over the signal horizon, what a call is judged on), with ``fold*`` rows
(the walk-forward folds, where the confidence table is built) and ``test`` rows (the later window
it is reported on).
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.config import SignalConfig
from core.errors import ConfigError
from core.models.base import Output, VoteRule
from core.registry.metadata import Gate, ModelCard, ModelMetadata
from core.registry.model_registry import ModelRegistry
from core.signals.ensemble import (
    Member,
    SignalKind,
    build_calibration,
    combine_votes,
    hits,
    member_frame,
)
from core.signals.live import CoinModels, Loaded, load_coin_models, signal_from_models

START = pd.Timestamp("2025-01-01", tz="UTC")
HOUR = pd.Timedelta(hours=1)
UP, DOWN = 0.004, -0.004  # a move over the horizon: a hit for BULLISH / BEARISH
RETURN_RULE = VoteRule(Output.RETURN, margin=0.001)
EXACT = SignalConfig(strength_buckets=1, min_support=1, prior_strength=0)

#: (output column, vote rule) of the kinds the tests use.
KINDS = {
    "lstm_return": ("forecast_return", RETURN_RULE),
    "xgb_direction": ("probability", VoteRule(Output.PROBABILITY, 0.02, reference=0.5)),
    "lstm": ("forecast", VoteRule(Output.PRICE, 0.001)),
    "xgboost": ("probability", VoteRule(Output.PROBABILITY, 0.05, reference=0.25, up_only=True)),
}


def outcomes(ups: int, downs: int, seed: int = 0) -> np.ndarray:
    """``ups`` rising and ``downs`` falling horizon moves, shuffled."""
    moves = np.array([UP] * ups + [DOWN] * downs)
    np.random.default_rng(seed).shuffle(moves)
    return moves


def frame(output, future_return, split="fold1", *, column="forecast_return", start=0):
    """A member's prediction rows, one per hour from ``START + start`` hours."""
    future = np.asarray(future_return, dtype="float64")
    n = len(future)
    return pd.DataFrame(
        {
            "open_time": START + HOUR * (start + np.arange(n)),
            "split": split,
            "close": 100.0,
            column: np.broadcast_to(np.asarray(output, dtype="float64"), (n,)),
            "actual": np.nan,
            "future_return": future,
        }
    )


def member(
    predictions: pd.DataFrame, kind="lstm_return", *, rule=None, passed=True, reason=""
) -> Member:
    column, default = KINDS.get(kind, ("forecast_return", RETURN_RULE))
    return Member(
        kind=kind,
        name=f"{kind}_btcusdt",
        version="v1",
        rule=rule or default,
        output_name=column,
        predictions=predictions,
        passed=passed,
        reason=reason or ("votes: its gates pass" if passed else "no edge: auc 0.49 fails"),
    )


def folds_then_test(output, fold_future, test_future, column="forecast_return") -> pd.DataFrame:
    fold = frame(output, fold_future, "fold1", column=column)
    test = frame(output, test_future, "test", column=column, start=len(fold))
    return pd.concat([fold, test], ignore_index=True)


# ---- the confidence table ------------------------------------------------------------------


def test_a_rule_right_51_percent_of_the_time_says_51_percent_exactly_without_a_prior():
    # 100 fold rows, 51 up and 49 down; the forecaster always says up → 100 BULLISH calls.
    cal = build_calibration([member(frame(0.005, outcomes(51, 49)))], horizon=6, config=EXACT)
    conf = cal.lookup(SignalKind.BULLISH, 0.5)
    assert conf.value == pytest.approx(0.51) and conf.hit_rate == pytest.approx(0.51)
    assert conf.support == 100 and cal.built_rows == 100 and cal.test_rows == 0
    assert conf.low < 0.51 < conf.high  # Wilson interval around it
    assert conf.base_rate == pytest.approx(0.51)  # every row rose or fell: base rate = hit rate


def test_a_rule_right_51_percent_is_shrunk_toward_the_base_rate_by_the_default_prior():
    # 100 BULLISH calls (51 rise) and 100 rows where the forecaster abstains (39 rise): the
    # base rate of "rises" on the fold rows is 90 / 200 = 0.45.
    calls = frame(0.005, outcomes(51, 49), start=0)
    quiet = frame(0.0, outcomes(39, 61, seed=1), start=100)
    predictions = pd.concat([calls, quiet], ignore_index=True)
    config = SignalConfig(strength_buckets=1, min_support=1)  # default prior: 20 calls
    assert config.prior_strength == 20
    conf = build_calibration([member(predictions)], horizon=6, config=config).lookup(
        SignalKind.BULLISH, 0.9
    )
    assert conf.hit_rate == pytest.approx(0.51) and conf.support == 100
    assert conf.base_rate == pytest.approx(0.45)
    assert conf.value == pytest.approx((51 + 20 * 0.45) / (100 + 20))  # 0.50
    assert 0.45 < conf.value < 0.51
    # with ten times the calls the prior hardly matters: a 51% rule says about 51%
    many = frame(0.005, outcomes(510, 490))
    big = build_calibration([member(many)], horizon=6, config=config)
    assert big.lookup(SignalKind.BULLISH, 0.5).value == pytest.approx(0.51, abs=0.001)


def test_confidence_below_half_is_reported_as_is():
    cal = build_calibration([member(frame(0.005, outcomes(30, 70)))], horizon=6, config=EXACT)
    conf = cal.lookup(SignalKind.BULLISH, 0.5)
    assert conf.value == pytest.approx(0.30) and conf.support == 100


def test_confidence_is_built_on_the_folds_and_only_reported_on_the_test_window():
    fold = outcomes(60, 40)
    good = build_calibration(
        [member(folds_then_test(0.005, fold, outcomes(35, 15, seed=2)))], horizon=6, config=EXACT
    )
    bad = build_calibration(
        [member(folds_then_test(0.005, fold, outcomes(10, 40, seed=3)))], horizon=6, config=EXACT
    )
    columns = ["signal", "bucket", "support", "hits", "hit_rate", "confidence", "low", "high"]
    pd.testing.assert_frame_equal(good.table[columns], bad.table[columns])
    g, b = good.lookup(SignalKind.BULLISH, 0.5), bad.lookup(SignalKind.BULLISH, 0.5)
    assert g.value == b.value == pytest.approx(0.60) and g.support == b.support == 100
    assert g.test_support == b.test_support == 50
    assert g.test_hit_rate == pytest.approx(0.70) and b.test_hit_rate == pytest.approx(0.20)
    assert good.built_rows == 100 and good.test_rows == 50
    # changing the fold rows does change the confidence
    other = build_calibration(
        [member(folds_then_test(0.005, outcomes(45, 55), outcomes(35, 15, seed=2)))],
        horizon=6,
        config=EXACT,
    )
    assert other.lookup(SignalKind.BULLISH, 0.5).value == pytest.approx(0.45)


def test_ece_out_of_time_compares_the_promise_with_the_test_window():
    # promised 0.51 (fold hit rate, no prior); the test window's calls were right 70% of the time
    predictions = folds_then_test(0.005, outcomes(51, 49), outcomes(35, 15, seed=4))
    cal = build_calibration([member(predictions)], horizon=6, config=EXACT)
    assert cal.ece_out_of_time == pytest.approx(abs(0.70 - 0.51))
    # two kinds of calls in each window, weighted by their count in the test window
    both = pd.concat(
        [
            frame(0.005, outcomes(51, 49), "fold1", start=0),  # BULLISH right 51%
            frame(-0.005, outcomes(40, 60), "fold1", start=100),  # BEARISH right 60%
            frame(0.005, outcomes(35, 15, seed=4), "test", start=200),  # then 70%
            frame(-0.005, outcomes(30, 20, seed=5), "test", start=250),  # then 40%
        ],
        ignore_index=True,
    )
    cal2 = build_calibration([member(both)], horizon=6, config=EXACT)
    bull = cal2.lookup(SignalKind.BULLISH, 0.5)
    bear = cal2.lookup(SignalKind.BEARISH, 0.5)
    assert bull.value == pytest.approx(0.51) and bear.value == pytest.approx(0.60)
    assert bull.test_hit_rate == pytest.approx(0.70) and bear.test_hit_rate == pytest.approx(0.40)
    assert cal2.ece_out_of_time == pytest.approx(0.5 * 0.19 + 0.5 * 0.20)
    # no test rows: nothing to report the table on
    alone = build_calibration([member(frame(0.005, outcomes(51, 49)))], horizon=6, config=EXACT)
    assert alone.ece_out_of_time is None


def _weak_and_strong(n: int = 120) -> pd.DataFrame:
    """Weak forecasts (+0.2%) are followed by a fall, strong ones (+2%) by a rise."""
    forecast = np.where(np.arange(n) % 2 == 0, 0.002, 0.02)
    return frame(forecast, np.where(forecast == 0.002, DOWN, UP))


def test_stronger_calls_are_calibrated_on_their_own_bucket():
    config = SignalConfig(strength_buckets=2, min_support=10, prior_strength=0)
    cal = build_calibration([member(_weak_and_strong())], horizon=6, config=config)
    weak_s, strong_s = cal.strengths({"lstm_return": np.array([0.002, 0.02])})
    assert weak_s < strong_s
    weak = cal.lookup(SignalKind.BULLISH, weak_s)
    strong = cal.lookup(SignalKind.BULLISH, strong_s)
    assert weak.value == pytest.approx(0.0) and strong.value == pytest.approx(1.0)
    assert weak.support == 60 and strong.support == 60  # support counts per bucket
    assert weak.bucket == 1 and strong.bucket == 2
    overall = cal.table.query("signal == 'BULLISH' and bucket == 0").iloc[0]
    assert overall["support"] == 120 and overall["hits"] == 60
    # the default prior pulls both toward the base rate (0.5) but keeps them apart
    shrunk = build_calibration(
        [member(_weak_and_strong())], horizon=6, config=SignalConfig(strength_buckets=2)
    )
    low, high = (shrunk.lookup(SignalKind.BULLISH, s).value for s in (weak_s, strong_s))
    assert low == pytest.approx(10 / 80) and high == pytest.approx(70 / 80)


def test_thin_bucket_falls_back_to_all_calls_of_that_kind():
    config = SignalConfig(strength_buckets=2, min_support=100, prior_strength=0)
    cal = build_calibration([member(_weak_and_strong())], horizon=6, config=config)
    conf = cal.lookup(SignalKind.BULLISH, cal.strengths({"lstm_return": np.array([0.02])})[0])
    assert conf.bucket is None and conf.support == 120
    assert conf.value == pytest.approx(0.5)


def test_a_kind_never_called_out_of_sample_has_no_confidence():
    cal = build_calibration([member(frame(0.005, outcomes(50, 0)))], horizon=6)
    conf = cal.lookup(SignalKind.BEARISH, 0.9)
    assert conf.value is None and conf.support == 0 and conf.bucket is None


def test_calls_are_judged_on_the_horizon_move_and_unknown_outcomes_are_left_out():
    assert hits(
        np.array([1, 1, -1, -1, 0, 0]), np.array([0.01, -0.01, -0.01, 0.01, 0.005, 0.02]), 0.01
    ).tolist() == [True, False, True, False, True, False]
    future = outcomes(51, 49).astype("float64")
    future = np.append(future, [np.nan] * 6)  # the last horizon's outcome is not known yet
    cal = build_calibration([member(frame(0.005, future))], horizon=6, config=EXACT)
    assert cal.built_rows == 100 and cal.lookup(SignalKind.BULLISH, 0.5).support == 100


def test_a_probability_votes_against_its_base_rate_not_one_half():
    n = 60
    probs = np.where(np.arange(n) % 3 == 0, 0.40, np.where(np.arange(n) % 3 == 1, 0.22, 0.05))
    predictions = frame(probs, outcomes(30, 30), column="probability")
    two_sided = VoteRule(Output.PROBABILITY, margin=0.05, reference=0.22)
    cal = build_calibration([member(predictions, "xgb_direction", rule=two_sided)], horizon=6)
    counts = cal.table.query("bucket == 0").set_index("signal")["support"]
    # 0.40 is bullish (above 0.22 + 0.05), 0.22 abstains, 0.05 is bearish
    assert counts["BULLISH"] == 20 and counts["NEUTRAL"] == 20 and counts["BEARISH"] == 20
    # a one-sided event ("+1% within 6 h") never votes down: a low chance of a rise is "quiet"
    up_only = VoteRule(Output.PROBABILITY, margin=0.05, reference=0.22, up_only=True)
    cal = build_calibration([member(predictions, "xgboost", rule=up_only)], horizon=6)
    counts = cal.table.query("bucket == 0").set_index("signal")["support"]
    assert counts["BULLISH"] == 20 and counts["NEUTRAL"] == 40 and counts["BEARISH"] == 0


def test_members_merge_on_time_and_contradiction_is_neutral():
    moves = np.full(60, 0.001)
    up = member(frame(0.01, moves), "lstm_return")
    down = member(frame(0.40, moves, column="probability")[5:], "xgb_direction")  # 5 rows fewer
    merged = member_frame([up, down])
    assert len(merged) == 55
    assert {"edge_lstm_return", "vote_lstm_return", "vote_xgb_direction"} <= set(merged)
    assert merged["open_time"].min() == START + 5 * HOUR
    cal = build_calibration([up, down], horizon=6, config=EXACT)
    table = cal.table.query("bucket == 0").set_index("signal")
    assert table.loc["BULLISH", "support"] == 0 and table.loc["BEARISH", "support"] == 0
    # NEUTRAL is a hit when the close moved less than the band (1%): every 0.1% move is
    assert table.loc["NEUTRAL", "support"] == 55
    assert table.loc["NEUTRAL", "hit_rate"] == pytest.approx(1.0)


def test_combine_votes_rules():
    two = np.array([[1, 1], [1, 0], [0, 0], [-1, 1], [0, -1], [1, -1]])
    assert combine_votes(two).tolist() == [1, 1, 0, 0, -1, 0]
    # an abstention does not break agreement; a vote the other way does
    assert combine_votes(two, require_agreement=True).tolist() == [1, 1, 0, 0, -1, 0]
    three = np.array([[1, 1, -1], [-1, -1, 1], [1, 1, 0], [-1, 0, 0]])
    assert combine_votes(three).tolist() == [1, -1, 1, -1]
    assert combine_votes(three, require_agreement=True).tolist() == [0, 0, 1, -1]
    assert combine_votes(np.array([1, -1, 0])).tolist() == [1, -1, 0]  # one member
    assert combine_votes(np.zeros((4, 0))).tolist() == [0, 0, 0, 0]  # no voting member


def test_require_agreement_turns_a_majority_against_one_into_neutral():
    moves = outcomes(30, 30)
    ups = [
        member(frame(0.01, moves), "lstm_return"),
        member(frame(0.6, moves, column="probability"), "xgb_direction"),
    ]
    against = member(frame(99.0, moves, column="forecast"), "lstm")  # forecast below the close
    majority = build_calibration([*ups, against], horizon=6, config=EXACT)
    agreed = build_calibration(
        [*ups, against], horizon=6, config=SignalConfig(require_agreement=True, **_exact())
    )
    assert count(majority, "BULLISH") == 60 and count(majority, "NEUTRAL") == 0
    assert count(agreed, "BULLISH") == 0 and count(agreed, "NEUTRAL") == 60


def _exact() -> dict:
    return {"strength_buckets": 1, "min_support": 1, "prior_strength": 0}


def count(cal, signal: str) -> int:
    """Fold calls of one kind (all strengths)."""
    return int(cal.table.query(f"bucket == 0 and signal == '{signal}'")["support"].iloc[0])


def test_bad_signal_settings_are_refused():
    for bad in (
        {"probability_margin": 0.7},
        {"direction_margin": 0.5},
        {"min_return": -0.1},
        {"horizon": 0},
        {"prior_strength": -1},
        {"strength_buckets": 0},
        {"neutral_band": 0},
    ):
        with pytest.raises(ConfigError):
            SignalConfig(**bad)


# ---- live signals ------------------------------------------------------------------------


class FixedModel:
    """A stand-in model object that always predicts the same value."""

    def __init__(self, value: float) -> None:
        self.value = value

    def predict_latest(self, candles: pd.DataFrame, *, context=None) -> float:
        return self.value


def candles_for(n: int, price: float = 100.0) -> pd.DataFrame:
    return pd.DataFrame({"open_time": START + HOUR * np.arange(n), "close": np.full(n, price)})


def fresh(n: int) -> pd.Timestamp:
    """A ``now`` one hour after the last of :func:`candles_for` ``(n)`` closed: not stale."""
    return START + HOUR * (n + 1)


def record(m: Member) -> ModelMetadata:
    return ModelMetadata(
        name=m.name,
        version=m.version,
        symbol="BTCUSDT",
        model_type=m.kind,
        interval="1h",
        target={"horizon": 6, "signal_horizon": 6},
        vote=m.rule,
    )


def bundle(members: list[tuple[Member, float]], config: SignalConfig) -> CoinModels:
    voting = [m for m, _ in members if m.passed]
    cal = build_calibration(voting, horizon=6, config=config) if voting else None
    return CoinModels(
        symbol="BTCUSDT",
        timeframe="1h",
        loaded=tuple(Loaded(m, FixedModel(value), record(m)) for m, value in members),
        calibration=cal,
        config=config,
        horizon=6,
    )


#: (kind, output in the fold rows, live output) of a member that says "up".
UP_CALLS = {
    "lstm_return": (0.01, 0.01),
    "xgb_direction": (0.6, 0.6),
    "lstm": (101.0, 101.0),
}
#: An output on which each kind abstains.
QUIET = {"lstm_return": 0.0, "xgb_direction": 0.5, "lstm": 100.0}


def called_and_quiet(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(outputs, moves): 60 "up" calls of which 50 rose, then 60 quiet rows of which 10 rose, so
    the calls beat the 50% base rate of "rises"."""
    outputs = np.r_[np.full(60, UP_CALLS[kind][0]), np.full(60, QUIET[kind])]
    moves = np.r_[outcomes(50, 10, seed=3), outcomes(10, 50, seed=4)]
    return outputs, moves


@pytest.mark.parametrize(
    "kinds", [("xgb_direction",), ("lstm_return",), ("xgb_direction", "lstm_return", "lstm")]
)
def test_live_signal_carries_its_evidence_for_any_set_of_kinds(kinds):
    # 60 BULLISH calls (50 rose) and 60 rows where every member abstains (10 rose)
    members = [
        (member(frame(*called_and_quiet(k), column=KINDS[k][0]), k), UP_CALLS[k][1]) for k in kinds
    ]
    config = SignalConfig(strength_buckets=1, min_support=1)
    signal = signal_from_models(bundle(members, config), candles_for(100), now=fresh(100))
    assert signal.signal is SignalKind.BULLISH and signal.reason is None
    assert signal.confidence == pytest.approx((50 + 20 * 0.5) / 80)  # 50 of 60, shrunk to 1/2
    assert signal.support == 60 and signal.base_rate == pytest.approx(0.5)
    low, high = signal.interval
    assert 0.5 < low < 50 / 60 < high
    assert signal.price == pytest.approx(100.0) and signal.timeframe == "1h"
    assert signal.candle_time == START + HOUR * 99
    assert [v.kind for v in signal.votes] == list(kinds)
    assert all(v.vote is SignalKind.BULLISH and v.passed for v in signal.votes)
    assert signal.gates_passed == {f"{k}_btcusdt": True for k in kinds}
    payload = json.loads(json.dumps(signal.to_dict()))
    for key in (
        "symbol",
        "signal",
        "reason",
        "confidence",
        "interval",
        "support",
        "base_rate",
        "test_hit_rate",
        "ece_out_of_time",
        "timeframe",
        "candle_time",
        "gates_passed",
        "models",
        "votes",
    ):
        assert key in payload, key
    assert payload["signal"] == "BULLISH" and len(payload["votes"]) == len(kinds)
    assert payload["votes"][0]["gates_passed"] is True


def test_a_member_whose_gates_failed_is_shown_but_does_not_vote():
    outputs, moves = called_and_quiet("lstm_return")
    good = member(frame(outputs, moves), "lstm_return")
    bad = member(
        frame(0.1, moves, column="probability"),
        "xgb_direction",
        passed=False,
        reason="no edge: auc 0.49 fails 'AUC 95% lower bound > 0.5'",
    )
    # the failing member would say BEARISH (0.1 is far below 0.5); it must not count
    signal = signal_from_models(
        bundle([(good, 0.01), (bad, 0.1)], EXACT), candles_for(100), now=fresh(100)
    )
    assert signal.signal is SignalKind.BULLISH
    votes = {v.kind: v for v in signal.votes}
    assert votes["lstm_return"].vote is SignalKind.BULLISH
    assert votes["xgb_direction"].vote is None and not votes["xgb_direction"].passed
    assert "auc 0.49" in votes["xgb_direction"].reason
    assert signal.gates_passed == {"lstm_return_btcusdt": True, "xgb_direction_btcusdt": False}


def test_a_coin_whose_members_all_failed_their_gates_shows_no_edge_with_the_reason():
    moves = np.tile([UP, DOWN], 40)
    failed = [
        (
            member(
                frame(0.02, moves),
                "lstm_return",
                passed=False,
                reason="no edge: mase 1.01 fails 'MASE < 1'",
            ),
            0.02,
        ),
        (
            member(
                frame(0.9, moves, column="probability"),
                "xgb_direction",
                passed=False,
                reason="no edge: auc 0.5 fails 'AUC > 0.5'",
            ),
            0.9,
        ),
    ]
    models = bundle(failed, SignalConfig())
    assert models.calibration is None and models.voting == ()
    signal = signal_from_models(models, candles_for(100), now=fresh(100))
    assert signal.signal is SignalKind.NO_EDGE
    assert signal.confidence is None and signal.support == 0 and signal.base_rate is None
    assert "mase 1.01" in signal.reason and "auc 0.5" in signal.reason
    assert all(v.vote is None for v in signal.votes)
    assert "no call" in signal.meaning
    payload = json.loads(json.dumps(signal.to_dict()))
    assert payload["signal"] == "NO_EDGE" and payload["reason"] == signal.reason
    assert payload["gates_passed"] == {"lstm_return_btcusdt": False, "xgb_direction_btcusdt": False}


class JsonModel:
    def save(self, directory):
        (directory / "weights.json").write_text("{}")
        return ["weights.json"]


def _card(passed: bool) -> dict:
    gate = Gate(0.55 if passed else 0.49, 0.5, passed, "AUC 95% lower bound > 0.5")
    return ModelCard(Output.PROBABILITY.value, gates={"auc": gate}).to_dict()


def test_load_coin_models_reads_cards_from_the_registry_and_only_passing_members_vote():
    registry = ModelRegistry()
    moves = np.tile([UP, DOWN], 40)
    for kind, passed in (("xgb_direction", False), ("xgboost", False)):
        meta = {
            "symbol": "BTCUSDT",
            "model_type": kind,
            "interval": "1h",
            "target": {"horizon": 6, "signal_horizon": 6},
            "vote": VoteRule(Output.PROBABILITY, 0.02, 0.5).to_dict(),
            "card": _card(passed),
        }
        registry.save(
            JsonModel(),
            ModelMetadata.from_dict(meta),
            predictions=frame(0.9, moves, column="probability"),
        )
    models = load_coin_models("BTC", registry, loader=lambda name, version: FixedModel(0.9))
    assert [x.member.kind for x in models.loaded] == ["xgb_direction", "xgboost"]
    assert models.calibration is None and models.horizon == 6
    signal = signal_from_models(models, candles_for(100), now=fresh(100))
    assert (
        signal.signal is SignalKind.NO_EDGE
        and "beats a coin flip (lower bound 0.49" in signal.reason
    )

    # a passing version of one kind: it votes, and its confidence comes from its fold rows
    meta["model_type"], meta["card"] = "xgb_direction", _card(True)
    outputs, moves = called_and_quiet("xgb_direction")
    registry.save(
        JsonModel(),
        ModelMetadata.from_dict(meta),
        predictions=frame(outputs, moves, column="probability"),
    )
    models = load_coin_models("BTC", registry, loader=lambda name, version: FixedModel(0.9))
    assert [x.member.name for x in models.voting] == ["xgb_direction_btcusdt"]
    signal = signal_from_models(models, candles_for(100), now=fresh(100))
    assert signal.signal is SignalKind.BULLISH and signal.support == 60
    assert signal.gates_passed == {"xgb_direction_btcusdt": True, "xgboost_btcusdt": False}


# ---- no call worse than none (DESIGN rule 11) ------------------------------------------------


def eth_like(test_falls: int) -> CoinModels:
    """The ETH case of issue 19, rebuilt: a direction model whose gates pass (it votes) and whose
    BEARISH calls were right 480 of 1,000 times on its folds (base rate of "falls" there 490 of
    1,000 + 1,000 rows) and ``test_falls`` of 781 times on its test window."""
    calls, quiet = 1000, 1000
    fold_out = np.r_[np.full(calls, 0.45), np.full(quiet, 0.5)]
    fold_moves = np.r_[outcomes(calls - 480, 480, seed=5), outcomes(quiet - 500, 500, seed=6)]
    test_moves = outcomes(781 - test_falls, test_falls, seed=7)
    predictions = pd.concat(
        [
            frame(fold_out, fold_moves, "fold1", column="probability"),
            frame(0.45, test_moves, "test", column="probability", start=calls + quiet),
        ],
        ignore_index=True,
    )
    m = member(predictions, "xgb_direction")
    return bundle([(m, 0.45)], SignalConfig())


def test_a_passing_model_whose_calls_were_right_less_often_than_the_base_rate_makes_no_call():
    models = eth_like(test_falls=383)  # right 49% of 781 times on the test window
    assert [x.member.passed for x in models.loaded] == [True]  # its gates pass: it votes
    signal = signal_from_models(models, candles_for(100), now=fresh(100))
    assert signal.signal is SignalKind.NO_EDGE
    assert signal.confidence is None and signal.support == 0
    assert signal.reason.startswith("no call: when its models said BEARISH")
    assert "right 48.5% of 1,781 times out of time" in signal.reason  # (480 + 383) / 1,781
    assert "not above the 49.0% base rate" in signal.reason  # (480 + 500 + 383) / 2,781
    assert "not above the" in signal.reason and "base rate" in signal.reason
    assert signal.votes[0].vote is SignalKind.BEARISH  # the member's vote is still shown
    assert json.loads(json.dumps(signal.to_dict()))["signal"] == "NO_EDGE"


def test_a_call_whose_record_lies_above_its_base_rate_is_shown():
    models = eth_like(test_falls=383)
    # the same model, had its BEARISH calls been right 600 of 1,000 times on the folds
    p = models.loaded[0].member.predictions.copy()
    fold_calls = (p["split"] == "fold1") & (p["probability"] == 0.45)
    p.loc[fold_calls, "future_return"] = outcomes(400, 600, seed=8)
    p.loc[p["split"] == "test", "future_return"] = outcomes(331, 450, seed=9)
    m = replace(models.loaded[0].member, predictions=p)
    signal = signal_from_models(
        bundle([(m, 0.45)], SignalConfig()), candles_for(100), now=fresh(100)
    )
    assert signal.signal is SignalKind.BEARISH and signal.reason is None
    assert signal.confidence > signal.base_rate


# ---- many tests, some passes by chance (DESIGN rule 12) -----------------------------------


def _direction_card(point: float, low: float, high: float) -> dict:
    """A probability card whose AUC and direction AUC share one interval; it passes alone
    when ``low > 0.5``."""
    interval = {"point": point, "low": low, "high": high}
    gate = Gate(low, 0.5, low > 0.5, "AUC 95% lower bound > 0.5")
    return ModelCard(
        Output.PROBABILITY.value,
        intervals={"roc_auc": interval, "direction_auc": interval},
        gates={"auc": gate},
    ).to_dict()


def _register(registry: ModelRegistry, coin: str, card: dict) -> None:
    outputs, moves = called_and_quiet("xgb_direction")
    meta = {
        "symbol": f"{coin}USDT",
        "model_type": "xgb_direction",
        "interval": "1h",
        "target": {"horizon": 6, "signal_horizon": 6},
        "vote": VoteRule(Output.PROBABILITY, 0.02, 0.5).to_dict(),
        "card": card,
    }
    registry.save(
        JsonModel(),
        ModelMetadata.from_dict(meta),
        predictions=frame(outputs, moves, column="probability"),
    )


def test_a_marginal_pass_alone_does_not_vote_once_nine_more_coins_are_tested_with_it():
    registry = ModelRegistry()
    load = lambda coin: load_coin_models(  # noqa: E731
        coin, registry, loader=lambda name, version: FixedModel(0.6)
    )
    # alone: AUC 0.54 [0.505, 0.575], one-sided p about 0.013 < 0.025 → it votes
    _register(registry, "BTC", _direction_card(0.54, 0.505, 0.575))
    assert [x.member.name for x in load("BTC").voting] == ["xgb_direction_btcusdt"]
    # joined by a strong model (AUC 0.60 [0.56, 0.64], p about 5e-7) and eight flat ones
    _register(registry, "ETH", _direction_card(0.60, 0.56, 0.64))
    for coin in ("BNB", "SOL", "XRP", "ADA", "DOGE", "AVAX", "DOT", "LINK"):
        _register(registry, coin, _direction_card(0.50, 0.465, 0.535))
    btc = load("BTC")
    assert btc.voting == () and btc.calibration is None
    why = btc.loaded[0].member.reason
    assert "passes alone" in why and "not after accounting for 10 tests (Holm)" in why
    signal = signal_from_models(btc, candles_for(100), now=fresh(100))
    assert signal.signal is SignalKind.NO_EDGE and "10 tests (Holm)" in signal.reason
    # the strong one survives the family: 5e-7 <= 0.025 / 10; the marginal 0.013 > 0.025 / 9
    eth = load("ETH")
    assert [x.member.name for x in eth.voting] == ["xgb_direction_ethusdt"]
    assert signal_from_models(eth, candles_for(100), now=fresh(100)).signal is SignalKind.BULLISH
