"""Champion / challenger: whether a new version becomes its model's promoted one, and why.

One rule for every kind (:func:`promotion`); what "better" means is the kind's card's own
:class:`Comparison` (the headline metric of a classifier or forecaster card, the mean QLIKE of
a volatility card). The reasons are the words the Training page, ``train --json`` and the log
show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.errors import ModelNotFoundError
from core.registry.gates import card_verdict
from core.registry.metadata import ModelCard
from core.registry.model_registry import ModelRegistry

__all__ = ["Comparison", "promotion"]


@dataclass(frozen=True)
class Comparison:
    """How a kind's card is held against its champion's.

    ``beats(new, champion_card)`` is True when the new card is better (the champion's card is
    None for a version trained before cards); ``loses`` and ``wins`` finish the reasons
    ``"not promoted: <loses> champion v3"`` and ``"promoted over v3: gates pass and <wins>"``.
    """

    beats: Callable[[ModelCard, ModelCard | None], bool]
    loses: str = "it does not beat"
    wins: str = "it beats the champion"


def promotion(
    registry: ModelRegistry,
    name: str,
    card: ModelCard,
    comparison: Comparison,
    *,
    force: bool = False,
) -> tuple[bool, str]:
    """Whether the version carrying ``card`` should be promoted over model ``name``'s champion,
    with the reason in words.

    Promoted when forced, when ``name`` has no version yet, or when the card passes its gates and
    either the champion's gates fail or ``comparison`` says the card beats the champion's.
    Reads the champion's record from ``registry``; raises what :meth:`ModelRegistry.record`
    raises for an unreadable one (other than not found).
    """
    if force:
        return True, "promoted (--force)"
    try:
        champion = registry.record(name)
    except ModelNotFoundError:
        return True, "promoted: the first version of this model"
    if not card.passed:
        return False, f"not promoted: {card_verdict(card)}; {champion.version} stays champion"
    if champion.gates_passed and not comparison.beats(card, champion.card):
        return False, f"not promoted: {comparison.loses} champion {champion.version}"
    return True, f"promoted over {champion.version}: gates pass and {comparison.wins}"
