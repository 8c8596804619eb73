"""CryptoVolt's logic: data, features, models, signals. Never imports Streamlit or TensorFlow.

The public entry points live in their modules (``core.data.store.load_candles``,
``core.registry.model_registry.ModelRegistry``, ...); ``python -m core`` is the CLI.
"""

__version__ = "0.1.0"
