"""CryptoVolt dashboard: the router and frame. Pages live in pages/, logic in core/.

``streamlit run streamlit_app.py`` finds ``app`` below and serves it as an ``st.App`` (Streamlit's
ASGI mode) with :class:`ui.server.BackendBaseUrl`, so deep links such as ``/charts`` connect
without 404s; the app's script runs (and AppTest) take the ``__main__`` branch and draw pages.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent
ICON = ROOT / "static" / "favicon.png"  # a local file: no request to fonts.gstatic.com

#: (file, title); a page whose file does not exist yet is simply not offered. No icons: an icon's
#: text would become part of each link's accessible name ("database Data").
PAGES = (
    ("pages/data.py", "Data"),
    ("pages/charts.py", "Charts"),
    ("pages/training.py", "Training"),
    ("pages/models.py", "Models"),
    ("pages/signals.py", "Signals"),
    ("pages/monitor.py", "Monitor"),
    ("pages/backtest.py", "Backtest"),
)


def main() -> None:
    from ui.alerts_banner import render_alert_banner
    from ui.sidebar import refresh_files, render_sidebar

    st.set_page_config(page_title="CryptoVolt", page_icon=str(ICON), layout="wide")
    pages = [
        st.Page(path, title=title, default=(i == 0))
        for i, (path, title) in enumerate(p for p in PAGES if (ROOT / p[0]).exists())
    ]
    page = st.navigation(pages)
    files = render_sidebar()
    render_alert_banner()
    page.run()
    refresh_files(files)  # drawn again after the page: it shows what the page just did


if __name__ == "__main__":
    main()
else:  # imported by `streamlit run` as the ASGI app
    # What every page's first run imports (ui.sidebar pulls in core.signals), imported here once,
    # in one thread, before any session starts: two script threads importing the same package at
    # once can each see it half made.
    from starlette.middleware import Middleware

    import ui.alerts_banner  # noqa: F401
    import ui.sidebar  # noqa: F401
    from core.api.app import Access, mount
    from ui.server import BackendBaseUrl

    app = st.App(
        __file__,
        # the read-only HTTP API beside the pages (core/api/app.py; README, HTTP API)
        routes=[mount(Access.for_address(st.get_option("server.address")))],
        middleware=[Middleware(BackendBaseUrl, base_path=st.get_option("server.baseUrlPath"))],
    )
