"""How many candles training needs, and the refusal when a coin has too few."""

from __future__ import annotations

import math
from typing import Any

from core.config import SplitConfig, TargetConfig
from core.data.coins import parse_coin
from core.errors import InsufficientDataError
from core.models import config_class, kind_info

__all__ = ["MIN_TRAIN_SAMPLES", "check_size", "required_candles"]

#: The smallest training set (after the validation slice) of the first walk-forward fold.
MIN_TRAIN_SAMPLES = 200


def required_candles(
    kind: str,
    *,
    target: TargetConfig = TargetConfig(),  # noqa: B008 (frozen, so a shared default is safe)
    split: SplitConfig = SplitConfig(),  # noqa: B008 (frozen, so a shared default is safe)
    config: Any = None,
) -> int:
    """How many consecutive candles training ``kind`` with these settings needs.

    The look-back warm-up, the purge gap and a validation slice must leave the first walk-forward
    fold (or, for a model without walk-forward, the training period) ``MIN_TRAIN_SAMPLES``
    samples, and the test period must hold at least 10 candles. Walk-forward folds share the
    period before the test window.
    """
    cfg = config if config is not None else config_class(kind)()
    warmup, horizon = kind_info(kind).recipe.warmup(cfg), target.horizon
    folds = getattr(cfg, "walk_forward", True)
    per_block = (
        warmup
        + horizon
        + math.ceil((MIN_TRAIN_SAMPLES + horizon) / (1 - split.validation_fraction))
    )
    before_test = 1 - split.test_fraction
    train_share = before_test / (split.folds + 1) if folds else before_test
    return max(math.ceil(per_block / train_share), math.ceil(10 / split.test_fraction))


def check_size(symbol: str, interval: str, rows: int, needs: dict[str, int]) -> None:
    short = {kind: need for kind, need in needs.items() if rows < need}
    if short:
        what = ", ".join(f"{kind} needs {need:,}" for kind, need in short.items())
        raise InsufficientDataError(
            f"{symbol} has {rows:,} {interval} candles, too few for these settings ({what}: the "
            "look-back, the purge gap, the validation slice and every walk-forward fold must fit). "
            f"Fetch more history (`python -m core fetch --coins {parse_coin(symbol).base} "
            "--days 730`), or use fewer folds, a shorter window or a smaller test fraction."
        )
