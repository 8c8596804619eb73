"""Streamlit glue: cached loaders, session-state keys, chart builders, job widgets."""
