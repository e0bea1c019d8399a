"""The house rules, read from the source (AST) by package prefix: which part may import which,
Kivy only in the terminal's ui, the CLI's handlers resolvable, sizes and docstrings."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KIOSK = REPO / "kiosk"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
MAX_TOP_MODULES = 8  # the shared contract and the entry point
MAX_BACKEND_TOP_MODULES = 12
SHARED = "kiosk"  # modules directly in kiosk/, and kiosk.config
TERMINAL = "kiosk.terminal"
BACKEND = "kiosk.backend"
DEMO = "kiosk.demo"
# Inside the backend, imports go down this list, never up, and never sideways into
# another package of the same layer.
BACKEND_LAYERS: tuple[tuple[str, ...], ...] = (
    ("commands",),  # `kiosk backend` and the other backend commands
    ("app",),  # create_app: puts the faces together
    ("api", "console", "demo_visits"),  # the two faces: kiosks' API, staff's console
    ("enrollment",),  # one-time codes that register kiosks
    ("desk", "privacy", "kiosks"),
    ("library", "reports"),
    ("steering",),  # the steered settings' versions and the locations
    ("provisioning",),
    ("metrics", "backup", "migrations"),
    ("db",),
)
NOT_IN_SESSION_RULES = ("kivy", "requests", "urllib3", "sqlalchemy", "fastapi", "sqlite3", "cv2")
IMPORTLIB_USERS = {"kiosk.cli"}
# Importing through importlib (importlib.metadata only reads a version: not an import).
IMPORT_CALLS = {"import_module", "__import__", "spec_from_file_location", "module_from_spec"}


def modules() -> list[Path]:
    return sorted(KIOSK.rglob("*.py"))


def name_of(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module the file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def part_of(name: str) -> str:
    """Which of the three parts (or the demo) a kiosk module belongs to."""
    for part in (TERMINAL, BACKEND, DEMO):
        if within(name, part):
            return part
    return SHARED


def wrong_imports(rule: object) -> set[str]:
    """`importer -> imported` for every kiosk import that rule(importer, imported) refuses."""
    assert callable(rule)
    return {
        f"{name_of(p)} -> {i}"
        for p in modules()
        for i in imports(p)
        if within(i, "kiosk") and not rule(name_of(p), i)
    }


def test_the_rules_see_every_part() -> None:
    names = {name_of(p) for p in modules()}
    assert {"kiosk.terminal.ui.app", "kiosk.backend.app", "kiosk.terminal.journey"} <= names
    assert {"kiosk.cli", "kiosk.protocol", "kiosk.config", "kiosk.config.guestbook"} <= names
    # The reader finds imports at the top and inside functions (the launcher's lazy ones).
    assert "kiosk.terminal.ui.app" in imports(KIOSK / "terminal" / "launch.py")
    assert part_of("kiosk.config.members") == SHARED
    assert part_of("kiosk.backend.desk.checkins") == BACKEND


def test_the_shared_contract_imports_no_part() -> None:
    assert not wrong_imports(lambda me, it: part_of(me) != SHARED or part_of(it) == SHARED)


def test_the_terminal_and_the_backend_never_import_each_other() -> None:
    apart = {TERMINAL: BACKEND, BACKEND: TERMINAL}
    assert not wrong_imports(lambda me, it: part_of(it) != apart.get(part_of(me)))
    assert not wrong_imports(lambda me, it: part_of(me) == DEMO or part_of(it) != DEMO)


def test_kivy_is_imported_only_under_the_terminals_ui() -> None:
    wrong = {
        name_of(p)
        for p in modules()
        if not within(name_of(p), "kiosk.terminal.ui")
        and any(within(i, "kivy") for i in imports(p))
    }
    assert not wrong


def test_the_session_rules_import_no_ui_http_or_database() -> None:
    wrong = {
        f"{name_of(p)} -> {i}"
        for p in modules()
        if within(name_of(p), "kiosk.terminal.session")
        for i in imports(p)
        if any(within(i, lib) for lib in NOT_IN_SESSION_RULES)
        or (within(i, "kiosk") and part_of(i) != SHARED and not within(i, "kiosk.terminal.session"))
    }
    assert not wrong


def backend_place(name: str) -> tuple[int, str] | None:
    """(layer, package) of a backend module; None for the package itself."""
    rest = name.removeprefix(BACKEND + ".")
    if rest == name:
        return None
    package = rest.split(".")[0]
    for layer, packages in enumerate(BACKEND_LAYERS):
        if package in packages:
            return layer, package
    raise AssertionError(f"{name}: in no layer of BACKEND_LAYERS; place it there")


def backend_import_allowed(me: str, it: str) -> bool:
    mine, its = backend_place(me), backend_place(it)
    if mine is None or its is None or part_of(it) != BACKEND:
        return True
    return its[0] > mine[0] or its[1] == mine[1]


def test_imports_inside_the_backend_go_one_way() -> None:
    assert not wrong_imports(
        lambda me, it: part_of(me) != BACKEND or backend_import_allowed(me, it)
    )


def test_the_top_of_kiosk_is_the_contract_and_the_backend_is_grouped() -> None:
    top = sorted(p.name for p in KIOSK.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top
    backend_top = sorted(p.name for p in (KIOSK / "backend").glob("*.py"))
    assert len(backend_top) <= MAX_BACKEND_TOP_MODULES, backend_top


def test_every_cli_handler_resolves() -> None:
    """Each "module:function" the CLI names imports and is callable: a moved handler fails
    here, not in a user's command (a subprocess: the handlers' modules load Kivy's config)."""
    code = (
        "import importlib, sys\n"
        "from kiosk.cli import HANDLERS\n"
        "bad = []\n"
        "for command, target in HANDLERS.items():\n"
        "    module, _, function = target.partition(':')\n"
        "    try:\n"
        "        handler = getattr(importlib.import_module(module), function)\n"
        "        assert callable(handler)\n"
        "    except Exception as exc:\n"
        "        bad.append(f'{command}: {target}: {exc!r}')\n"
        "print(len(HANDLERS), bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    count, _, bad = result.stdout.strip().partition(" ")
    assert int(count) >= 17
    assert bad == "[]", bad


def imports_by_name(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in IMPORT_CALLS:
            return True
        if isinstance(node, ast.Name) and node.id in IMPORT_CALLS:
            return True
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("importlib"):
            if any(alias.name in IMPORT_CALLS for alias in node.names):
                return True
    return False


def test_importlib_only_for_the_clis_lazy_handlers() -> None:
    users = {name_of(p) for p in modules() if imports_by_name(p)}
    assert "kiosk.cli" in users, "the check must see the CLI's own lazy import"
    assert users <= IMPORTLIB_USERS


def sources() -> list[Path]:
    """The project's own Python: the package, the benchmarks and the scripts."""
    return [*modules(), *sorted((REPO / "bench").glob("*.py")), *(REPO / "scripts").glob("*.py")]


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_file_over_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(REPO)}: {lines} lines"


def test_no_function_over_80_lines() -> None:
    long = set()
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.add(f"{path.relative_to(REPO)}:{node.name} ({length})")
    assert not long, f"over {MAX_FUNCTION_LINES} lines: {sorted(long)}"


def test_every_module_says_its_one_job_in_one_or_two_lines() -> None:
    """The why and the figures live in docs/ARCHITECTURE.md and docs/benchmarks.md; Alembic's
    revisions keep the header Alembic writes."""
    wrong = []
    for path in modules():
        if "migrations" in path.parts:
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        if not doc or len(doc.splitlines()) > 2:
            wrong.append(f"{name_of(path)}: {len(doc.splitlines()) if doc else 0} lines")
    assert not wrong, wrong


def import_graph() -> dict[str, set[str]]:
    """Module -> the kiosk modules it imports (a package's __init__ counts as the package)."""
    names = {name_of(p) for p in modules()}
    graph: dict[str, set[str]] = {}
    for path in modules():
        me = name_of(path)
        graph[me] = {i for i in imports(path) if i in names and i != me}
    return graph


def test_no_import_circles() -> None:
    """A circle means two modules are one job split badly (or one reaches back up)."""
    graph = import_graph()
    circles = set()
    for start in graph:
        stack = [(start, (start,))]
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    circles.add(" -> ".join(min(trail[i:] + trail[:i] for i in range(len(trail)))))
                elif nxt not in trail and nxt > start:
                    stack.append((nxt, (*trail, nxt)))
    assert not circles, sorted(circles)


def test_architecture_shows_the_current_layout() -> None:
    """docs/ARCHITECTURE.md's tree lists every module with its docstring's first sentence."""
    import runpy

    layout = runpy.run_path(str(REPO / "scripts" / "layout_tree.py"))
    doc = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert layout["with_tree"](doc) == doc, "run: python scripts/layout_tree.py --write"


def test_every_module_is_used_by_the_runtime() -> None:
    """Reachable from the `kiosk` command (its lazy handlers included) through imports; a
    module only tests, benchmarks or scripts import belongs with them, not in kiosk/."""
    import runpy

    handlers = runpy.run_path(str(KIOSK / "cli.py"))["HANDLERS"]
    graph = import_graph()
    seen = {"kiosk.cli", "kiosk.__main__"} | {h.partition(":")[0] for h in handlers.values()}
    todo = list(seen)
    while todo:
        for nxt in graph.get(todo.pop(), set()) - seen:
            seen.add(nxt)
            todo.append(nxt)
    # Alembic loads the migrations by path; packages count through their modules.
    unused = {
        name
        for name in graph
        if name not in seen
        and not name.startswith("kiosk.backend.migrations")
        and not (REPO / name.replace(".", "/") / "__init__.py").exists()
    }
    assert not unused, sorted(unused)
