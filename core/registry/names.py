"""Registry names and versions, and the headline metrics shown beside a version."""

from __future__ import annotations

import re

from core.data.coins import parse_coin
from core.errors import ModelError, ModelNotFoundError
from core.registry.artifacts import VERSION
from core.registry.metadata import Evaluation

__all__ = ["NAME_PATTERN", "headline_metrics", "model_name", "parse_version"]

#: A registry name: ``{kind}_{symbol}`` in lowercase.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*_[a-z0-9]+$")


def model_name(kind: str, symbol: str) -> str:
    """The registry name of a coin's model: ``model_name("xgboost", "BTC")`` → ``xgboost_btcusdt``.

    Raises:
        InvalidSymbolError: ``symbol`` is not a coin symbol.
        ModelError: ``kind`` is not a lowercase word.
    """
    kind_text = str(getattr(kind, "value", kind)).strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]*[a-z0-9]", kind_text):
        raise ModelError(f"Model type {kind!r} is not a name like 'xgboost' or 'lstm_return'.")
    return f"{kind_text}_{parse_coin(symbol).symbol.lower()}"


#: Test metrics worth a glance, in the order shown; each is paired with its baseline if recorded.
_HEADLINE = ("roc_auc", "auc", "accuracy", "mae", "rmse", "directional_accuracy")


def headline_metrics(metrics: Evaluation, *, limit: int = 3) -> dict[str, str]:
    """A version's key test metrics (its record's or its job result's ``metrics``) beside their
    naive baseline, for tables and job lists: ``{"roc_auc": "0.531 (0.500)", "skill": "-0.012"}``.
    Empty if none were recorded."""
    out: dict[str, str] = {}
    for key in _HEADLINE:
        value = metrics.test.get(key)
        if not isinstance(value, int | float) or len(out) >= limit:
            continue
        base = metrics.baseline.get(key)
        out[key] = f"{value:.4g}" + (f" ({base:.4g})" if isinstance(base, int | float) else "")
    if metrics.skill is not None:
        out["skill"] = f"{metrics.skill:+.3f}"
    return out


def parse_version(version: str | int) -> int:
    """``"v3"``, ``"3"`` or ``3`` → 3.

    Raises:
        ModelNotFoundError: not a version like v1, v2, ...
    """
    text = str(version).strip().lower()
    match = VERSION.match(text if text.startswith("v") else f"v{text}")
    if not match:
        raise ModelNotFoundError(f"{version!r} is not a model version: use v1, v2, ...")
    return int(match.group(1))
