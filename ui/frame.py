"""Keep every page inside the app's router.

Streamlit starts a fresh server in its legacy multipage mode whenever a ``pages/`` folder sits
beside the main script (``PagesManager.uses_pages_directory``), and stays there until some run
calls ``st.navigation``. A first request straight to ``/signals`` would then run that page alone,
without our navigation and sidebar. Each page calls :func:`ensure_router` first: in legacy mode it
switches the flag off and reruns, so the router (``streamlit_app.py``) handles the same URL.
AppTest (whose runtime is a mock) drives pages by file and is left alone.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.pages_manager import PagesManager


def ensure_router() -> None:
    real_server = type(Runtime._instance) is Runtime  # noqa: SLF001 (no public accessor)
    if real_server and PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
