"""The house rules the developers' guide states, read from the source (AST): who imports
whom, Kivy only under ui/, importlib only for the CLI's lazy handlers, module and function
sizes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
# The kiosk side: the terminal at the entrance. The backend never imports any of it.
KIOSK_SIDE = (
    "kiosk.terminal.ui",
    "kiosk.terminal.scanner",
    "kiosk.demo",
    "kiosk.terminal.client",
    "kiosk.terminal.outbox",
    "kiosk.terminal.outbox_sender",
    "kiosk.terminal.journey",
    "kiosk.terminal.services",
    "kiosk.terminal.state",
    "kiosk.terminal.launch",
    "kiosk.terminal.heartbeat",
    "kiosk.terminal.commands",
    "kiosk.terminal.doctor",
)
IMPORTLIB_USERS = {"kiosk.cli"}
# Importing through importlib (importlib.metadata only reads a version: not an import).
IMPORT_CALLS = {"import_module", "__import__", "spec_from_file_location", "module_from_spec"}


def modules() -> list[Path]:
    return sorted(KIOSK.rglob("*.py"))


def name_of(path: Path) -> str:
    parts = path.relative_to(KIOSK.parent).with_suffix("").parts
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


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_rules_see_every_module() -> None:
    names = {name_of(p) for p in modules()}
    assert {
        "kiosk.terminal.ui.app",
        "kiosk.backend.app",
        "kiosk.terminal.journey",
        "kiosk.cli",
    } <= names
    # The reader finds imports at the top and inside functions (the launcher's lazy ones).
    assert within_any_kivy(imports(KIOSK / "ui" / "app.py"))
    assert "kiosk.terminal.ui.app" in imports(KIOSK / "launch.py")


def test_ui_never_imports_the_backend() -> None:
    wrong = {
        f"{name_of(p)} -> {i}"
        for p in modules()
        if within(name_of(p), ("kiosk.terminal.ui",))
        for i in imports(p)
        if within(i, ("kiosk.backend",))
    }
    assert not wrong


def test_backend_never_imports_the_kiosk_side() -> None:
    wrong = {
        f"{name_of(p)} -> {i}"
        for p in modules()
        if within(name_of(p), ("kiosk.backend",))
        for i in imports(p)
        if within(i, KIOSK_SIDE)
    }
    assert not wrong


def test_kivy_is_imported_only_under_ui() -> None:
    wrong = {
        name_of(p)
        for p in modules()
        if not within(name_of(p), ("kiosk.terminal.ui",)) and within_any_kivy(imports(p))
    }
    assert not wrong


def within_any_kivy(names: set[str]) -> bool:
    return any(within(n, ("kivy",)) for n in names)


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


@pytest.mark.parametrize("path", modules(), ids=lambda p: name_of(p))
def test_no_module_over_400_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{name_of(path)}: {lines} lines"


def test_no_function_over_80_lines() -> None:
    long = set()
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.add(f"{name_of(path)}:{node.name}")
    assert not long, f"over {MAX_FUNCTION_LINES} lines: {sorted(long)}"


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

    layout = runpy.run_path(str(KIOSK.parent / "scripts" / "layout_tree.py"))
    doc = (KIOSK.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
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
        and not (KIOSK.parent / name.replace(".", "/") / "__init__.py").exists()
    }
    assert not unused, sorted(unused)
