"""docs/FEATURES.md, generated from the feature specs (a test keeps the file in step with the code)."""

from __future__ import annotations

from core.features.causal import FEATURES, GAP_FLAG_WINDOW, NEXT_CLOSE
from core.features.indicators import INDICATORS

__all__ = ["features_markdown"]


def features_markdown() -> str:
    """docs/FEATURES.md: the feature list with meanings and warm-ups, generated from FEATURES."""
    lines = [
        "# Features",
        "",
        "Generated from `core/features/causal.py` by `python -m core features --list-md > "
        "docs/FEATURES.md`; do not edit by hand (a test compares this file with the code).",
        "",
        "All features are causal (row t uses candles up to t only) and scale-free. *Warm-up* is",
        "the number of leading rows that are NaN while the look-back window fills (or, for",
        "EMA-type indicators, while the seed's influence fades); they are never zero-filled.",
        "",
        "Gaps (missing candles) are not filled: indicators run over the stored candles as if",
        "consecutive, so a window spanning a gap covers more wall-clock time than its length.",
        f"`feat_gap_recent` flags the {GAP_FLAG_WINDOW} rows from the first candle after a gap.",
        "Targets whose future window spans a gap are NaN.",
        "",
        f"{len(FEATURES)} features:",
        "",
        "| # | Feature | Warm-up | Meaning |",
        "|---|---------|--------:|---------|",
    ]
    for i, spec in enumerate(FEATURES.values(), start=1):
        lines.append(f"| {i} | `{spec.name}` | {spec.warmup} | {spec.description} |")
    # Imported here, not at the top: core.features.context imports this module.
    from core.features.context import markdown_lines

    lines += markdown_lines()
    lines += [
        "",
        "Indicators (`core.features.indicators.compute_indicators`, raw values in price units for the",
        "Charts page; the features above are built from them):",
        "",
        "| Indicator | Meaning |",
        "|-----------|---------|",
        *(f"| `{name}` | {meaning} |" for name, meaning in INDICATORS.items()),
        "",
        "Targets (`compute_targets(candles, horizon=6, threshold=0.01)`):",
        "",
        "| Target | Meaning |",
        "|--------|---------|",
        "| `target_up_1pct_6h` | 1 if close 6 candles ahead >= close * 1.01, else 0; NaN at the "
        "end and across gaps (name follows horizon and threshold) |",
        f"| `{NEXT_CLOSE}` | the next candle's close; NaN on the last row and before a gap |",
        "",
    ]
    return "\n".join(lines)
