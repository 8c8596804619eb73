"""Architecture rules from DESIGN.md that a refactor could silently break."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import importlib, pkgutil, sys
import core
names = [m.name for m in pkgutil.walk_packages(core.__path__, "core.")
         if m.name not in {"core.__main__"}]
for name in names:
    importlib.import_module(name)
heavy = sorted(m for m in ("tensorflow", "keras", "streamlit") if m in sys.modules)
print(len(names), ",".join(heavy))
"""


def test_importing_every_core_module_loads_neither_tensorflow_nor_streamlit():
    out = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[0]) >= 8, "expected the core package to have its modules"
    assert len(out) == 1, f"importing core loaded {out[1]}"


def test_pages_do_no_file_io_or_subprocess_calls():
    forbidden = ("open(", "subprocess", "os.replace", "to_parquet", "read_parquet", "Popen")
    for page in sorted((ROOT / "pages").glob("*.py")):
        text = page.read_text()
        found = [f for f in forbidden if f in text]
        assert not found, f"{page.name} does {found}: move it into ui/ or core/"


def test_core_never_imports_streamlit():
    for path in sorted((ROOT / "core").rglob("*.py")):
        text = path.read_text()
        assert "import streamlit" not in text and "from streamlit" not in text, path


def test_no_core_module_is_over_600_lines():
    """Size is a guide read by purpose (issue 18): a concept is not split to meet a count, but a
    module past 600 lines holds more than one and is cut where its purposes part."""
    long = {
        str(p.relative_to(ROOT)): n
        for p in sorted((ROOT / "core").rglob("*.py"))
        if (n := len(p.read_text().splitlines())) > 600
    }
    assert not long, f"these modules hold more than one concept (over 600 lines): {long}"


