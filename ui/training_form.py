"""The Training form: coins, models and settings; **Train** launches one background job per coin.

Safe by default: no coin is preselected (only the coin in view on Charts / Backtest, if it has
candles); what a person picks and types is kept in ``{home}/settings/training_form.json`` so a
reload or a restart finds it again; every invalid setting is reported at once (by
:func:`core.jobs.make_specs`, which checks them all) and **Train** stays off, saying why, while
any is invalid or no coin or model is picked; more than :data:`CONFIRM_ABOVE` jobs are confirmed
in a dialog that says how many will start. Ctrl+Enter (Cmd+Enter) is Train.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import streamlit as st

from core import jobs
from core.atomic import atomic_write_json
from core.config import TargetConfig
from core.data.coins import DEFAULT_COINS, display_name
from core.errors import CryptoVoltError
from core.models import DEFAULT_KINDS, SEED_KINDS, config_class, kind_info, kinds
from ui import deep_link, state, training_view
from ui.context import context
from ui.executor import launch_training
from ui.loaders import stored_summary
from ui.text import plain

__all__ = ["CONFIRM_ABOVE", "render_training_form", "settings_path", "trainable_coins"]

#: More coins than this at once asks for a confirmation first.
CONFIRM_ABOVE = 3
#: Train from the keyboard (Streamlit shows it on the button; Ctrl is Cmd on a Mac).
TRAIN_SHORTCUT = "Ctrl+Enter"

_KEY = state.TRAINING_SETTING_PREFIX
#: (setting, label, step, number format) of each number input, in page order.
_INPUTS: tuple[tuple[str, str, float, str | None], ...] = (
    ("horizon", "Horizon (candles)", 1, None),
    ("threshold", "Threshold (%)", 0.1, "%.2f"),
    ("trees", "Trees", 10, None),
    ("depth", "Depth", 1, None),
    ("window", "Window (candles)", 1, None),
    ("units", "Units", 1, None),
    ("epochs", "Epochs (max)", 1, None),
    ("batch_size", "Batch size", 1, None),
    ("patience", "Patience (0 = off)", 1, None),
)


def trainable_coins(interval: str = "1h") -> list[str]:
    """Coins with stored candles at ``interval``: default coins first, then the rest by name."""
    summary = stored_summary()
    found = set(summary.loc[summary["interval"] == interval, "symbol"]) if len(summary) else set()
    order = {s: i for i, s in enumerate(DEFAULT_COINS)}
    return sorted(found, key=lambda s: (order.get(s, len(order)), s))


def settings_path() -> Any:
    """``{home}/settings/training_form.json``: the form as it was last left."""
    return context().home / "settings" / "training_form.json"


def _owners(field: str) -> list[str]:
    """The kinds whose settings have ``field``: the seed's first, then registry order."""
    order = dict.fromkeys([*SEED_KINDS, *kinds()])
    return [k for k in order if field in {f.name for f in dataclasses.fields(config_class(k))}]


def _defaults() -> dict[str, Any]:
    """Each input's default: the target's, else the first owning kind's settings' default."""
    target = TargetConfig()
    out: dict[str, Any] = {
        "horizon": target.horizon,
        "threshold": round(target.threshold * 100, 6),
    }
    for name, *_ in _INPUTS:
        stage, field = jobs.SETTINGS[name]
        owners = _owners(field)
        if stage == "model" and owners:
            out[name] = getattr(config_class(owners[0])(), field)
    return out


def _groups() -> dict[str, list[tuple[str, str, float, str | None]]]:
    """The inputs by caption: the target's, then one group per set of estimators whose kinds'
    settings have those fields (built from the registry of kinds)."""
    groups: dict[str, list[tuple[str, str, float, str | None]]] = {}
    for entry in _INPUTS:
        stage, field = jobs.SETTINGS[entry[0]]
        if stage == "target":
            caption = "Target: will the close `horizon` candles ahead be this much higher?"
        else:
            names = dict.fromkeys(kind_info(k).estimator_name for k in _owners(field))
            caption = " / ".join(names) or "Models"
        groups.setdefault(caption, []).append(entry)
    return groups


