"""The journal's hash chain: every line sealed with the sha256 of the one before it.

Each line of a journal file (``signals.jsonl``, ``outcomes.jsonl``) carries three fields besides
its content: ``seq`` (1, 2, 3, ... per file), ``prev`` (the ``hash`` of the entry before it) and
``hash`` (the sha256 of the line's canonical JSON without ``hash``). Editing a line breaks its own
hash; rewriting its hash breaks the next line's ``prev``; deleting a line leaves a gap in ``seq``;
deleting the last lines is caught by the head file (``{name}.head.json``: the last ``seq`` and
``hash`` written, replaced atomically after every append). :func:`verify` says which line.

Journals written before the chain existed are not rewritten: the first sealed line's ``prev`` is
the sha256 of every byte before it, so the older lines are sealed from then on (a change made to
them before that moment cannot be detected, and :func:`verify` says so).

A writer killed mid-line leaves a torn line (:func:`torn`: the start of a JSON object, cut short)
that the next writer ends with a newline; readers skip it and the chain runs past it (the next
entry follows the last whole one), so :func:`verify` reports it as a note, not as tampering. Any
other line that is not an entry (not JSON, not an object, bad UTF-8, or an object the caller's
``check`` refuses, such as one missing a field) is damage: readers skip it with a warning and
:func:`verify` reports it as a problem. So is a missing head file beside sealed entries (the
last lines may have been deleted together with it). Callers hold the journal's lock around
:func:`append`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.atomic import atomic_write_json
from core.errors import storage_error

__all__ = ["ChainReport", "append", "damage", "entry_hash", "head_path", "torn", "verify_file"]


def _canonical(row: Mapping[str, Any]) -> bytes:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(row: Mapping[str, Any]) -> str:
    """The sha256 of ``row`` (as read back from JSON) without its ``hash`` field."""
    return hashlib.sha256(_canonical({k: v for k, v in row.items() if k != "hash"})).hexdigest()


def head_path(path: Path) -> Path:
    """``signals.jsonl`` → ``signals.head.json`` in the same folder."""
    return path.with_name(path.name.removesuffix(".jsonl") + ".head.json")


def _read_head(path: Path) -> dict[str, Any] | None:
    try:
        head = json.loads(head_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return head if isinstance(head, dict) and isinstance(head.get("seq"), int) else None


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        row = json.loads(line)
    except ValueError:
        return None
    return row if isinstance(row, dict) else None


_LITERALS = ("null", "true", "false", "NaN", "Infinity", "-Infinity")
_NUMBER_END = re.compile(r"-|[.eE][+-]?")


def torn(line: bytes) -> bool:
    """True when ``line`` is the start of a JSON object cut short: what a writer killed mid-line
    leaves (harmless: readers skip it). A line that is whole JSON, or that could never become a
    JSON object however it went on (a list, bad UTF-8, stray text), is not torn but damaged."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data":  # a cut inside the last character is torn
            return False
        text = line[: exc.start].decode("utf-8", errors="strict")
    if not text.startswith("{"):
        return False
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        rest = text[exc.pos :]
        return (
            not rest
            or exc.msg.startswith("Unterminated string")
            or (exc.msg.startswith("Invalid \\uXXXX") and len(rest) < 6)  # cut in "\u00e9"
            or any(word.startswith(rest) for word in _LITERALS)
            or _NUMBER_END.fullmatch(rest) is not None
        )
    return False


