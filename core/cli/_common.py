"""Small helpers shared by CLI commands: tables and a terminal progress bar."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from typing import TextIO

__all__ = ["ProgressBar", "format_table"]


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain left-aligned text table."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


class ProgressBar:
    """A one-line progress bar on stderr; redraws in place on a terminal, else prints sparsely."""

    def __init__(self, total: int, label: str = "", *, stream: TextIO | None = None) -> None:
        self.total = max(int(total), 1)
        self.label = label
        self.stream = stream or sys.stderr
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_pct = -1

    def update(self, done: int, suffix: str = "") -> None:
        pct = min(100, int(100 * done / self.total))
        if not self._tty:
            if pct // 10 != self._last_pct // 10 or pct == 100 and self._last_pct != 100:
                print(f"{self.label} {pct:3d}% {suffix}".strip(), file=self.stream, flush=True)
            self._last_pct = pct
            return
        width = max(10, min(40, shutil.get_terminal_size((80, 20)).columns - 50))
        filled = int(width * pct / 100)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {pct:3d}% {suffix}"[:200].ljust(80))
        self.stream.flush()
        self._last_pct = pct

    def close(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()
