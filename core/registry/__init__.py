"""The model registry: named, versioned, checksummed models on disk.

This is the stage's public face; the modules below it are importable too."""

from __future__ import annotations

from core.registry.model_registry import (
    METADATA_FILE,
    PREDICTIONS_FILE,
    ModelRegistry,
    headline_metrics,
    model_name,
    parse_version,
)

__all__ = [
    "METADATA_FILE",
    "ModelRegistry",
    "PREDICTIONS_FILE",
    "headline_metrics",
    "model_name",
    "parse_version",
]
