"""The ensemble rule over any set of model kinds, and its confidence measured out of time.

**Members.** Each of a coin's promoted versions is a :class:`Member`: its vote rule (what it
predicts and how that becomes up / down / abstain, see :class:`core.models.base.VoteRule`), its
saved out-of-sample predictions, and whether its card's gates passed. Only members whose gates
passed vote; a coin with none shows NO EDGE.

**The rule.** The votes of the voting members add up: BULLISH above zero, BEARISH below, NEUTRAL
at zero (all abstain, or they cancel). With ``require_agreement`` every voting member that votes
must agree. A call made at the close of candle t is judged on the move ``future_return`` over
the signal horizon: BULLISH is a hit when it is positive, BEARISH when negative, NEUTRAL when it
is within ``neutral_band``.

**Confidence out of time.** The rule is replayed on the walk-forward fold predictions (which lie
before the test window) and its hits are counted per kind of call and strength bucket; that table
is then *reported* on the later test window: per cell the hit rate there, and the calibration
error between what the table promised and what happened (``ece_out_of_time``). A cell's
confidence is its fold hit rate shrunk toward the outcome's base rate with a Beta prior worth
``prior_strength`` calls, shown with a Wilson interval and the number of calls behind it.
Strength is the mean percentile of each voting member's |edge| among the fold rows; buckets are
equal-count per kind; a bucket with fewer than ``min_support`` calls falls back to all calls of
its kind. Nothing is floored: a rule right 51% of the time says 0.51.

**No call worse than none** (DESIGN rule 11). A BULLISH or BEARISH call is shown only when its
cell's whole out-of-time record (the fold calls and the later test-window calls of that kind at
that strength) has a 95% Wilson interval lying above the base rate of the called outcome over the
same rows; :func:`withheld` says in words why a call is not shown. Passing gates is necessary,
not sufficient.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from core.config import SignalConfig
from core.models.base import VoteRule
from core.training.stats import shrunk_rate, wilson_interval

__all__ = [
    "Calibration",
    "Confidence",
    "Member",
    "SignalKind",
    "build_calibration",
    "combine_votes",
    "hits",
    "member_frame",
    "withheld",
]

#: Splits that are not the test window (walk-forward folds): the calibration is built on them.
TEST_SPLIT = "test"


class SignalKind(StrEnum):
    """A coin's call. NO_EDGE: no member passes its gates. STALE: the last closed candle is older
    than the signal horizon, so no call is made on it (see :mod:`core.signals.signal`)."""

    BULLISH = "BULLISH"
    BEARISH = "BEARISH"
    NEUTRAL = "NEUTRAL"
    NO_EDGE = "NO_EDGE"
    STALE = "STALE"


FROM_VOTE = {1: SignalKind.BULLISH, -1: SignalKind.BEARISH, 0: SignalKind.NEUTRAL}
_CALLS = (SignalKind.BULLISH, SignalKind.BEARISH, SignalKind.NEUTRAL)


@dataclass(frozen=True)
class Member:
    """One promoted version in a coin's ensemble (see the module docstring)."""

    kind: str
    name: str
    version: str
    rule: VoteRule
    output_name: str
    predictions: pd.DataFrame
    passed: bool
    reason: str = ""


def combine_votes(votes: np.ndarray, *, require_agreement: bool = False) -> np.ndarray:
    """The ensemble's direction (+1, -1, 0) per row from an ``(n, members)`` vote array."""
    votes = np.asarray(votes, dtype="int64")
    if votes.ndim == 1:
        votes = votes[:, None]
    if votes.shape[1] == 0:
        return np.zeros(len(votes), dtype="int64")
    total = np.sign(votes.sum(axis=1))
    if require_agreement:
        against = ((votes != 0) & (votes != total[:, None])).any(axis=1)
        total = np.where(against, 0, total)
    return np.asarray(total.astype("int64"))


