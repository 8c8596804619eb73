"""A fitted volatility forecaster: per horizon, the estimator, the band state and its gates.

It is what the trainer registers (``volatility.json`` in the version folder, nothing pickled)
and what the signals read to show a coin's expected move: :meth:`VolatilityModel.expected_move`
forecasts the next 6 h / 24 h variance from the latest closed candle and turns it into
50/80/90% bands of the fractional return, the volatility regime (the forecast's percentile within
the coin's last year of forecasts) and a position size for a volatility target.

The model shipped is the one the card describes (fit on the training rows, level set and bands
calibrated before the test window, bands carried through the test window by ACI); it is not
refit on the test window, so the card's numbers are this model's numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.config import Paths
from core.errors import InsufficientDataError, ModelError
from core.volatility.bands import BandState
from core.volatility.estimators import load_estimator
from core.volatility.evaluate import VolEvaluation
from core.volatility.features import build_frame, sequence_length

__all__ = [
    "MODEL_FILE",
    "POSITION_CAP",
    "REGIME_WINDOW",
    "VOL_TARGET",
    "HorizonModel",
    "VolatilityModel",
    "regime_label",
]

MODEL_FILE = "volatility.json"
#: Default daily volatility target of the position size (2% of the position's value per day).
VOL_TARGET = 0.02
#: Largest position size (1 = all capital, no leverage).
POSITION_CAP = 1.0
#: Hours of forecasts the regime percentile is taken within (a year).
REGIME_WINDOW = 24 * 365


def regime_label(percentile: float) -> str:
    """``low`` (bottom third of the last year), ``normal`` or ``high`` (top third)."""
    return "low" if percentile < 1 / 3 else "high" if percentile > 2 / 3 else "normal"


@dataclass
class HorizonModel:
    """One horizon's fitted parts."""

    horizon: int
    estimator_name: str
    estimator: Any
    band_state: BandState
    passed: bool
    skill_passed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "horizon": self.horizon,
            "estimator": self.estimator_name,
            "fitted": self.estimator.to_dict(),
            "band_state": self.band_state.to_dict(),
            "passed": self.passed,
            "skill_passed": self.skill_passed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HorizonModel:
        return cls(
            int(data["horizon"]),
            str(data["estimator"]),
            load_estimator(str(data["estimator"]), data["fitted"]),
            BandState.from_dict(data["band_state"]),
            bool(data["passed"]),
            bool(data["skill_passed"]),
        )


