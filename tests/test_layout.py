"""The layout rules of DESIGN.md, checked on the source (ast), every import included.

* no import cycle between files of ``portal_app/`` and ``analytics/`` — imports inside
  functions and under ``TYPE_CHECKING`` count like any other;
* no import of a Portico module inside a function (that is how circles hide);
* billing has one door: outside ``billing/`` and ``api/`` (and the set-up code: seed, cli,
  testing, the table registry, migrations) only the contract is imported —
  ``portal_app.billing.provider`` (types) and ``portal_app.billing.providers`` (the factory);
* no private name (``_x``) of one file is used by another;
* no file over 800 lines, generated migrations aside.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal_app", "analytics")
MAX_LINES = 800

BILLING = "portal_app.billing"
BILLING_DOOR = {"portal_app.billing.provider", "portal_app.billing.providers"}
# Code that may reach the ledger itself: the ledger, the Stripe wire layer, and set-up code.
LEDGER_SIDE = ("portal_app.billing", "portal_app.api", "portal_app.seed", "portal_app.cli",
               "portal_app.testing", "portal_app.models", "portal_app.migrations")


@dataclass(frozen=True)
class Import:
    """One import statement's target, as seen from the file that makes it."""

    importer: str  # dotted module name of the importing file
    module: str  # dotted module name of the imported file (resolved to a file of ours)
    names: tuple[str, ...]  # names taken with ``from module import ...``
    line: int
    in_function: bool


def module_files() -> dict[str, Path]:
    """Every module of ours, by dotted name (packages by their ``__init__``)."""
    files: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            files[".".join(parts)] = path
    return files


FILES = module_files()


def _resolve(module: str, name: str | None = None) -> str | None:
    """The file of ours that ``from module import name`` (or ``import module``) loads."""
    if name is not None and f"{module}.{name}" in FILES:
        return f"{module}.{name}"
    return module if module in FILES else None


def _function_lines(tree: ast.Module) -> set[int]:
    """Line numbers of import statements that sit inside a function body."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    lines.add(inner.lineno)
    return lines


def imports_of(module: str) -> Iterator[Import]:
    """Every import of a file of ours made by ``module``'s file."""
    path = FILES[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    nested = _function_lines(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name)
                if target:
                    yield Import(module, target, (), node.lineno, node.lineno in nested)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = _resolve(base, alias.name)
                if target:
                    names = () if target == f"{base}.{alias.name}" else (alias.name,)
                    yield Import(module, target, names, node.lineno, node.lineno in nested)


IMPORTS = [imp for module in FILES for imp in imports_of(module)]


def _cycles() -> list[list[str]]:
    """The strongly connected components of more than one file (Tarjan)."""
    graph: dict[str, set[str]] = {m: set() for m in FILES}
    for imp in IMPORTS:
        if imp.module != imp.importer:
            graph[imp.importer].add(imp.module)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_no_import_cycle_between_files() -> None:
    assert _cycles() == []


def test_no_import_of_our_modules_inside_functions() -> None:
    nested = sorted(f"{FILES[i.importer].relative_to(ROOT)}:{i.line} imports {i.module}"
                    for i in IMPORTS if i.in_function)
    assert nested == []


def test_billing_is_reached_only_through_the_contract() -> None:
    leaks = sorted(
        f"{FILES[i.importer].relative_to(ROOT)}:{i.line} imports {i.module}"
        for i in IMPORTS
        if _within(i.module, (BILLING,)) and i.module not in BILLING_DOOR
        and not _within(i.importer, LEDGER_SIDE)
    )
    assert leaks == []


def _module_aliases(tree: ast.Module) -> dict[str, str]:
    """Local names bound to modules of ours (``import a.b as c``, ``from a import b``)."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in FILES:
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in FILES:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _private(name: str) -> bool:
    """``_x`` is private; ``__x__`` and gettext's ``_`` are not."""
    return name.startswith("_") and not name.startswith("__") and name != "_"


def test_no_private_name_is_used_across_files() -> None:
    used: list[str] = []
    for imp in IMPORTS:
        for name in imp.names:
            if _private(name):
                used.append(f"{FILES[imp.importer].relative_to(ROOT)}:{imp.line} "
                            f"imports {imp.module}.{name}")
    for module, path in FILES.items():
        tree = ast.parse(path.read_text())
        aliases = _module_aliases(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and _private(node.attr)
                    and aliases[node.value.id] != module):
                used.append(f"{path.relative_to(ROOT)}:{node.lineno} uses "
                            f"{aliases[node.value.id]}.{node.attr}")
    assert sorted(used) == []


def test_no_file_over_800_lines() -> None:
    long = sorted(f"{path.relative_to(ROOT)}: {n} lines" for module, path in FILES.items()
                  if not _within(module, ("portal_app.migrations",))
                  and (n := len(path.read_text().splitlines())) > MAX_LINES)
    assert long == []


@pytest.mark.parametrize("source, expected", [
    ("from portal_app.billing import customers", "portal_app.billing.customers"),
    ("from portal_app.errors import InvalidRequest", "portal_app.errors"),
    ("import portal_app.models", "portal_app.models"),
])
def test_imports_resolve_to_files(source: str, expected: str, tmp_path: Path) -> None:
    # The resolver itself: a name that is a submodule is that file, else the module's.
    node = ast.parse(source).body[0]
    if isinstance(node, ast.ImportFrom):
        assert _resolve(node.module or "", node.names[0].name) == expected
    else:
        assert isinstance(node, ast.Import)
        assert _resolve(node.names[0].name) == expected
