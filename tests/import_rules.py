"""The import graph of the product's code (core/, ui/, pages/, streamlit_app.py), read with ``ast``.

Used by tests/unit/test_architecture.py; run it to print the counts the architecture tests hold
at zero: ``.venv/bin/python -m tests.import_rules`` (``--list`` names every finding).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("core", "ui", "pages")

#: Where the home folder and the pretend clock may be read from the environment: the edge.
ENV_EDGE = {"core/config.py", "core/clock.py", "core/context.py"}
AMBIENT = ("CRYPTOVOLT_HOME", "CRYPTOVOLT_NOW")


@dataclass(frozen=True)
class Import:
    """One ``from module import name`` (``name`` None for a plain ``import module``)."""

    source: str  # the importing module, dotted
    module: str  # the imported module, dotted
    name: str | None
    line: int
    in_function: bool
    type_checking: bool


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    defined: set[str] = field(default_factory=set)
    imported: set[str] = field(default_factory=set)
    imports: list[Import] = field(default_factory=list)
    all_names: list[str] | None = None


def _dotted(path: Path) -> tuple[str, bool]:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _resolve(module: Module, level: int, target: str | None) -> str:
    if not level:
        return target or ""
    base = module.name.split(".")
    base = base if module.is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _read(path: Path) -> Module:
    name, is_package = _dotted(path)
    module = Module(name, path, is_package)
    tree = ast.parse(path.read_text())

    def visit(nodes: list[ast.stmt], *, top: bool, in_function: bool, tc: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.ImportFrom):
                target = _resolve(module, node.level, node.module)
                for alias in node.names:
                    module.imports.append(
                        Import(name, target, alias.name, node.lineno, in_function, tc)
                    )
                    if top:
                        module.imported.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    module.imports.append(
                        Import(name, alias.name, None, node.lineno, in_function, tc)
                    )
                    if top:
                        module.imported.add((alias.asname or alias.name).split(".")[0])
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if top:
                    module.defined.add(node.name)
                fn = in_function or not isinstance(node, ast.ClassDef)
                visit(node.body, top=False, in_function=fn, tc=tc)
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name) and top:
                            module.defined.add(n.id)
                if (
                    top
                    and isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)
                    and isinstance(node.value, ast.List | ast.Tuple)
                ):
                    module.all_names = [
                        e.value for e in node.value.elts if isinstance(e, ast.Constant)
                    ]
            elif isinstance(node, ast.If):
                inner_tc = tc or _is_type_checking(node)
                visit(node.body, top=top, in_function=in_function, tc=inner_tc)
                visit(node.orelse, top=top, in_function=in_function, tc=tc)
            elif isinstance(node, ast.Try | ast.With | ast.For | ast.While):
                for block in ("body", "handlers", "orelse", "finalbody"):
                    for part in getattr(node, block, []) or []:
                        body = part.body if isinstance(part, ast.ExceptHandler) else [part]
                        visit(body, top=top, in_function=in_function, tc=tc)

    visit(tree.body, top=True, in_function=False, tc=False)
    return module


@cache
def modules() -> dict[str, Module]:
    """Every module of the product's code and of its tests by dotted name."""
    paths = [p for d in (*SOURCES, "tests") for p in sorted((ROOT / d).rglob("*.py"))]
    # scripts that recorded fixtures at an older commit (they name it) and run there
    paths = [p for p in paths if "fixtures" not in p.relative_to(ROOT).parts]
    paths.append(ROOT / "streamlit_app.py")
    found = {m.name: m for m in map(_read, paths)}
    return found


def _ours(name: str) -> bool:
    """Product code (tests import it, but are not part of it)."""
    return name.split(".")[0] in {*SOURCES, "streamlit_app"}


def product() -> list[Module]:
    return [m for m in modules().values() if _ours(m.name)]


def home_of(module: str, name: str, seen: frozenset[str] = frozenset()) -> str | None:
    """The module that defines ``name`` as reached through ``module`` (following re-exports)."""
    mods = modules()
    mod = mods.get(module)
    if mod is None or module in seen:
        return None
    if f"{module}.{name}" in mods:
        return f"{module}.{name}"
    if name in mod.defined:
        return module
    for imp in mod.imports:
        if imp.in_function or imp.type_checking:
            continue
        if imp.name == name and _ours(imp.module):
            return home_of(imp.module, name, seen | {module})
    return None


def _rel(module: str) -> str:
    return modules()[module].path.relative_to(ROOT).as_posix()


