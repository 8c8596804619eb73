"""Training: pick coins, models and settings; each coin trains in its own background job."""

import streamlit as st

from ui.executor import executor_choice
from ui.frame import ensure_router
from ui.jobs import render_job_list
from ui.training_form import render_training_form
from ui.training_view import kinds_caption
from ui.tuning_view import render_tuning_section

ensure_router()

st.title("Training")
st.caption(
    "Each coin trains in its own background process. Every model is tested on the most recent "
    "20% and by walk-forward folds before it, beside its naive baselines, and gets a model card "
    "whose gates say whether it has an edge; only a model with an edge votes, and a new version "
    "becomes the champion only when its gates pass and it beats the current one. A queue runs "
    "as many jobs at once as this machine allows; closing or reloading the page does not stop "
    "them."
)
with st.expander("The models", icon=":material/info:"):
    st.markdown(kinds_caption())

executor_choice()
render_training_form()
st.subheader("Jobs")
render_job_list()
render_tuning_section()