class VolatilityModel:
    """Volatility forecasts and expected-move bands for one coin at every trained horizon."""

    output_name = "log_variance"

    def __init__(
        self, estimator: str, horizons: dict[str, HorizonModel], reference: str | None = None
    ) -> None:
        self.estimator = estimator
        self.horizons = horizons
        #: The coin whose candles the cross-asset inputs read (None: no such inputs).
        self.reference = reference

    @classmethod
    def from_evaluation(
        cls, evaluation: VolEvaluation, *, reference: str | None = None
    ) -> VolatilityModel:
        return cls(
            evaluation.estimator,
            {
                key: HorizonModel(
                    r.horizon,
                    evaluation.estimator,
                    r.estimator,
                    r.band_state,
                    r.passed,
                    r.skill_passed,
                )
                for key, r in evaluation.horizons.items()
            },
            reference if evaluation.reads_reference else None,
        )

    @property
    def passed_horizons(self) -> list[str]:
        """Horizons whose every gate (skill and bands) passed on the test window."""
        return [k for k, h in self.horizons.items() if h.passed]

    def params(self) -> dict[str, Any]:
        return {
            "estimator": self.estimator,
            "horizons": [h.horizon for h in self.horizons.values()],
        }

    def save(self, directory: Path) -> list[str]:
        """Write ``volatility.json`` into ``directory``; returns the file names written."""
        data = {
            "estimator": self.estimator,
            "horizons": {k: h.to_dict() for k, h in self.horizons.items()},
            "reference": self.reference,
        }
        (Path(directory) / MODEL_FILE).write_text(json.dumps(data) + "\n", encoding="utf-8")
        return [MODEL_FILE]

    @classmethod
    def load(cls, directory: Path) -> VolatilityModel:
        """Read a model :meth:`save` wrote. Raises ModelError when the folder holds none."""
        path = Path(directory) / MODEL_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            horizons = {k: HorizonModel.from_dict(v) for k, v in data["horizons"].items()}
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{path} is not a volatility model ({exc}); retrain it.") from None
        return cls(str(data["estimator"]), horizons, data.get("reference"))

    def with_reference(self, candles: pd.DataFrame, *, paths: Paths | None = None) -> pd.DataFrame:
        """``candles`` with the stored reference coin's candles (in the home ``paths`` describes)
        attached when this model reads cross-asset inputs and none is attached yet.

        Raises:
            InsufficientDataError: the reference is not stored or ends before the last candle
                (the message says what to fetch).
        """
        from core.volatility.features import attach_reference, attached_reference

        if self.reference is None or attached_reference(candles) is not None or candles.empty:
            return candles
        from core.data.coins import parse_coin
        from core.data.store import load_candles
        from core.errors import NoDataError

        last = pd.Timestamp(candles["open_time"].iloc[-1])
        fetch = f"python -m core fetch --coins {parse_coin(self.reference).base}"
        try:
            ref = load_candles(self.reference, "1h", paths=paths)
        except NoDataError:
            raise InsufficientDataError(
                f"This volatility model reads {self.reference} candles (cross-asset inputs) and "
                f"none are stored: {fetch}."
            ) from None
        ends = pd.Timestamp(ref["open_time"].iloc[-1]) if len(ref) else None
        if ends is None or ends < last:
            seen = "none are stored" if ends is None else f"they end at {ends:%Y-%m-%d %H:%M} UTC"
            raise InsufficientDataError(
                f"This volatility model reads {self.reference} candles (cross-asset inputs); "
                f"{seen}, before the last candle "
                f"({last:%Y-%m-%d %H:%M} UTC): top them up ({fetch})."
            )
        return attach_reference(candles, self.reference, ref)

    def log_variance(
        self, candles: pd.DataFrame, *, paths: Paths | None = None
    ) -> dict[str, np.ndarray]:
        """Log variance forecasts (QLIKE-level) for every candle, per horizon (NaN where the
        inputs are incomplete); a stored reference coin is read from the home ``paths``
        describes."""
        sequence = max(sequence_length(h.estimator.features) for h in self.horizons.values())
        candles = self.with_reference(candles, paths=paths)
        frame = build_frame(
            candles, [h.horizon for h in self.horizons.values()], sequence=sequence
        ).frame
        out = {}
        for key, h in self.horizons.items():
            X = frame[h.estimator.features].to_numpy(dtype="float64")
            f = np.full(len(frame), np.nan)
            ok = np.isfinite(X).all(axis=1)
            if ok.any():
                f[ok] = h.estimator.predict(X[ok])
            out[key] = f
        return out

    def expected_move(
        self,
        candles: pd.DataFrame,
        *,
        vol_target: float = VOL_TARGET,
        only_passed: bool = True,
        paths: Paths | None = None,
    ) -> dict[str, Any] | None:
        """Expected move after the last closed candle of ``candles`` (store schema, time order).

        Returns ``{"expected_move": {"6h": {"sigma": s, "bands": {"50": [lo, hi], ...}}, ...},
        "vol_regime": {...}, "position_size": x, "position_basis": "..."}`` with fractional
        returns, for the horizons whose gates passed (all horizons with ``only_passed=False``);
        ``None`` when no horizon qualifies.

        Raises:
            InsufficientDataError: the last candle's inputs are incomplete (a week of candles is
                needed, without gaps).
        """
        keys = [k for k in self.horizons if self.horizons[k].passed or not only_passed]
        if not keys:
            return None
        attached = self.with_reference(candles, paths=paths)
        forecasts = self.log_variance(attached.tail(REGIME_WINDOW + 400), paths=paths)
        moves: dict[str, Any] = {}
        for key in keys:
            f = forecasts[key]
            if not np.isfinite(f[-1]):
                raise InsufficientDataError(
                    "The volatility forecast needs the last week of hourly candles without gaps; "
                    "fetch the missing candles first."
                )
            log_sigma = 0.5 * float(f[-1])
            sigma = float(np.exp(log_sigma))
            mult = self.horizons[key].band_state.multipliers(log_sigma)
            moves[key] = {
                "sigma": round(sigma, 6),
                "bands": {
                    level: [
                        round(float(np.expm1(-q * sigma)), 6),
                        round(float(np.expm1(q * sigma)), 6),
                    ]
                    for level, q in mult.items()
                },
            }
        regime_key = "24h" if "24h" in keys else keys[-1]
        history = forecasts[regime_key][-REGIME_WINDOW:]
        history = history[np.isfinite(history)]
        pct = float(np.mean(history <= history[-1]))
        daily_sigma, basis = self._daily_sigma(moves)
        return {
            "expected_move": moves,
            "vol_regime": {
                "percentile": round(pct, 4),
                "label": regime_label(pct),
                "horizon": regime_key,
                "window_hours": int(len(history)),
            },
            "position_size": round(min(POSITION_CAP, vol_target / daily_sigma), 4),
            "position_basis": f"{vol_target:.2%} daily target / {basis}",
            "vol_target": vol_target,
        }

    @staticmethod
    def _daily_sigma(moves: dict[str, Any]) -> tuple[float, str]:
        if "24h" in moves:
            return float(moves["24h"]["sigma"]), "24 h forecast sigma"
        key = next(iter(moves))
        hours = int(key.removesuffix("h"))
        # Only a shorter horizon passed: scale it to a day by the square root of time.
        return float(moves[key]["sigma"]) * float(
            np.sqrt(24 / hours)
        ), f"{key} sigma x sqrt(24/{hours})"