def _saved() -> dict[str, Any]:
    try:
        data = json.loads(settings_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _restore(coins: list[str]) -> None:
    """Fill the form's keys that this session does not hold yet: from the settings file, else
    the safe defaults (no coin but the one in view; the default kinds)."""
    saved = _saved()
    if state.TRAINING_COINS not in st.session_state:
        in_view = st.session_state.get(state.SELECTED_COIN)
        picked = saved.get("coins", [in_view] if in_view else [])
        st.session_state[state.TRAINING_COINS] = [c for c in picked if c in coins]
    if state.TRAINING_MODELS not in st.session_state:
        picked = saved.get("models", list(DEFAULT_KINDS))
        st.session_state[state.TRAINING_MODELS] = [k for k in picked if k in kinds()]
    numbers = {**_defaults(), **(saved.get("settings") or {})}
    for name, *_ in _INPUTS:
        value = numbers.get(name)
        if f"{_KEY}{name}" not in st.session_state and isinstance(value, int | float):
            st.session_state[f"{_KEY}{name}"] = float(value) if name == "threshold" else int(value)


def _save(coins: list[str], models: tuple[str, ...], values: dict[str, Any]) -> None:
    data = {"coins": coins, "models": list(models), "settings": values}
    if data != _saved():
        atomic_write_json(settings_path(), data)


def _settings_inputs() -> dict[str, Any]:
    """The main settings as typed (``None`` for an emptied box); bounds are left to the config
    dataclasses so that their messages are shown."""
    values: dict[str, Any] = {}
    with st.expander("Settings", icon=":material/tune:"):
        for caption, inputs in _groups().items():
            st.caption(caption)
            columns = st.columns(3 if len(inputs) > 2 else 2)
            for i, (name, label, step, fmt) in enumerate(inputs):
                col = columns[i % len(columns)]
                values[name] = col.number_input(
                    label, value=None, step=step, format=fmt, key=f"{_KEY}{name}"
                )
    return values


def _problems(coins: list[str], models: tuple[str, ...], values: dict[str, Any]) -> list[str]:
    """Everything that keeps Train off, each in words (empty: ready)."""
    problems = []
    if not coins:
        problems.append("Pick at least one coin to train.")
    if not models:
        problems.append("Pick at least one model.")
    empty = [label for name, label, *_ in _INPUTS if values.get(name) is None]
    if empty:
        problems.append(f"Fill in {', '.join(empty)}.")
    if models and not empty:
        try:
            jobs.make_specs(coins or ["BTC"], models=models, **_as_settings(values))
        except CryptoVoltError as exc:
            problems.append(str(exc))
    busy = jobs.busy_with(coins, runs=context().paths.runs)
    if busy:
        names = ", ".join(display_name(s) for s in busy)
        problems.append(
            f"{'; '.join(_named(s, why) for s, why in busy.items())}. One job per coin at a "
            f"time: wait for it, cancel it below, or take {names} out of Coins."
        )
    return problems


def _named(symbol: str, why: str) -> str:
    """``"BTCUSDT already has ..."`` (core's words) with the coin as every page names it."""
    return why.replace(symbol, display_name(symbol), 1) if why.startswith(symbol) else why


def _as_settings(values: dict[str, Any]) -> dict[str, Any]:
    out = {k: (int(v) if k != "threshold" else v) for k, v in values.items() if v is not None}
    if "threshold" in out:
        out["threshold"] = round(float(out["threshold"]) / 100, 6)
    return out


def _launch(
    coins: list[str], models: tuple[str, ...], values: dict[str, Any], interval: str
) -> list[str]:
    try:
        specs = jobs.make_specs(coins, models=models, interval=interval, **_as_settings(values))
        for spec in specs:
            jobs.require_data(spec, paths=context().paths)
        launched = launch_training(specs)  # the job queue, or Ray when the page says so
    except CryptoVoltError as exc:
        st.error(plain(exc), icon=":material/error:")
        return []
    st.session_state[state.TRAINING_LAUNCHED] = launched
    st.session_state.pop(state.TRAINING_CONFIRM, None)
    st.toast(f"Started {len(launched)} training job(s).", icon=":material/play_arrow:")
    return launched


def render_training_form(interval: str = "1h") -> list[str]:
    """Coins, models and settings; **Train** launches one job per coin (see the module
    docstring). Returns the ids of jobs launched by this run (empty otherwise)."""
    coins = trainable_coins(interval)
    if not coins:
        st.info("No candles yet. Open **Data** to fetch them or load the bundled sample first.")
        return []
    if linked := deep_link.seed_coin(state.SELECTED_COIN, coins):  # /training?coin=ETHUSDT
        st.session_state[state.TRAINING_COINS] = [linked]
    _restore(coins)
    with st.container(border=True):
        picked = st.multiselect(
            "Coins",
            coins,
            format_func=display_name,
            key=state.TRAINING_COINS,
            placeholder="Pick coins to train",
            filter_mode="contains",
        )
        models = training_view.model_picker(key=state.TRAINING_MODELS)
        values = _settings_inputs()
        _save(list(picked), models, values)
        problems = _problems(list(picked), models, values)
        many = len(picked) > CONFIRM_ABOVE
        clicked = st.button(
            "Train",
            icon=":material/play_arrow:",
            type="primary",
            disabled=bool(problems),
            help=f"Starts one background job per coin ({len(picked)} picked).",
            shortcut=TRAIN_SHORTCUT,
        )
        if problems:
            st.caption("Train is off: " + " ".join(problems))
            st.session_state.pop(state.TRAINING_CONFIRM, None)
            return []
        if clicked and not many:
            return _launch(list(picked), models, values, interval)
        if clicked:
            st.session_state[state.TRAINING_CONFIRM] = list(picked)
        if st.session_state.get(state.TRAINING_CONFIRM) == list(picked):
            _confirm_many(list(picked), models, values, interval)
        else:  # the pick changed since: ask again on the next click
            st.session_state.pop(state.TRAINING_CONFIRM, None)
    return []


def _close_confirm() -> None:
    st.session_state.pop(state.TRAINING_CONFIRM, None)


@st.dialog("Start these training jobs?", on_dismiss=_close_confirm)
def _confirm_many(
    coins: list[str], models: tuple[str, ...], values: dict[str, Any], interval: str
) -> None:
    st.markdown(
        f"This starts {len(coins)} training jobs, one per coin "
        f"({training_view.kinds_text(models)} each): "
        f"{', '.join(display_name(c) for c in coins)}. They queue and run a few at a time. "
        "Start them all?"
    )
    yes, no = st.columns(2)
    started = yes.button(f"Yes, start {len(coins)} jobs", type="primary")
    if started and _launch(coins, models, values, interval):
        st.rerun()  # close the dialog; the job list shows the new jobs
    if no.button("Not now"):
        _close_confirm()
        st.rerun()
