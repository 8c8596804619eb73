"""``python -m core models``: list the model registry; show, verify, promote or delete versions.

Every version is read as a typed :class:`~core.registry.metadata.ModelMetadata`; its model card
says whether it has an edge (gates pass) and, if not, which gates failed.
"""

from __future__ import annotations

import argparse
from typing import Any

from core.api import payloads
from core.cli._common import format_table
from core.models import kind_info
from core.registry.gates import gate_checks, gates_count
from core.registry.metadata import ModelMetadata
from core.registry.model_registry import ModelRegistry
from core.usecases import promote
from core.words import headline, verdict_words

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list the model registry (show, promote, delete, verify)",
        description=(
            "Without an action: every model version as a table, with whether its gates pass and "
            "which version is each model's champion (the one signals use)."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION")
    actions.add_parser("list", help="every version (the default)")
    p_show = actions.add_parser(
        "show", help="one version's model card (the champion by default); --json: all metadata"
    )
    p_show.add_argument("name")
    p_show.add_argument("version", nargs="?")
    # also after the action (`models show NAME --json`); SUPPRESS keeps `models --json show`
    p_show.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    p_verify = actions.add_parser("verify", help="check every artifact's checksum, load nothing")
    p_verify.add_argument("name", nargs="?")
    p_verify.add_argument("version", nargs="?")
    p_promote = actions.add_parser(
        "promote", help="make a version the champion (refused if its gates fail, unless --force)"
    )
    p_promote.add_argument("name")
    p_promote.add_argument("version")
    p_promote.add_argument(
        "--force",
        action="store_true",
        help="promote even if its gates fail or it does not beat the current champion",
    )
    p_delete = actions.add_parser("delete", help="remove a version (its number is not reused)")
    p_delete.add_argument("name")
    p_delete.add_argument("version")
    parser.set_defaults(func=run)


def _when(record: ModelMetadata) -> str:
    return str(record.created_at or "")[:16].replace("T", " ")


def _data_range(record: ModelMetadata) -> str:
    start, end = str(record.data.get("start") or "")[:10], str(record.data.get("end") or "")[:10]
    return f"{start} → {end}" if start or end else ""


def _gates(record: ModelMetadata) -> str:
    return gates_count(record.card)


def _label(kind: str) -> str:
    try:
        return kind_info(kind).label
    except Exception:  # a kind no longer registered still lists
        return kind


def _row(record: ModelMetadata) -> list[object]:
    if record.error:
        return [record.name, record.version, "", "", "", "", "", "", record.error]
    return [
        record.name,
        record.version,
        "champion" if record.promoted else "",
        _label(record.model_type),
        _gates(record),
        record.interval,
        _when(record),
        _data_range(record),
        headline(record),
    ]


def _list(registry: ModelRegistry, as_json: bool) -> int:
    if as_json:
        print(payloads.dumps(payloads.models(registry)))  # the same as GET /api/v1/models
        return 0
    rows = registry.records()
    if not rows:
        print(f"No models in {registry.root}. Train some: python -m core train --coins BTC")
        return 0
    headers = ["model", "version", "role", "kind", "gates", "interval", "created (UTC)", "data"]
    headers.append("test window [95% interval] vs baseline")
    print(format_table(headers, [_row(m) for m in rows]))
    print("gates: pass = beats its baselines out of sample (it votes); champion = used for signals")
    return 0


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    return f"{value:.4g}" if isinstance(value, int | float) else str(value)


def _show(record: ModelMetadata) -> None:
    """A version's card for people: verdict, metrics beside baselines, gates, reliability."""
    role = "champion" if record.promoted else "challenger"
    print(f"{record.name} {record.version} ({_label(record.model_type)}, {role})")
    print(f"{record.symbol} {record.interval}, data {_data_range(record)}")
    for sentence in record.data.get("context_left_out", {}).values():
        print(f"note: {sentence}")
    print(verdict_words(record))
    card = record.card
    if card is None:
        return
    rows = []
    baselines = card.baselines.as_dict()
    for key, value in card.metrics.as_dict().items():
        interval = card.intervals.get(key)
        ci = f"{_fmt(interval.low)} to {_fmt(interval.high)}" if interval is not None else ""
        rows.append([key, _fmt(value), ci, _fmt(baselines.get(key))])
    print()
    print(format_table(["metric (test window)", "value", "95% interval", "baseline"], rows))
    print()
    gates = [
        [c.label, "pass" if c.passed else "FAIL", c.detail, ", ".join(c.gates)]
        for c in gate_checks(card)
    ]
    print(format_table(["gate", "result", "measured", "card keys"], gates))
    calibration = card.calibration
    if calibration is not None and calibration.table:
        print()
        print(
            f"Reliability: built on {calibration.built_on}, reported on "
            f"{calibration.reported_on} (ECE out of time "
            f"{_fmt(calibration.ece_out_of_time)})"
        )
        headers = ["bin", "built: calls", "built: hit rate", "test: calls", "test: hit rate"]
        headers.append("test: 95% interval")
        rows = [
            [
                str(r.bin),
                str(r.built_n),
                _fmt(r.built_hit_rate),
                str(r.test_n),
                _fmt(r.test_hit_rate),
                f"{r.test_low:.3g} to {r.test_high:.3g}"
                if r.test_low is not None and r.test_high is not None
                else "",
            ]
            for r in calibration.table
        ]
        print(format_table(headers, rows))
    for note in card.notes:
        print(f"note: {note}")


def _verify(registry: ModelRegistry, name: str | None, version: str | None) -> int:
    from core.errors import ModelError

    bad = 0
    if name:
        targets = [(name, version)]
    else:
        targets = []
        for record in registry.records():
            if record.error:  # its metadata.json cannot be read: damage, not a skip
                bad += 1
                print(f"FAILED  {record.error}")
            else:
                targets.append((record.name, record.version))
    for model, label in targets:
        try:
            registry.verify(model, label)
            print(f"ok      {model} {label or registry.promoted_version(model)}")
        except ModelError as exc:
            bad += 1
            print(f"FAILED  {exc}")
    return 1 if bad else 0


def run(args: argparse.Namespace) -> int:
    registry = ModelRegistry(args.context.paths.models)
    action = args.models_action or "list"
    if action == "list":
        return _list(registry, args.json)
    if action == "show":
        if args.json:  # the same as GET /api/v1/models/{name}
            print(payloads.dumps(payloads.card(registry, args.name, args.version)))
        else:
            _show(registry.record(args.name, args.version))
        return 0
    if action == "verify":
        return _verify(registry, args.name, args.version)
    if action == "promote":
        print(promote(registry, args.name, args.version, force=args.force))
        return 0
    registry.delete(args.name, args.version)
    print(f"Deleted {args.name} {args.version}; champion now: ", end="")
    try:
        print(registry.promoted_version(args.name))
    except KeyError:
        print("none (no versions left)")
    return 0