def foreign_reexports() -> list[str]:
    """``from M import n`` where M is a module (not a package's ``__init__``) that does not
    define ``n`` (it imported it, or has no such name); and names in a module's ``__all__`` that
    it does not define."""
    mods = modules()
    found: set[str] = set()
    for mod in mods.values():
        for imp in mod.imports:
            target = mods.get(imp.module)
            if target is None or target.is_package or imp.name is None:
                continue
            if imp.name not in target.defined and f"{imp.module}.{imp.name}" not in mods:
                found.add(f"{imp.module}.{imp.name} (defined in {home_of(imp.module, imp.name)})")
        if _ours(mod.name) and not mod.is_package and mod.all_names:
            for n in mod.all_names:
                if n not in mod.defined:
                    found.add(f"{mod.name}.{n} (defined in {home_of(mod.name, n)})")
    return sorted(found)


def private_imports() -> list[str]:
    """``from M import _name`` where M is another module of ours."""
    return sorted(
        f"{_rel(imp.source)}:{imp.line} {imp.module}.{imp.name}"
        for mod in product()
        for imp in mod.imports
        if imp.name and imp.name.startswith("_") and not imp.name.startswith("__")
        if _ours(imp.module)
    )


def edges(*, in_functions: bool = True) -> dict[str, set[str]]:
    """Module -> modules it imports from (of ours), each name followed to its home module."""
    graph: dict[str, set[str]] = {m.name: set() for m in product()}
    for mod in product():
        for imp in mod.imports:
            if imp.type_checking or (imp.in_function and not in_functions):
                continue
            if not _ours(imp.module):
                continue
            if imp.name is None:
                homes = [imp.module]
            else:
                homes = [home_of(imp.module, imp.name) or imp.module]
            for home in homes:
                if home in graph and home != mod.name:
                    graph[mod.name].add(home)
    return graph


def loops(*, in_functions: bool = False) -> list[list[str]]:
    """The import loops (strongly connected components of more than one module), largest first."""
    graph = edges(in_functions=in_functions)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return sorted(out, key=len, reverse=True)


def ambient_env() -> list[str]:
    """Where the home folder or the clock is taken from the process rather than passed: the
    literals ``"CRYPTOVOLT_HOME"`` / ``"CRYPTOVOLT_NOW"`` (or ``NOW_ENV``) and calls of ``home()``
    outside the edge (core/config.py, core/clock.py, core/context.py, core/cli/__init__.py), and
    every ``os.environ`` write naming the home outside the one job launcher
    (core/jobs/launcher.py)."""
    found = []
    edge = {*ENV_EDGE, "core/cli/__init__.py"}
    for mod in product():
        rel = _rel(mod.name)
        for i, line in enumerate(mod.path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if rel == "core/jobs/launcher.py":
                continue
            names_it = any(f'"{v}"' in code for v in AMBIENT) or "NOW_ENV" in code
            reads_home = re.search(r"(?<![\w.])home\(\)|config\.home\(\)", code) is not None
            writes = "os.environ[" in code and "=" in code.split("]", 1)[-1][:3]
            if (rel not in edge and (names_it or reads_home)) or (writes and "HOME" in code):
                found.append(f"{rel}:{i} {line.strip()}")
    return found


#: Where the folders of the home may be read from config (``config.raw_dir()`` and the like):
#: the edges, which build the context the stages are passed.
DIRS_EDGE = ("core/cli/", "ui/", "pages/", "streamlit_app.py", "core/context.py", "core/config.py")
_DIR_CALL = re.compile(r"(?<![\w.])(?:config\.)?(?:data|raw|runs|logs|models)_dir\(\)")


def ambient_dirs() -> list[str]:
    """Calls of ``config.data_dir()`` / ``raw_dir()`` / ``runs_dir()`` / ``logs_dir()`` /
    ``models_dir()`` below the edge (``sample_dir()``, the bundled sample inside the code, is
    not the home's): a stage takes its folder as an argument (``context.paths.raw``, ...)."""
    found = []
    for mod in product():
        rel = _rel(mod.name)
        if rel.startswith(DIRS_EDGE):
            continue
        for i, line in enumerate(mod.path.read_text().splitlines(), 1):
            if _DIR_CALL.search(line.split("#")[0]):
                found.append(f"{rel}:{i} {line.strip()}")
    return found


def main() -> None:
    show = "--list" in sys.argv
    biggest = loops()
    rows = [
        ("re-exported foreign names", foreign_reexports()),
        ("imports of a private name", private_imports()),
        ("ambient home/clock reads and env writes", ambient_env()),
        ("home folders read from config below the edge", ambient_dirs()),
    ]
    for title, items in rows:
        print(f"{title}: {len(items)}")
        if show:
            print("".join(f"  {i}\n" for i in items), end="")
    sizes = [len(c) for c in biggest]
    print(f"import loops (module level): {len(biggest)}, sizes {sizes}")
    if show:
        for comp in biggest:
            print("  " + ", ".join(comp))
    all_loops = loops(in_functions=True)
    print(f"import loops (with imports inside functions): sizes {[len(c) for c in all_loops]}")


if __name__ == "__main__":
    main()
