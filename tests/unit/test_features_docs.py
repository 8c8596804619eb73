"""docs/FEATURES.md is generated from the code and must match what the code generates now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.features.causal import FEATURES
from core.features.docs import features_markdown

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "FEATURES.md"
REGENERATE = "python -m core features --list-md > docs/FEATURES.md"


def test_committed_features_doc_matches_the_code():
    assert DOC.exists(), f"docs/FEATURES.md is missing: run `{REGENERATE}`"
    assert DOC.read_text() == features_markdown(), f"docs/FEATURES.md is stale: run `{REGENERATE}`"


def test_doc_has_one_line_per_feature():
    text = DOC.read_text()
    for name, spec in FEATURES.items():
        lines = [line for line in text.splitlines() if f"| `{name}` |" in line]
        assert len(lines) == 1, name
        assert spec.description in lines[0]


def test_cli_list_md_prints_the_same_markdown():
    out = subprocess.run(
        [sys.executable, "-m", "core", "features", "--list-md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == features_markdown()