def damage(line: bytes) -> str:
    """Why ``line`` (neither an object nor :func:`torn`) is not a journal entry, in words."""
    if not line.strip():
        return "it is empty"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"it is not valid UTF-8 (byte {exc.start + 1})"
    try:
        value = json.loads(text)
    except ValueError:
        return "it is not JSON"
    kind = {list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return f"it is JSON {kind.get(type(value), 'a number')}, not an object"


def _tail(data: bytes) -> tuple[int, str]:
    """The last sealed entry's ``(seq, hash)``; ``(0, sha256(data))`` when nothing is sealed yet."""
    for line in reversed(data.split(b"\n")):
        row = _parse(line) if line.strip() else None
        if row is not None and "hash" in row and isinstance(row.get("seq"), int):
            return int(row["seq"]), str(row["hash"])
    return 0, hashlib.sha256(data).hexdigest()


def _last_bytes(path: Path, size: int = 1 << 16) -> bytes:
    """The file's last ``size`` bytes from a line start (the chain's tail is all append needs)."""
    if not path.exists():
        return b""
    with open(path, "rb") as handle:
        end = handle.seek(0, 2)
        handle.seek(max(0, end - size))
        data = handle.read()
    return data if end <= size else data[data.find(b"\n") + 1 :]


def append(path: Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Seal ``rows`` onto the chain and append them to ``path`` in one write; returns the count.

    The head file is replaced after the write, so a kill between the two leaves the head one
    batch behind (harmless: :func:`verify` accepts a head behind the file, never ahead of it).
    """
    rows = list(rows)
    if not rows:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _last_bytes(path)
    prefix = b"\n" if data and not data.endswith(b"\n") else b""  # end a torn last line first
    seq, prev = _tail(data + prefix)
    if seq == 0:  # nothing sealed near the end: the first seal covers every byte before it
        data = path.read_bytes() if path.exists() else b""
        seq, prev = _tail(data + prefix)
    head = _read_head(path)
    seq = max(seq, int(head["seq"]) if head else 0)  # a deleted tail stays visible as a gap
    lines = []
    for row in rows:
        seq += 1
        body = json.loads(json.dumps({**row, "seq": seq, "prev": prev}, default=str))
        prev = entry_hash(body)
        lines.append(json.dumps({**body, "hash": prev}, ensure_ascii=False) + "\n")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, prefix + "".join(lines).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:  # a full disk may leave a torn line: readers skip it, the next ends it
        error = storage_error(exc, path)
        if error is None:
            raise
        raise error from exc
    atomic_write_json(head_path(path), {"file": path.name, "seq": seq, "hash": prev})
    return len(lines)


@dataclass
class ChainReport:
    """What :func:`verify_file` found in one file: ``problems`` (tampering: edited, deleted or
    inserted lines, each naming its line) and ``notes`` (torn writes, lines from before the chain,
    a head that lags)."""

    name: str
    entries: int = 0
    legacy: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_file(
    path: Path, check: Callable[[Mapping[str, Any]], str | None] | None = None
) -> ChainReport:
    """Check every line of one journal file against the chain and its head file.

    ``check(row)`` says why a parsed object is not a usable entry (a missing field), or ``None``.
    """
    report = ChainReport(path.name)
    if not path.exists():
        if _read_head(path):
            report.problems.append(f"{path.name} is missing but its head file records entries.")
        return report
    data = path.read_bytes()
    parts = data.split(b"\n")
    offset = 0
    last_seq, last_hash, last_line = 0, "", 0
    for number, line in enumerate(parts, start=1):
        start, offset = offset, offset + len(line) + 1
        if number == len(parts):  # after the final newline: empty, or a line still being written
            if line.strip():
                report.notes.append(f"line {number} is torn (a writer was killed mid-line).")
            break
        row = _parse(line)
        if row is None:
            if torn(line):
                report.notes.append(
                    f"line {number} is unreadable (a torn write, ended by the next writer); "
                    "readers skip it."
                )
            else:
                report.problems.append(
                    f"line {number} is not a journal entry: {damage(line)}; readers skip it."
                )
            continue
        why = check(row) if check is not None else None
        if why:
            report.problems.append(f"line {number} is not a journal entry: {why}; readers skip it.")
            continue  # readers skip it, so the chain does too: its damage is the one problem
        if "hash" not in row:
            if last_line:
                report.problems.append(
                    f"line {number} has no chain fields: it was inserted after line {last_line}."
                )
            else:
                report.legacy += 1
            continue
        where = f"line {number} (entry #{row.get('seq')})"
        if entry_hash(row) != row["hash"]:
            report.problems.append(f"{where} was edited: its content no longer matches its sha256.")
        seq = row.get("seq")
        expected_prev = last_hash if last_line else hashlib.sha256(data[:start]).hexdigest()
        if not isinstance(seq, int) or seq <= last_seq:
            report.problems.append(f"{where} is out of order (after entry #{last_seq}).")
        elif seq != last_seq + 1:
            missing = f"#{last_seq + 1}" if seq == last_seq + 2 else f"#{last_seq + 1}-#{seq - 1}"
            report.problems.append(f"entry {missing} before line {number} was deleted.")
        elif row.get("prev") != expected_prev:
            if last_line:
                report.problems.append(
                    f"{where} does not chain to line {last_line}: line {last_line} was rewritten."
                )
            else:
                report.problems.append(
                    f"the {report.legacy} line(s) before {where}, written before the chain, "
                    "were changed or deleted."
                )
        last_seq, last_hash, last_line = (
            seq if isinstance(seq, int) else last_seq,
            row["hash"],
            number,
        )
        report.entries += 1
    if report.legacy:
        first = "the first sealed line" if report.entries else "nothing yet"
        report.notes.append(
            f"{report.legacy} line(s) were written before the chain existed; they are sealed by "
            f"{first} (changes made to them before that cannot be detected)."
        )
    head = _read_head(path)
    if head is None and report.entries:
        state = "unreadable" if head_path(path).exists() else "missing"
        report.problems.append(
            f"the head file {head_path(path).name} is {state} beside {report.entries} sealed "
            f"entries: entries at the end of {path.name} may have been deleted with it. If "
            "nothing was deleted, the next signal recorded writes a new head."
        )
    if head is not None:
        if head["seq"] > last_seq:
            missing = (
                f"#{last_seq + 1}"
                if head["seq"] == last_seq + 1
                else (f"#{last_seq + 1}-#{head['seq']}")
            )
            report.problems.append(
                f"entry {missing} at the end of {path.name} was deleted "
                f"(the head file records #{head['seq']})."
            )
        elif head["seq"] == last_seq and head.get("hash") != last_hash:
            report.problems.append(
                f"line {last_line} (entry #{last_seq}, the last) was rewritten: it does not match "
                "the head file."
            )
        elif head["seq"] < last_seq:
            report.notes.append(
                f"the head file lags at entry #{head['seq']} (a writer was killed before "
                "updating it); the next write brings it up to date."
            )
    return report
