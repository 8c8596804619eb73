"""The tests wait for conditions, not for time (issue 17 point 6).

A fixed sleep in a test is a guess about how fast the machine is; on a shared, loaded machine
it is wrong sooner or later. Tests poll with :func:`tests.waiting.wait_until`, browser tests use
Playwright's retrying ``expect(...)``, AppTest gets :data:`tests.waiting.APP_TIMEOUT`.
"""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]

#: The sleeps that are behaviour, not a wait for a result: file -> why.
ALLOWED_SLEEPS = {
    "waiting.py": "wait_until's own poll interval",
    "fake_binance.py": "the fake's latency: a slow exchange",
    "unit/test_registry.py": "a child process's save that hangs until the test kills it",
}


def _sources() -> dict[str, str]:
    return {
        path.relative_to(TESTS).as_posix(): path.read_text(encoding="utf-8")
        for path in TESTS.rglob("*.py")
        if path.name != Path(__file__).name
    }


def test_no_test_sleeps_to_wait_for_a_result():
    found = [
        f"{name}:{text[: m.start()].count(chr(10)) + 1}"
        for name, text in _sources().items()
        if name not in ALLOWED_SLEEPS
        for m in re.finditer(
            r"\btime\.sleep\(|from time import .*\bsleep\b|\.wait_for_timeout\(", text
        )
    ]
    assert not found, (
        "wait for the condition instead (tests.waiting.wait_until, or Playwright's expect(...)): "
        + ", ".join(found)
    )


def test_every_apptest_gets_the_shared_timeout():
    found = [
        f"{name}:{text[: m.start()].count(chr(10)) + 1}"
        for name, text in _sources().items()
        for m in re.finditer(r"default_timeout=\d", text)
    ]
    assert not found, "use default_timeout=APP_TIMEOUT (tests.waiting): " + ", ".join(found)