def hits(calls: np.ndarray, future_return: np.ndarray, band: float) -> np.ndarray:
    """Whether each call (+1 / -1 / 0) was right given the move over the horizon."""
    r = np.asarray(future_return, dtype="float64")
    return np.where(calls == 1, r > 0, np.where(calls == -1, r < 0, np.abs(r) < band))


def member_frame(members: Sequence[Member]) -> pd.DataFrame:
    """The voting members' predictions joined on (open_time, split), rows all of them predicted:
    ``open_time, split, close, future_return, edge_{kind}, vote_{kind}``."""
    merged: pd.DataFrame | None = None
    for m in members:
        p = m.predictions
        part = pd.DataFrame(
            {
                "open_time": p["open_time"],
                "split": p["split"],
                f"edge_{m.kind}": m.rule.edge(p[m.output_name].to_numpy(), p["close"].to_numpy()),
            }
        )
        part[f"vote_{m.kind}"] = m.rule.votes(part[f"edge_{m.kind}"].to_numpy())
        if merged is None:
            base = p[["open_time", "split", "close"]].copy()
            base["future_return"] = p.get("future_return", np.nan)
            merged = base.merge(part, on=["open_time", "split"])
        else:
            merged = merged.merge(part, on=["open_time", "split"], how="inner")
    if merged is None:
        raise ValueError("member_frame needs at least one member")
    return merged.sort_values(["open_time", "split"]).reset_index(drop=True)


@dataclass(frozen=True)
class Confidence:
    """What the confidence table says about one call."""

    value: float | None  # shrunk hit rate (what the card and the signal show)
    hit_rate: float | None  # raw hit rate of the cell on the fold calls
    support: int
    low: float | None
    high: float | None
    bucket: int | None
    base_rate: float | None  # how often the called outcome happened anyway (fold rows)
    test_hit_rate: float | None  # the same cell on the later test window
    test_support: int
    #: The cell's whole out-of-time record (fold and test calls): hits of calls, its 95% Wilson
    #: interval and the base rate of the called outcome over the same rows.
    record_hits: int = 0
    record_support: int = 0
    record_low: float | None = None
    record_high: float | None = None
    record_base_rate: float | None = None

    @property
    def beats_base_rate(self) -> bool:
        """Whether the record's 95% interval lies above its base rate."""
        low, base = self.record_low, self.record_base_rate
        return low is not None and base is not None and low > base


def withheld(kind: SignalKind, conf: Confidence) -> str | None:
    """Why a ``kind`` call with confidence ``conf`` is not shown (None: show it).

    Only BULLISH and BEARISH are judged: ``"no call: when its models said BEARISH (at this
    strength) they were right 48.6% of 2,912 times out of time [46.8%, 50.4%], not above the
    50.1% base rate"``."""
    if kind not in (SignalKind.BULLISH, SignalKind.BEARISH) or conf.beats_base_rate:
        return None
    if not conf.record_support or conf.record_base_rate is None:
        return f"no call: its models never said {kind.value} out of time, so no record to judge"
    rate = conf.record_hits / conf.record_support
    where = "at this strength" if conf.bucket else "at any strength"
    return (
        f"no call: when its models said {kind.value} ({where}) they were right {rate:.1%} of "
        f"{conf.record_support:,} times out of time [{conf.record_low:.1%}, "
        f"{conf.record_high:.1%}], not above the {conf.record_base_rate:.1%} base rate"
    )


