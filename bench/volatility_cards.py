"""The volatility cards of a home's registry as one table per horizon (issue 19's closing note).

Run: ``.venv/bin/python bench/volatility_cards.py --home PATH [--kind vol_har]`` after
``python -m core --home PATH fetch --sample`` and ``python -m core --home PATH train`` (the
defaults). For every coin's promoted version of ``kind``: QLIKE of the model beside persistence,
EWMA and HAR with the one-sided DM-HLN p-value against each, R² of the log realised variance,
the 80% band's coverage overall and per third of forecast volatility (quiet / mid / wild), and
the card's call (the horizon's gates, and the card's verdict). Reads the cards; fits nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.errors import ModelNotFoundError  # noqa: E402
from core.registry.gates import version_verdict  # noqa: E402
from core.registry.model_registry import ModelRegistry  # noqa: E402

BASELINES = ("persistence", "ewma", "har")


def _f(value: object, digits: int = 3) -> str:
    return "-" if value is None else f"{float(value):.{digits}f}"  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, type=Path)
    parser.add_argument("--kind", default="vol_har")
    args = parser.parse_args(argv)
    registry = ModelRegistry(args.home / "models")
    names = sorted(n for n in registry.names() if n.startswith(f"{args.kind}_"))
    for key in ("6h", "24h"):
        print(f"\n### {key}\n")
        print(
            "| coin | QLIKE model | persistence (DM p) | EWMA (DM p) | HAR (DM p) | R² model "
            "| R² pers. / EWMA / HAR | 80% cov. | 80% by third (quiet/mid/wild) | gates | call |"
        )
        print("|" + "---|" * 11)
        for name in names:
            try:
                record = registry.record(name)
            except ModelNotFoundError:
                continue
            card = record.card
            if card is None:
                continue
            m, b = card.metrics.as_dict(), card.baselines.as_dict()
            gates = {n: g for n, g in card.gates.items() if n.startswith(f"{key}_")}
            failed = [n.removeprefix(f"{key}_") for n, g in gates.items() if not g.passed]
            band = (card.bands or {}).get(key)
            terc = band.coverage_terciles.get("80") if band is not None else None
            cov = (card.coverage or {}).get(key, {}).get("80")
            print(
                f"| {record.symbol} {record.version} | {_f(m.get(f'{key}_qlike'))} | "
                + " | ".join(
                    f"{_f(b.get(f'{key}_{n}_qlike'))} ({_f(b.get(f'{key}_{n}_dm_p'))})"
                    for n in BASELINES
                )
                + f" | {_f(m.get(f'{key}_r2'), 2)} | "
                + " / ".join(_f(b.get(f"{key}_{n}_r2"), 2) for n in BASELINES)
                + f" | {_f(cov)} | {' / '.join(_f(c) for c in terc or [])} | "
                + ("pass" if not failed else "fails " + ", ".join(failed))
                + f" | {'expected move shown' if not failed else 'not shown'} |"
            )
    print()
    for name in names:
        record = registry.record(name)
        print(f"- {record.symbol}: {version_verdict(record)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
