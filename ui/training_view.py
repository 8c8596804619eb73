"""Training page glue that knows about model kinds: the model picker and what a finished job
produced, in words (whether each model has an edge, and whether it became the champion).

The kinds come from :func:`core.models.kinds` with their labels, so a new kind shows up here
without an edit. A job's result lists the versions it registered; their cards are read from the
registry (cached per version: a version's record never changes once written).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import streamlit as st

from core.data.coins import display_name
from core.errors import ModelError
from core.jobs.results import ModelResult
from core.jobs.status import JobStatus
from core.models import DEFAULT_KINDS, kind_info, kinds
from core.registry.metadata import ModelMetadata
from core.registry.model_registry import ModelRegistry
from core.registry.names import headline_metrics
from core.training.trust import model_warnings
from core.words import headline, verdict_words
from ui import deep_link
from ui.card_view import VERDICT_HELP, numbers_help
from ui.context import context
from ui.text import plain

__all__ = [
    "kinds_caption",
    "kinds_text",
    "latest_results",
    "model_picker",
    "render_results",
    "result_words",
]

MODELS_PAGE = Path(__file__).resolve().parent.parent / "pages" / "models.py"


def _label(kind: str) -> str:
    try:
        return kind_info(kind).label
    except Exception:  # a job of a kind this build no longer has still lists
        return kind


def kinds_text(models: Iterable[str]) -> str:
    """``"XGBoost direction + LSTM return"`` for a job's kinds."""
    return " + ".join(_label(m) for m in models)


def kinds_caption() -> str:
    """One line per kind: its label and what it predicts (for the page caption)."""
    return "  \n".join(f"**{kind_info(k).label}**: {kind_info(k).description}" for k in kinds())


def model_picker(*, key: str) -> tuple[str, ...]:
    """Pick any of the registered kinds (by label); the directional and seed models by default
    (unless the session already holds a pick: the form restores it)."""
    default = None if key in st.session_state else [k for k in DEFAULT_KINDS if k in kinds()]
    picked = st.segmented_control(
        "Models",
        kinds(),
        selection_mode="multi",
        default=default,
        format_func=_label,
        key=key,
        help="Each kind is trained, carded against its baselines and registered on its own.",
    )
    return tuple(picked or ())


@st.cache_data(show_spinner=False, max_entries=256)
def _record(root: str, name: str, version: str) -> ModelMetadata | None:
    try:
        return ModelRegistry(Path(root)).record(name, version)
    except ModelError:
        return None  # deleted since the job ran


def result_words(result: ModelResult) -> str:
    """One finished-job line in markdown: the version, its headline numbers, whether it has an
    edge (its card's verdict) and whether it is the champion."""
    name, version = result.name, result.version
    registry = ModelRegistry(context().paths.models)
    record = _record(str(registry.root), name, version)
    line = f"**{plain(name)}** {plain(version)}"
    if record is None:  # deleted since the job ran: what the job recorded is all there is
        numbers = " · ".join(f"{k} {v}" for k, v in headline_metrics(result.metrics).items())
        return (
            line
            + (f" · test {numbers} (baseline in brackets)" if numbers else "")
            + (" · no longer in the registry")
        )
    numbers = headline(record)
    if numbers:
        line += f" · {numbers}"
    warnings = model_warnings(record)
    colour = "green" if record.gates_passed and not warnings else "orange"
    line += f"  \n:{colour}[{verdict_words(record)}]"
    line += "".join(f"  \n:orange[{w}]" for w in warnings)
    try:
        champion = registry.promoted_version(name)
    except ModelError:
        champion = None
    promotion = result.promotion
    if promotion:
        line += f"  \n{promotion[:1].upper()}{promotion[1:]}."
    elif champion == record.version:
        line += "  \nPromoted: it is the champion, the version signals use" + (
            "." if record.gates_passed else ", but with no edge it does not vote."
        )
    elif record.gates_passed:
        line += f"  \nNot promoted: it does not beat champion {champion}."
    else:
        line += f"  \nNot promoted: its gates fail; {champion} stays champion."
    return line


def latest_results(found: Sequence[JobStatus]) -> list[tuple[JobStatus, ModelResult]]:
    """The newest finished result of each model (coin x kind) among ``found`` (newest job
    first, as :func:`core.jobs.list_jobs` gives them)."""
    seen: set[str] = set()
    out = []
    for job in found:
        if job.active:
            continue
        for result in job.result:
            if result.name not in seen:
                seen.add(result.name)
                out.append((job, result))
    return out


def _open_card(record: ModelMetadata) -> None:
    """The Models page on this model and this version (the same link a visitor can bookmark)."""
    st.switch_page(
        "pages/models.py",
        query_params={
            deep_link.COIN: record.symbol,
            deep_link.MODEL: record.name,
            deep_link.VERSION: record.version,
        },
    )


def render_results(found: Sequence[JobStatus]) -> None:
    """After training: one row per model (coin, kind and version, champion or not; its verdict)
    with a button to its card on the Models page; each row's numbers and promotion folded below
    the table. Three columns, so a row still reads at 800 px. Nothing when no job has finished
    with a result."""
    rows = latest_results(found)
    if not rows:
        return
    registry = ModelRegistry(context().paths.models)
    widths = [1.6, 3.2, 1.2]
    with st.container(border=True, key="training_results"):
        st.markdown("**Results** (the newest version each model got)")
        heads = st.columns(widths, gap="small")
        helps = (
            "The coin, the kind of model and the version this job registered; the champion is "
            "the version signals use.",
            VERDICT_HELP,
            "Opens this version's card on the Models page: every number beside its baseline.",
        )
        for col, title, words in zip(heads, ("model", "verdict", "card"), helps, strict=True):
            col.caption(title, help=words)
        for job, result in rows:
            record = _record(str(registry.root), result.name, result.version)
            model, verdict, card = st.columns(widths, vertical_alignment="center", gap="small")
            what = (
                f"**{plain(display_name(job.subject))}**  \n"
                f"{plain(_label(result.model_type or ''))} {plain(result.version)}"
            )
            if record is None:
                model.markdown(what)
                verdict.markdown(":gray[no longer in the registry]")
                continue
            try:
                is_champion = registry.promoted_version(result.name) == record.version
            except ModelError:
                is_champion = False
            model.markdown(what + (" · :blue-badge[champion]" if is_champion else ""))
            colour = "green" if record.gates_passed and not model_warnings(record) else "orange"
            verdict.markdown(f":{colour}[{verdict_words(record)}]")  # our words, as result_words
            if MODELS_PAGE.exists() and card.button(
                "Open",
                key=f"card_{job.job_id}_{result.name}",
                help=f"Open the card of {result.name} {record.version} on the Models page.",
            ):
                _open_card(record)
        with st.expander("Numbers and promotion of each version", expanded=False):
            for _, result in rows:
                record = _record(str(registry.root), result.name, result.version)
                st.markdown(
                    result_words(result),
                    help=None if record is None else numbers_help(record) + "  \n" + VERDICT_HELP,
                )