@dataclass(frozen=True)
class Calibration:
    """The rule's out-of-time record for one coin (see the module docstring).

    ``table``: one row per (signal, bucket) (bucket 0 = all calls of that kind) with
    ``strength_from, strength_to, support, hits, hit_rate, confidence, low, high, base_rate,
    test_support, test_hits, test_hit_rate``.
    """

    horizon: int
    neutral_band: float
    kinds: tuple[str, ...]
    edges: dict[str, np.ndarray]
    bucket_edges: dict[str, np.ndarray]
    table: pd.DataFrame
    built_rows: int
    test_rows: int
    ece_out_of_time: float | None
    min_support: int
    config: SignalConfig = field(default_factory=SignalConfig)

    def strengths(self, edges: Mapping[str, np.ndarray]) -> np.ndarray:
        """Mean percentile (0..1) of each member's |edge| among the fold rows."""
        ranks = []
        for kind in self.kinds:
            ref = self.edges.get(kind)
            if ref is None or not len(ref) or kind not in edges:
                continue
            value = _abs(edges[kind])
            ranks.append(np.searchsorted(ref, value, "right") / len(ref))
        if not ranks:
            size = len(next(iter(edges.values()))) if edges else 0
            return np.zeros(size)
        return np.asarray(np.mean(ranks, axis=0))

    def lookup(self, kind: SignalKind, strength: float) -> Confidence:
        """The confidence of a call of ``kind`` and ``strength`` (its bucket, else all calls)."""
        rows = self.table[self.table["signal"] == kind.value] if len(self.table) else self.table
        empty = Confidence(None, None, 0, None, None, None, None, None, 0)
        if rows.empty:
            return empty
        edges = self.bucket_edges.get(kind.value)
        row = None
        if edges is not None:
            bucket = int(np.searchsorted(edges, strength, "left")) + 1
            hit = rows[rows["bucket"] == bucket]
            if len(hit) and int(hit["support"].iloc[0]) >= self.min_support:
                row = hit.iloc[0]
        if row is None:
            total = rows[rows["bucket"] == 0]
            if total.empty or int(total["support"].iloc[0]) == 0:
                return empty
            row = total.iloc[0]
        return Confidence(
            value=_num(row["confidence"]),
            hit_rate=_num(row["hit_rate"]),
            support=int(row["support"]),
            low=_num(row["low"]),
            high=_num(row["high"]),
            bucket=int(row["bucket"]) or None,
            base_rate=_num(row["base_rate"]),
            test_hit_rate=_num(row["test_hit_rate"]),
            test_support=int(row["test_support"]),
            record_hits=int(row["record_hits"]),
            record_support=int(row["record_support"]),
            record_low=_num(row["record_low"]),
            record_high=_num(row["record_high"]),
            record_base_rate=_num(row["record_base_rate"]),
        )


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _abs(values: Any) -> np.ndarray:
    """|edge|, rounded so that float noise does not split equal calls apart."""
    return np.asarray(np.round(np.abs(np.asarray(values, dtype="float64")), 12))


