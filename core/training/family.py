"""Many tests, some passes by chance (DESIGN rule 12): direction gates judged within their family.

Ten coins times a few probability kinds, each judged on whether its AUC's 95% lower bound clears
0.5, give a pass or two on pure noise. The **family** is the champion (promoted version) of every
coin x probability kind in the registry, whether it passed alone or not: every one was a test.
Each champion's p-value is one-sided, for "AUC > 0.5" and "direction AUC > 0.5" together (the
larger of the two, since both gates must pass), from the normal approximation to its card's
block-bootstrap interval: ``se = (high - low) / (2 x 1.96)``, ``z = (point - 0.5) / se``.
Holm's step-down procedure at the gates' own one-sided level (:data:`ALPHA`, so that a family of
one judges exactly as the card does) says which survive. It is applied where the signal decides
who votes (:func:`core.signals.live.load_coin_models`), so a model trained alone and later joined
by nine others is judged among the ten.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import CryptoVoltError
from core.models.base import Output
from core.registry.metadata import ModelCard

if TYPE_CHECKING:
    from core.registry.model_registry import ModelRegistry

__all__ = ["ALPHA", "Family", "auc_p_value", "direction_family", "holm"]

#: One-sided level of a "95% lower bound > 0.5" gate.
ALPHA = 0.025
_Z95 = 1.959964
_GATED = ("roc_auc", "direction_auc")


def auc_p_value(card: ModelCard | None) -> float | None:
    """One-sided p-value of a probability card's AUC gates (None: not a probability card, or
    an interval missing)."""
    if card is None or card.output != Output.PROBABILITY.value:
        return None
    ps = []
    for key in _GATED:
        interval = card.intervals.get(key)
        if interval is None:
            return None
        point, low, high = interval.point, interval.low, interval.high
        if point is None or low is None or high is None:
            return None
        se = (float(high) - float(low)) / (2 * _Z95)
        if se <= 0:
            ps.append(0.0 if point > 0.5 else 1.0)
            continue
        z = (float(point) - 0.5) / se
        ps.append(0.5 * math.erfc(z / math.sqrt(2)))
    return max(ps)


def holm(p_values: Mapping[str, float], alpha: float = ALPHA) -> dict[str, bool]:
    """Holm's step-down test: ``{name: rejected}`` (True: it survives the family)."""
    order = sorted(p_values, key=lambda k: p_values[k])
    m = len(order)
    out = {k: False for k in order}
    for rank, name in enumerate(order):
        if p_values[name] > alpha / (m - rank):
            break
        out[name] = True
    return out


@dataclass(frozen=True)
class Family:
    """The family's p-values and who survives Holm."""

    p_values: dict[str, float]
    survives: dict[str, bool]

    @property
    def size(self) -> int:
        return len(self.p_values)

    def judge(self, name: str) -> str | None:
        """None when ``name`` survives (or is not in the family), else why not, in words."""
        if name not in self.p_values or self.survives.get(name, True):
            return None
        p = self.p_values[name]
        return (
            f"no edge: passes alone (p = {p:.3g}), not after accounting for {self.size} tests "
            "(Holm)"
        )


def direction_family(registry: ModelRegistry) -> Family:
    """The family of every coin x probability kind champion in ``registry`` (see the module
    docstring)."""
    p_values: dict[str, float] = {}
    for name in registry.names():
        try:
            record = registry.record(name)
        except CryptoVoltError:  # an unreadable version is reported where it is loaded
            continue
        p = auc_p_value(record.card)
        if p is not None:
            p_values[name] = p
    return Family(p_values, holm(p_values))
