"""Monitor: are the live calls keeping their promise? A status per coin, scores and drift."""

import streamlit as st

from ui.alert_targets import render_alert_targets
from ui.frame import ensure_router
from ui.journal_notes import render_journal_damage
from ui.monitor_view import (
    coin_health,
    has_journal,
    render_coin,
    render_no_journal,
    render_status_table,
)

ensure_router()

st.title("Monitor")
st.caption(
    "The forward test: every call in the journal is judged once its horizon has passed. Per coin "
    "and model version, the live hit rate of each kind of call (95% Wilson interval) beside the "
    "rate promised when it was shown, over the last 7 and 30 days, and each probability model's "
    "live log loss beside its base rate's; the expected-move bands' live coverage beside their "
    "promised level. Degraded: a kind of call below its promise, a voting model whose live log "
    "loss is not below its base rate's, or a band whose coverage interval excludes its promise."
)
render_alert_targets()

if not has_journal():
    render_no_journal()
render_journal_damage()
with st.spinner("Judging the journal…"):
    found = coin_health()
if not found:
    st.info("No trained coin yet: train one on the Training page first.")
    st.stop()
render_status_table(found)
render_coin(found)