def build_calibration(
    members: Sequence[Member], *, horizon: int, config: SignalConfig | None = None
) -> Calibration:
    """Replay the rule of the voting ``members`` on the fold rows (build) and the test rows
    (report). Rows whose outcome is unknown are left out. Raises ValueError without members."""
    config = config or SignalConfig()
    frame = member_frame(members)
    kinds = tuple(m.kind for m in members)
    votes = combine_votes(
        frame[[f"vote_{k}" for k in kinds]].to_numpy(), require_agreement=config.require_agreement
    )
    future = frame["future_return"].to_numpy(dtype="float64")
    known = np.isfinite(future)
    built = (frame["split"] != TEST_SPLIT).to_numpy() & known
    tested = (frame["split"] == TEST_SPLIT).to_numpy() & known
    edges = {k: np.sort(_abs(frame.loc[built, f"edge_{k}"])) for k in kinds}
    partial = Calibration(
        horizon, config.neutral_band, kinds, edges, {}, pd.DataFrame(), 0, 0, None, 1
    )
    strength = partial.strengths({k: frame[f"edge_{k}"].to_numpy() for k in kinds})
    right = hits(votes, future, config.neutral_band)
    rows: list[dict[str, Any]] = []
    bucket_edges: dict[str, np.ndarray] = {}
    for vote, kind in FROM_VOTE.items():
        outcome = hits(np.full(len(future), vote), future, config.neutral_band)
        base = float(outcome[built].mean()) if built.any() else math.nan
        seen = built | tested
        base_all = float(outcome[seen].mean()) if seen.any() else math.nan
        mine_b, mine_t = built & (votes == vote), tested & (votes == vote)
        rows.append(_row(kind, 0, strength, right, mine_b, mine_t, (base, base_all), config))
        if not mine_b.any():
            continue
        quantiles = np.arange(1, config.strength_buckets) / config.strength_buckets
        cut = np.unique(np.quantile(strength[mine_b], quantiles)) if len(quantiles) else quantiles
        bucket_edges[kind.value] = cut
        which = np.searchsorted(cut, strength, "left") + 1
        for b in range(1, len(cut) + 2):
            sel = which == b
            rows.append(
                _row(kind, b, strength, right, mine_b & sel, mine_t & sel, (base, base_all), config)
            )
    table = pd.DataFrame(rows)
    cal = Calibration(
        horizon=horizon,
        neutral_band=config.neutral_band,
        kinds=kinds,
        edges=edges,
        bucket_edges=bucket_edges,
        table=table,
        built_rows=int(built.sum()),
        test_rows=int(tested.sum()),
        ece_out_of_time=None,
        min_support=config.min_support,
        config=config,
    )
    ece = _ece_out_of_time(cal, votes[tested], strength[tested], right[tested])
    return Calibration(**{**cal.__dict__, "ece_out_of_time": ece})


def _ece_out_of_time(
    cal: Calibration, votes: np.ndarray, strength: np.ndarray, right: np.ndarray
) -> float | None:
    """Mean |promised confidence - what happened| over the test calls, weighted by count."""
    if not len(votes):
        return None
    promised = np.array(
        [
            cal.lookup(FROM_VOTE[int(v)], float(s)).value
            for v, s in zip(votes, strength, strict=True)
        ],
        dtype="float64",
    )
    ok = np.isfinite(promised)
    if not ok.any():
        return None
    total, n = 0.0, int(ok.sum())
    for value in np.unique(promised[ok]):
        sel = ok & (promised == value)
        total += sel.sum() / n * abs(float(right[sel].mean()) - float(value))
    return round(float(total), 6)


def _row(
    kind: SignalKind,
    bucket: int,
    strength: np.ndarray,
    right: np.ndarray,
    built: np.ndarray,
    tested: np.ndarray,
    bases: tuple[float, float],
    config: SignalConfig,
) -> dict[str, Any]:
    """One cell; ``bases``: the called outcome's base rate on the fold rows, and on the fold and
    test rows together (what the whole record is judged against)."""
    base, base_all = bases
    support, n_hits = int(built.sum()), int(right[built].sum())
    low, high = wilson_interval(n_hits, support) if support else (None, None)
    prior = base if math.isfinite(base) else 0.5
    test_n, test_hits = int(tested.sum()), int(right[tested].sum())
    record_n, record_hits = support + test_n, n_hits + test_hits
    record_low, record_high = wilson_interval(record_hits, record_n) if record_n else (None, None)
    return {
        "signal": kind.value,
        "bucket": bucket,
        "strength_from": float(strength[built].min()) if support else math.nan,
        "strength_to": float(strength[built].max()) if support else math.nan,
        "support": support,
        "hits": n_hits,
        "hit_rate": n_hits / support if support else math.nan,
        "confidence": float(
            shrunk_rate(n_hits, support, prior, prior_strength=config.prior_strength)
        )
        if config.prior_strength > 0
        else (n_hits / support if support else math.nan),
        "low": low,
        "high": high,
        "base_rate": base,
        "test_support": test_n,
        "test_hits": test_hits,
        "test_hit_rate": test_hits / test_n if test_n else math.nan,
        "record_support": record_n,
        "record_hits": record_hits,
        "record_low": record_low,
        "record_high": record_high,
        "record_base_rate": base_all,
    }
