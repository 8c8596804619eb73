"""Indicators for charts (TA-Lib) and causal, scale-free model features and targets.

This is the stage's public face; the modules below it are importable too."""

from __future__ import annotations

from core.features.causal import (
    FEATURES,
    GAP_FLAG_WINDOW,
    NEXT_CLOSE,
    SEED_WEIGHT,
    FeatureSpec,
    compute_features,
    compute_targets,
    feature_columns,
    feature_frame,
)
from core.features.docs import features_markdown
from core.features.indicators import (
    INDICATOR_COLUMNS,
    INDICATORS,
    compute_indicators,
)

__all__ = [
    "FEATURES",
    "FeatureSpec",
    "GAP_FLAG_WINDOW",
    "INDICATORS",
    "INDICATOR_COLUMNS",
    "NEXT_CLOSE",
    "SEED_WEIGHT",
    "compute_features",
    "compute_indicators",
    "compute_targets",
    "feature_columns",
    "feature_frame",
    "features_markdown",
]
