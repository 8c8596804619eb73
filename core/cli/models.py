"""``python -m core models``: list the model registry; show, verify, promote or delete versions."""

from __future__ import annotations

import argparse
import json
from typing import Any

from core.cli._common import format_table
from core.registry.model_registry import ModelRegistry, headline_metrics

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list the model registry (promote, delete, verify, show)",
        description="Without an action: every model version as a table (* = promoted).",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION")
    actions.add_parser("list", help="every version (the default)")
    for action, text in (
        ("show", "one version's full metadata as JSON (promoted by default)"),
        ("verify", "check every artifact's checksum without loading anything"),
    ):
        p = actions.add_parser(action, help=text)
        p.add_argument("name", nargs="?" if action == "verify" else None)
        p.add_argument("version", nargs="?")
    p_promote = actions.add_parser("promote", help="make a version the one signals use")
    p_promote.add_argument("name")
    p_promote.add_argument("version")
    p_delete = actions.add_parser("delete", help="remove a version (its number is not reused)")
    p_delete.add_argument("name")
    p_delete.add_argument("version")
    parser.set_defaults(func=run)


def _when(meta: dict[str, Any]) -> str:
    return str(meta.get("created_at") or "")[:16].replace("T", " ")


def _data_range(meta: dict[str, Any]) -> str:
    data = meta.get("data") or {}
    start, end = str(data.get("start") or "")[:10], str(data.get("end") or "")[:10]
    return f"{start} → {end}" if start or end else ""


def _row(meta: dict[str, Any]) -> list[object]:
    numbers = "  ".join(f"{k} {v}" for k, v in headline_metrics(meta).items())
    return [
        meta.get("name"),
        str(meta.get("version")) + (" *" if meta.get("promoted") else ""),
        meta.get("interval", ""),
        _when(meta),
        _data_range(meta),
        meta.get("error") or numbers,
    ]


def _list(registry: ModelRegistry, as_json: bool) -> int:
    rows = registry.list_models()
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        print(f"No models in {registry.root}. Train some: python -m core train --coins BTC")
        return 0
    headers = ["model", "version", "interval", "created (UTC)", "data", "test (baseline)"]
    print(format_table(headers, [_row(m) for m in rows]))
    print("* = promoted (used for signals)")
    return 0


def _verify(registry: ModelRegistry, name: str | None, version: str | None) -> int:
    from core.errors import ModelError

    targets = (
        [(name, version)]
        if name
        else [(m["name"], m["version"]) for m in registry.list_models() if "error" not in m]
    )
    bad = 0
    for model, label in targets:
        try:
            registry.verify(model, label)
            print(f"ok      {model} {label or registry.promoted_version(model)}")
        except ModelError as exc:
            bad += 1
            print(f"FAILED  {exc}")
    return 1 if bad else 0


def run(args: argparse.Namespace) -> int:
    registry = ModelRegistry()
    action = args.models_action or "list"
    if action == "list":
        return _list(registry, args.json)
    if action == "show":
        print(json.dumps(registry.get_metadata(args.name, args.version), indent=2, default=str))
        return 0
    if action == "verify":
        return _verify(registry, args.name, args.version)
    if action == "promote":
        meta = registry.promote(args.name, args.version)
        print(f"{meta['name']} {meta['version']} is now promoted.")
        return 0
    registry.delete(args.name, args.version)
    print(f"Deleted {args.name} {args.version}; promoted now: ", end="")
    try:
        print(registry.promoted_version(args.name))
    except KeyError:
        print("none (no versions left)")
    return 0
