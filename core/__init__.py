"""CryptoVolt's logic: data, features, models, signals. Never imports Streamlit or TensorFlow.

The public entry points live in their modules (``core.data.store.load_candles``,
``core.registry.model_registry.ModelRegistry``, ...); ``python -m core`` is the CLI.
"""

from __future__ import annotations

__all__ = ["version"]


def version() -> str:
    """The installed distribution's version (``pip install .``), else pyproject.toml's in a clone
    that was never installed. pyproject.toml is the one place the version is written."""
    from importlib import metadata

    try:
        return metadata.version("cryptovolt")
    except metadata.PackageNotFoundError:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        with pyproject.open("rb") as f:
            return str(tomllib.load(f)["project"]["version"])


def __getattr__(name: str) -> str:
    if name == "__version__":
        return version()
    raise AttributeError(f"module 'core' has no attribute {name!r}")
