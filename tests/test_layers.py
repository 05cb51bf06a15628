"""The rooms keep to their doors: each package imports only the packages below it, and no
module imports one that imports it back (read from the source, every import counted,
also those inside functions and under TYPE_CHECKING)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("casework", "intake", "routing", "notifications", "handling", "privacy", "web",
            "complaintd")
# Which of our packages each may import (docs/architecture.md, "The rooms").
ALLOWED = {
    "casework": set(),
    "intake": {"casework"},
    "routing": {"casework"},
    "notifications": {"casework"},
    "handling": {"casework", "routing", "notifications"},
    # Personal-information duties: casework's tables and the outbox's copies of mail.
    "privacy": {"casework", "notifications"},
    # The staff console: shows through casework.queries, acts through routing's table
    # (a person's privacy requests through privacy.person, as the CLI); only the
    # composition root (complaintd) builds it.
    "web": {"casework", "routing", "handling", "notifications", "privacy"},
    "complaintd": set(PACKAGES),
}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(path: Path, known: dict[str, Path]) -> Iterator[str]:
    """Our modules that ``path`` imports (``from a import b``: ``a.b`` when it is a module)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] in PACKAGES:
            subs = [f"{node.module}.{a.name}" for a in node.names]
            named = [s for s in subs if s in known]
            yield from named
            if len(named) < len(subs):
                yield node.module


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {m for m in imports_of(path, known) if m in known and m != name}
            for name, path in known.items()}


def test_each_package_imports_only_the_packages_below_it() -> None:
    wrong = sorted(f"{module} imports {target}"
                   for module, targets in graph().items() for target in targets
                   if (top := target.split(".")[0]) != module.split(".")[0]
                   and top not in ALLOWED[module.split(".")[0]])
    assert wrong == []


def test_no_module_imports_one_that_imports_it_back() -> None:
    edges = graph()
    # A package's __init__ re-exporting its own modules is not a circle of design.
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in edges.items()}
    assert [sorted(c) for c in _cycles(edges)] == []


def _cycles(edges: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                top = stack.pop()
                component.add(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found
