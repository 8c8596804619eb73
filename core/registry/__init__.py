"""The model registry: named, versioned, checksummed models on disk.

This is the stage's public face; the modules below it are importable too."""

from __future__ import annotations

from core.registry.artifacts import METADATA_FILE
from core.registry.model_registry import PREDICTIONS_FILE, ModelRegistry
from core.registry.names import headline_metrics, model_name, parse_version

__all__ = [
    "METADATA_FILE",
    "ModelRegistry",
    "PREDICTIONS_FILE",
    "headline_metrics",
    "model_name",
    "parse_version",
]
