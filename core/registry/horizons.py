"""What a volatility model measured at each horizon, as ``metadata.json``'s ``volatility`` holds it.

:class:`HorizonRecord` is one horizon (``"6h"``, ``"24h"``): the scores of the model and of each
baseline, the Diebold–Mariano tests against them, band coverage and its calibration
(:class:`~core.registry.calibration.BandCalibration`, stored flat beside it), the gates, the
walk-forward folds and the band state the live bands are drawn with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from core.registry.calibration import BandCalibration, finite

__all__ = ["CardCoverage", "HorizonRecord"]

_BAND_KEYS = ("coverage_terciles", "static_coverage_terciles", "tests", "width_ratio")


def _map(data: Any) -> dict[str, Any]:
    return dict(data) if isinstance(data, Mapping) else {}


@dataclass(frozen=True)
class HorizonRecord:
    """One horizon of a volatility model: ``scores[forecaster]`` (``"model"`` and each
    baseline) holds ``qlike``, ``log_mse`` and ``r2``; ``dm[baseline]`` the DM-HLN test of the
    model against it; ``coverage[level]`` the share of test hours inside the band of that level
    (``"50"``, ``"80"``, ``"90"``); ``bands`` the band calibration; ``gates[name]`` each gate
    as stored (value, threshold, passed, rule); ``passed`` whether every gate passed."""

    horizon: int
    ewma_decay: float | None = None
    scores: dict[str, dict[str, float | None]] = field(default_factory=dict)
    dm: dict[str, dict[str, Any]] = field(default_factory=dict)
    best_baseline: str = ""
    coverage: dict[str, float | None] = field(default_factory=dict)
    bands: BandCalibration = field(default_factory=lambda: BandCalibration({}, {}, {}, {}))
    gates: dict[str, dict[str, Any]] = field(default_factory=dict)
    folds: list[dict[str, Any]] = field(default_factory=list)
    passed: bool = False
    band_state: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The stored form: the band calibration's keys sit beside the others."""
        return {
            **self.extra,
            "horizon": self.horizon,
            "ewma_decay": self.ewma_decay,
            "scores": self.scores,
            "dm": self.dm,
            "best_baseline": self.best_baseline,
            "coverage": self.coverage,
            **self.bands.to_dict(),
            "gates": self.gates,
            "folds": self.folds,
            "passed": self.passed,
            "band_state": self.band_state,
            "rows": self.rows,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HorizonRecord:
        """Inverse of :meth:`to_dict`; missing keys take their defaults, unknown ones are kept."""
        known = {f.name for f in fields(cls)} | set(_BAND_KEYS)
        return cls(
            horizon=int(data.get("horizon") or 0),
            ewma_decay=finite(data.get("ewma_decay")),
            scores=_map(data.get("scores")),
            dm=_map(data.get("dm")),
            best_baseline=str(data.get("best_baseline") or ""),
            coverage=_map(data.get("coverage")),
            bands=BandCalibration.from_dict(data),
            gates=_map(data.get("gates")),
            folds=list(data.get("folds") or ()),
            passed=bool(data.get("passed")),
            band_state=_map(data.get("band_state")),
            rows=_map(data.get("rows")),
            extra={k: v for k, v in data.items() if k not in known},
        )


@dataclass(frozen=True)
class CardCoverage:
    """A volatility card's band coverage on the test window: ``shares[horizon][level]`` is the
    share of test hours inside the band of that level (``shares["24h"]["80"]``; None when no
    hour could be scored). Stored as the card's ``coverage``, the same nested mapping."""

    shares: dict[str, dict[str, float | None]]

    def share(self, horizon: str, level: str) -> float | None:
        """The share of ``horizon``'s test hours inside its ``level`` band (KeyError if none)."""
        return self.shares[horizon][level]

    @property
    def horizons(self) -> tuple[str, ...]:
        return tuple(self.shares)

    def to_dict(self) -> dict[str, dict[str, float | None]]:
        return {h: dict(levels) for h, levels in self.shares.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]]) -> CardCoverage:
        """Inverse of :meth:`to_dict`."""
        return cls(
            {
                str(h): {str(k): None if v is None else float(v) for k, v in levels.items()}
                for h, levels in data.items()
            }
        )
