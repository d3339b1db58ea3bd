"""The layout's rules, read off the source (ast, nothing imported): no import circle, torch
only in alexprof/torchside, and packages importing one way (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "alexprof"

# package -> the packages it may import (lazily or not); docs/architecture.md shows the same
ALLOWED = {
    "cli": {"report", "torchside", "speed", "memory", "counting", "nets", "parse"},
    "report": {"torchside", "speed", "memory", "counting", "nets"},
    "torchside": {"speed", "memory", "counting", "nets"},
    "speed": {"counting", "nets"},
    "memory": {"nets"},
    "counting": {"nets"},
    "nets": {"torchside"},  # only nets/resolve.py -> torchside/usermodule.py, lazily
}
BASE = {"errors", "registry", "vocab", "__init__"}  # what every package may use


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = ["alexprof", *path.relative_to(ROOT).with_suffix("").parts]
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return found


EDGES = {m: {t for t in _imports(p) if t in MODULES and t != m} for m, p in MODULES.items()}


def test_the_walk_finds_the_packages() -> None:
    assert {"alexprof.nets.walk", "alexprof.cli.app", "alexprof.torchside.tracer"} <= set(MODULES)
    assert "alexprof.nets.walk" in EDGES["alexprof.counting.formulas"] | EDGES["alexprof.nets"]


def test_no_import_circle() -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    circles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(EDGES[module]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target):], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(MODULES):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_only_torchside_imports_torch() -> None:
    heavy = {"torch", "ptflops"}
    offenders = sorted(
        m for m, p in MODULES.items()
        if not m.startswith("alexprof.torchside")
        and any(t.split(".")[0] in heavy for t in _imports(p))
    )
    assert offenders == []


def test_packages_import_one_way() -> None:
    wrong = []
    for module, targets in EDGES.items():
        package = module.split(".")[1] if "." in module else "__init__"
        for target in targets:
            other = target.split(".")[1] if "." in target else "__init__"
            if other == package or other in BASE or package not in ALLOWED:
                continue
            if other not in ALLOWED[package]:
                wrong.append(f"{module} -> {target}")
    assert wrong == []
