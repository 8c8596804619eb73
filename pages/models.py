"""Models: every registered version with its model card; charts, compare, promote, delete."""

import streamlit as st

from core.data.coins import display_name
from core.errors import CryptoVoltError
from core.models import kinds
from ui import clock, deep_link, models_view, state
from ui.frame import ensure_router
from ui.signals_view import render_verdict_lines
from ui.text import plain

ensure_router()

st.title("Models")
st.caption(
    "Every registered version with its model card: test-window metrics beside their naive "
    "baselines with 95% intervals, and gates that pass or fail. Only a version whose gates all "
    "pass has an edge and votes; the champion of each model is the version signals use."
)

records = models_view.list_models()
if not records:
    st.info("No models yet: train a coin on the **Training** page (or `python -m core train`).")
    st.stop()
render_verdict_lines()

left, right = st.columns(2)
symbols = sorted({r.symbol for r in records})
if linked := deep_link.seed_coin(state.MODELS_URL_COIN, symbols):  # /models?coin=ETHUSDT
    st.session_state[state.MODELS_COINS] = [linked]
coins = left.multiselect("Coins", symbols, format_func=display_name, key=state.MODELS_COINS)
deep_link.publish(coin=coins[0] if len(coins) == 1 else None)
present = [k for k in kinds() if any(r.model_type == k for r in records)]
types = right.multiselect(
    "Models", present, format_func=models_view.kind_label, key=state.MODELS_TYPES
)
table = models_view.models_frame(records, coins=coins, types=types)
if len(table):
    table["coin"] = table["coin"].map(display_name)
    table["created"] = table["created"].map(lambda at: clock.when(at) if at else "")
shown_table = table.drop(columns=["name", "kind"])
st.dataframe(
    shown_table,
    hide_index=True,
    width="stretch",
    column_config=models_view.column_config(shown_table)
    | {"rows": st.column_config.NumberColumn(format="localized")},
)
no_edge = models_view.no_edge_champions(table)
if no_edge:
    st.warning(
        f"No edge (their gates fail, so they do not vote): {', '.join(no_edge)}. A coin whose "
        "models all fail shows NO EDGE on the Signals page."
    )

st.subheader("Per coin")
shown = [k for k in present if not types or k in types]
for start in range(0, len(shown), 2):
    for col, kind in zip(st.columns(2), shown[start : start + 2], strict=False):
        with col:
            models_view.render_coin_chart(records, kind)

st.subheader("One model")
names = sorted({r.name for r in records if not coins or r.symbol in coins})
if st.session_state.get(state.MODELS_SELECTED) not in names:  # filtered out by the coin picker
    st.session_state.pop(state.MODELS_SELECTED, None)
deep_link.seed(deep_link.MODEL, state.MODELS_SELECTED, names)  # ?model=xgb_direction_btcusdt
name = st.selectbox("Model", names, key=state.MODELS_SELECTED)
versions = [r for r in records if r.name == name]
labels = [r.version + (" (champion)" if r.promoted else "") for r in versions]
version_key = state.MODELS_VERSION + str(name)
if st.session_state.get(version_key) not in range(len(versions)):  # a version deleted since
    st.session_state.pop(version_key, None)
version_names = [r.version for r in versions]
if linked_version := deep_link.seed(deep_link.VERSION, version_key, version_names):  # ?version=v2
    st.session_state[version_key] = version_names.index(linked_version)
picked = st.radio(
    "Version",
    range(len(versions)),
    format_func=labels.__getitem__,
    horizontal=True,
    key=version_key,
)
record = versions[picked]
deep_link.publish(model=record.name, version=record.version)
models_view.render_model(record)

problems = [] if record.promoted else models_view.promotion_problems_of(record)
c1, c2, c3 = st.columns([1, 1, 2], vertical_alignment="bottom")
force = bool(problems) and c3.checkbox(
    "Promote anyway", help="Make it the champion although: " + " ".join(problems)
)


def close_delete() -> None:
    st.session_state.pop(state.MODELS_DELETE, None)


@st.dialog("Delete this version?", on_dismiss=close_delete)
def confirm_delete(name: str, version: str) -> None:
    st.markdown(f"**{plain(name)} {plain(version)}** and its files leave the registry for good.")
    yes, no = st.columns(2)
    if yes.button(f"Yes, delete {version} for good", type="primary", key="delete_yes"):
        close_delete()
        try:
            st.toast(plain(models_view.delete_version(name, version)))
        except CryptoVoltError as exc:
            st.error(plain(exc))
            return
        st.rerun()
    if no.button("Cancel", key="delete_no"):
        close_delete()
        st.rerun()


try:
    promote = c1.button(
        "Promote",
        disabled=record.promoted or (bool(problems) and not force),
        icon=":material/star:",
    )
    if problems and not force:
        st.caption("Promote is off: " + " ".join(problems))
    if promote:
        st.toast(plain(models_view.promote_version(name, record.version, force=force)))
        st.rerun()
    if c2.button("Delete", icon=":material/delete:", help="Asks first"):
        st.session_state[state.MODELS_DELETE] = f"{name} {record.version}"
    if st.session_state.get(state.MODELS_DELETE) == f"{name} {record.version}":
        confirm_delete(name, record.version)
except CryptoVoltError as exc:
    st.error(plain(exc))

if len(versions) >= 2:
    st.subheader("Two versions side by side")
    pair = st.multiselect(
        "Versions",
        [r.version for r in versions],
        default=[r.version for r in versions[-2:]],
        max_selections=2,
        key=f"{state.MODELS_COMPARE}_{name}",
    )
    if len(pair) == 2:
        by_version = {r.version: r for r in versions}
        models_view.render_compare(by_version[pair[0]], by_version[pair[1]])
