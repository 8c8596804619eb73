"""The journal's damaged lines, named on the pages that read the journal (Signals, Monitor).

Every reader skips a damaged line (:func:`core.signals.journal.damaged`), so the pages carry on;
this says which lines were left out and how to check the rest.
"""

from __future__ import annotations

import streamlit as st

from core.signals import journal
from ui.context import context
from ui.text import plain

__all__ = ["render_journal_damage"]

_SHOWN = 5


def render_journal_damage() -> None:
    """One warning listing the journal's damaged lines (the first few), if there are any."""
    home = context().home
    lines = journal.damaged(home)
    if not lines:
        return
    more = f"\n\n…and {len(lines) - _SHOWN} more." if len(lines) > _SHOWN else ""
    listed = "\n".join(f"- {plain(line)}" for line in lines[:_SHOWN])
    st.warning(
        f"{len(lines)} damaged line(s) in the journal are left out of what this page shows:\n\n"
        f"{listed}{more}\n\nRun `python -m core journal verify` to check the whole journal "
        f"(in {plain(journal.journal_dir(home))}).",
        icon=":material/warning:",
    )
