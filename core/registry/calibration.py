"""A model card's calibration, as ``metadata.json`` stores it under ``card.calibration``.

- :class:`Reliability` (probability models): bins of probability built on the walk-forward folds
  and reported on the test window (:class:`ReliabilityBin`), with the out-of-time ECE;
- :class:`BandCalibration` (volatility models, one per horizon): band coverage by third of the
  forecast volatility, the Kupiec / Christoffersen tests and the width against a static band.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["BandCalibration", "Reliability", "ReliabilityBin", "finite"]


def finite(value: Any) -> float | None:
    """``value`` as a float, or None when it is None / NaN / infinite."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class ReliabilityBin:
    """One probability bin of a :class:`Reliability` table: how many fold rows built it and
    their hit rate, how many test rows fell in it, their hit rate and its Wilson interval."""

    bin: int
    built_n: int
    built_hit_rate: float | None
    test_n: int
    test_hit_rate: float | None
    test_low: float | None
    test_high: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReliabilityBin:
        return cls(
            bin=int(data["bin"]),
            built_n=int(data.get("built_n") or 0),
            built_hit_rate=finite(data.get("built_hit_rate")),
            test_n=int(data.get("test_n") or 0),
            test_hit_rate=finite(data.get("test_hit_rate")),
            test_low=finite(data.get("test_low")),
            test_high=finite(data.get("test_high")),
        )


@dataclass(frozen=True)
class Reliability:
    """A probability card's reliability table: bins built on the walk-forward folds (``built_on``)
    and reported on the test window (``reported_on``), with the test window's ECE
    (``ece_out_of_time``). Stored as ``card.calibration`` in ``metadata.json``."""

    built_on: str = "walk-forward folds"
    reported_on: str = "test window"
    ece_out_of_time: float | None = None
    table: tuple[ReliabilityBin, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "built_on": self.built_on,
            "reported_on": self.reported_on,
            "ece_out_of_time": self.ece_out_of_time,
            "table": [row.to_dict() for row in self.table],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reliability:
        return cls(
            built_on=str(data.get("built_on") or "walk-forward folds"),
            reported_on=str(data.get("reported_on") or "test window"),
            ece_out_of_time=finite(data.get("ece_out_of_time")),
            table=tuple(ReliabilityBin.from_dict(row) for row in data.get("table") or ()),
        )


@dataclass(frozen=True)
class BandCalibration:
    """A volatility card's band calibration at one horizon, each map keyed by band level
    (``"50"``, ``"80"``, ``"90"``): coverage per third of the forecast volatility (quiet, middle,
    wild) for the model's bands and for a static band, the Kupiec / Christoffersen tests
    (``{"kupiec_p", "christoffersen_p", "n"}``) and the mean width against the static band's.
    Stored per horizon as ``card.calibration[horizon]``."""

    coverage_terciles: dict[str, list[float | None]]
    static_coverage_terciles: dict[str, list[float | None]]
    tests: dict[str, dict[str, float | None]]
    width_ratio: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BandCalibration:
        return cls(
            coverage_terciles=dict(data.get("coverage_terciles") or {}),
            static_coverage_terciles=dict(data.get("static_coverage_terciles") or {}),
            tests=dict(data.get("tests") or {}),
            width_ratio=dict(data.get("width_ratio") or {}),
        )
