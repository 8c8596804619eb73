"""Training: pick coins, models and settings; each coin trains in its own background job."""

import streamlit as st

from ui.frame import ensure_router
from ui.jobs import render_job_list, render_training_form

ensure_router()

st.title(":material/model_training: Training")
st.caption(
    "Each coin trains in its own background process: XGBoost (will the close rise by the "
    "threshold within the horizon?) and an LSTM next-close forecaster, tested on the most recent "
    "20% and by walk-forward folds, each beside its naive baseline. A queue runs as many jobs at "
    "once as this machine allows; closing or reloading the page does not stop them."
)

render_training_form()
st.subheader("Jobs")
render_job_list()