def _literals(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that are not docstrings, with their line."""
    import ast

    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


#: Literals that name something else with the same spelling, or read files older than kinds'
#: registry (owned by the job and journal layers): ``path: {literal: why}``.
_NOT_A_KIND = {
    "core/training/provenance.py": {"xgboost": "the library's name, for its version"},
    "core/jobs/spec.py": {"xgboost": "v1 job specs", "lstm": "v1 job specs"},
    "core/signals/journal.py": {"xgboost": "v1 journal columns", "lstm": "v1 journal columns"},
}


def test_no_kind_is_named_outside_core_models():
    """A kind's facts live in its registry entry (core/models): drift, tuning, config, the
    Training form and the signals ask the registry; none spells a kind's name."""
    from core.models import kinds

    names = set(kinds())
    files = [
        *(ROOT / "core").rglob("*.py"),
        *(ROOT / "ui").rglob("*.py"),
        *(ROOT / "pages").rglob("*.py"),
        ROOT / "streamlit_app.py",
    ]
    found = []
    for path in sorted(files):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("core/models/"):
            continue
        allowed = _NOT_A_KIND.get(rel, {})
        for line, text in _literals(path):
            if text.strip().lower() in names and text.strip().lower() not in allowed:
                found.append(f"{rel}:{line} {text!r}")
    assert not found, "kind names outside core/models (ask the registry instead):\n" + "\n".join(
        found
    )


def test_core_has_no_posix_only_file_lock_or_proc_reads():
    """Any OS: locks go through core.locks (filelock), processes through core.procs (psutil)."""
    for path in sorted((ROOT / "core").rglob("*.py")):
        text = path.read_text()
        assert "fcntl" not in text, f"{path.name} uses fcntl: take core.locks.file_lock"
        assert '"/proc' not in text and "'/proc" not in text, f"{path.name} reads /proc: use psutil"


#: The stages, lowest first: a module imports only from its own package and from stages below
#: (issue 18). Training imports the registry to save a version, so the registry sits below it;
#: volatility's measures, baselines and inputs are features the models stage builds on.
#: ``python -m tests.import_rules --list`` prints what the rules below count.
STAGES: list[tuple[str, ...]] = [
    ("core.errors",),
    ("core", "core.config", "core.atomic", "core.locks", "core.procs"),
    ("core.clock",),
    ("core.context",),
    ("core.data",),
    ("core.features",),
    ("core.volatility.realized", "core.volatility.baselines", "core.volatility.features"),
    ("core.models",),
    ("core.registry",),
    ("core.training",),
    ("core.volatility",),
    ("core.tuning",),
    ("core.jobs", "core.signals"),
    ("core.monitor", "core.words"),
    ("core.usecases", "core.verdict"),
    ("core.live", "core.api"),
    ("core.cli",),
    ("core.__main__",),
    ("ui",),
    ("pages", "streamlit_app"),
]

#: Imports that still run up, each with why and who ends it.
_WAIVED: dict[tuple[str, str], str] = {}


def _stage(module: str) -> tuple[int, str]:
    """(rank, room) of a module: the longest stage prefix that holds it."""
    best = (-1, "")
    for rank, rooms in enumerate(STAGES):
        for room in rooms:
            if (module == room or module.startswith(room + ".")) and len(room) > len(best[1]):
                best = (rank, room)
    return best


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "core" else parts[0]


def test_every_import_runs_down_the_stages():
    """data -> features -> models -> registry -> training -> ... -> cli -> ui -> pages, counting
    imports inside functions too (a lazy import is still a dependency). Inside one package
    anything goes (the loops test below watches that)."""
    from tests.import_rules import edges

    graph = edges(in_functions=True)
    upward = []
    for source, targets in sorted(graph.items()):
        rank, _ = _stage(source)
        assert rank >= 0, f"{source} is in no stage: add its package to STAGES"
        for target in sorted(targets):
            if _package(target) == _package(source) or (source, target) in _WAIVED:
                continue
            if _stage(target)[0] >= rank:
                upward.append(f"{source} -> {target}")
    assert not upward, "imports that run up or across the stages:\n" + "\n".join(upward)


def test_no_import_loop_at_module_level():
    """Modules load in one order: no loop among module-level imports (a package may still
    import lazily inside a function, which the stage test above counts)."""
    from tests.import_rules import loops

    assert loops(in_functions=False) == []


def test_no_import_loop_counting_imports_inside_functions():
    """A lazy import still ties two modules: no loop through one either."""
    from tests.import_rules import loops

    assert loops(in_functions=True) == []


def test_the_home_and_the_clock_are_passed_not_read_from_the_environment():
    """Issue 18.5: below the edge (core/config.py, core/clock.py, core/context.py, the CLI's
    entry) nothing reads CRYPTOVOLT_HOME / CRYPTOVOLT_NOW or calls ``home()``: the home and the
    clock come in as arguments (a :class:`core.context.Context`, or what a stage needs of it);
    and only the job launcher writes the home, into a child process's environment."""
    from tests.import_rules import ambient_env

    found = ambient_env()
    assert not found, "take the home / clock as an argument instead:\n" + "\n".join(found)


#: Modules that still read a folder of the home from config: none since issue 18.5 (c) (the
#: candle store takes ``paths=``). This list may only shrink: it stays empty.
_DIRS_LEFT: set[str] = set()


def test_the_home_folders_are_passed_not_read_from_config():
    """Issue 18.5: below the edges (the CLI, the dashboard, core/context.py, core/config.py) no
    module calls ``config.raw_dir()`` / ``data_dir()`` / ``runs_dir()`` / ``logs_dir()`` /
    ``models_dir()``: a stage is passed its folder (``context.paths.runs``, a registry root),
    beyond the modules listed above."""
    from tests.import_rules import ambient_dirs

    found = [f for f in ambient_dirs() if f.split(":", 1)[0] not in _DIRS_LEFT]
    assert not found, "take the folder as an argument (context.paths):\n" + "\n".join(found)


def test_no_module_re_exports_a_name_it_does_not_define():
    """One home and one import path per name: a name is imported from the module that defines
    it (or from its package's ``__init__``, the public face), never through another module."""
    from tests.import_rules import foreign_reexports

    found = foreign_reexports()
    assert not found, "import these from their home:\n" + "\n".join(found)


def test_no_module_imports_another_modules_private_name():
    from tests.import_rules import private_imports

    found = private_imports()
    assert not found, "private names taken from another module:\n" + "\n".join(found)
