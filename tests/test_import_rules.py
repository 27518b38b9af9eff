"""The dependency direction: the shared core (front end, model files) <- training, export,
eval, app.

Read from the source (every import statement, those inside functions too), followed through
the project's own modules, so a rule also holds for what a module reaches indirectly.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("visualizer", "training", "export", "assets")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str) -> set[str]:
    """Every module name `path` imports, relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _project_graph() -> dict[str, set[str]]:
    graph = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            module = _module_name(path)
            graph[module] = _imports(path, module)
    return graph


GRAPH = _project_graph()


def _reached(start: str) -> set[str]:
    """Every module name imported by the modules under `start`, followed through the
    project's own modules."""
    seen: set[str] = set()
    todo = [m for m in GRAPH if m == start or m.startswith(start + ".")]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for name in GRAPH.get(module, ()):
            if name not in seen:
                if name in GRAPH:
                    todo.append(name)
                else:
                    seen.add(name)
    return seen


def _offending(start: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        name
        for name in _reached(start)
        if any(name == prefix or name.startswith(prefix + ".") for prefix in forbidden)
    )


def test_the_graph_covers_the_project():
    for module in ("visualizer.frontend.stft", "visualizer.app.main_window", "training.judge"):
        assert module in GRAPH
    assert "visualizer.frontend" in _imports(
        ROOT / "visualizer/app/frame_worker.py", "visualizer.app.frame_worker"
    )


FRONT_END_OWN = ("visualizer.frontend",)


def test_the_front_end_imports_nothing_else_of_the_project():
    project = tuple(PACKAGES)
    others = [
        name
        for name in _reached("visualizer.frontend")
        if name.split(".")[0] in project
        and not (name == FRONT_END_OWN[0] or name.startswith(FRONT_END_OWN[0] + "."))
    ]
    assert others == []


@pytest.mark.parametrize("start", ["visualizer.app", "visualizer.eval", "visualizer"])
def test_the_app_and_eval_never_import_torch_training_or_export(start):
    assert _offending(start, ("torch", "training", "export")) == []


def test_eval_never_imports_the_app():
    assert _offending("visualizer.eval", ("visualizer.app", "PyQt6")) == []


def test_training_never_imports_export():
    assert _offending("training", ("export",)) == []
