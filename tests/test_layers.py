"""The import graph follows the data's path: no upward import, no cycle, no private reach-in.

``LAYERS`` lists winback's packages and modules once, from the bottom (exceptions, date rules)
to the top (the CLI). A module may import from its own package and from any lower layer, never
from its own layer's other members or from a higher layer. Across packages, only names a package
lists in its ``__all__`` are imported, and never from a private (``_``) module. Imports inside
functions count the same as top-level ones: hiding an import in a function does not hide a cycle.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import winback

SRC = Path(winback.__file__).parent

#: bottom to top; members of one layer may not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("exceptions",),
    ("dates", "validation", "progress"),
    ("io",),
    ("plotting", "datasets", "features"),
    ("monitoring",),
    ("models",),
    ("evaluation", "actions"),
    ("scoring", "export"),
    ("training", "campaigns"),
    ("report",),
    ("tracking",),
    ("cli",),
)
RANK = {unit: rank for rank, layer in enumerate(LAYERS) for unit in layer}


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _unit(module: str) -> str:
    """The layer unit of a module: ``winback.io._read`` -> ``io``; the root package -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(module: str, path: Path) -> Iterator[tuple[str, tuple[str, ...], int]]:
    """(imported module, imported names, line) of every winback import, wherever it is."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, target] if target else base)
            if target.split(".")[0] == "winback":
                yield target, tuple(a.name for a in node.names), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "winback":
                    yield alias.name, (), node.lineno


EDGES = [
    (module, target, names, line)
    for module, path in _modules()
    for target, names, line in _imports(module, path)
]


def test_every_package_and_module_has_a_layer() -> None:
    units = {_unit(module) for module, _ in _modules()} - {""}
    assert sorted(units - set(RANK)) == []
    assert sorted(set(RANK) - units) == []


def _upward(module: str, target: str, names: tuple[str, ...]) -> bool:
    source, dest = _unit(module), _unit(target)
    if source == dest or source == "":
        return False
    if dest == "":  # the root package: only its version string, which imports nothing
        return names != ("__version__",)
    return RANK[dest] >= RANK[source]


def test_no_module_imports_upward_or_sideways() -> None:
    bad = [
        f"{module}:{line} imports {target}" + (f" ({', '.join(names)})" if names else "")
        for module, target, names, line in EDGES
        if _upward(module, target, names)
    ]
    assert bad == []


def test_no_package_reaches_into_another_packages_private_module() -> None:
    bad = [
        f"{module}:{line} imports {target}"
        for module, target, _, line in EDGES
        if _unit(module) != _unit(target)
        and any(part.startswith("_") for part in target.split(".")[2:])
    ]
    assert bad == []


def test_across_packages_only_public_names_are_imported() -> None:
    bad = []
    for module, target, names, line in EDGES:
        if _unit(module) in ("", _unit(target)) or _unit(target) == "":
            continue
        public = getattr(importlib.import_module(target), "__all__", None)
        if public is None:
            bad.append(f"{target} has no __all__ (imported by {module}:{line})")
            continue
        bad += [f"{module}:{line} imports {target}.{n}" for n in names if n not in public]
    assert bad == []


def test_the_module_graph_has_no_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for module, target, names, _ in EDGES:
        for name in names or ("",):
            full = f"{target}.{name}"
            dest = full if full in dict(_modules()) else target
            if dest != module:
                graph.setdefault(module, set()).add(dest)
    cycles = []

    def visit(node: str, stack: list[str], seen: set[str]) -> None:
        if node in stack:
            cycles.append(" -> ".join([*stack[stack.index(node) :], node]))
            return
        if node in seen:
            return
        seen.add(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*stack, node], seen)

    seen: set[str] = set()
    for start in sorted(graph):
        visit(start, [], seen)
    assert cycles == []


@pytest.mark.parametrize(
    ("module", "target", "names", "expected"),
    [
        ("winback.scoring._score", "winback.models", ("load_model",), False),
        ("winback.models._tasks", "winback.scoring", ("score",), True),
        ("winback.io._read", "winback.dates", ("DateLike",), False),
        ("winback.evaluation._plots", "winback.actions", ("x",), True),  # same layer
        ("winback.models._bundle", "winback", ("__version__",), False),
        ("winback.models._bundle", "winback", ("train",), True),
    ],
)
def test_the_layer_rule_itself(module, target, names, expected) -> None:
    assert _upward(module, target, names) is expected
