"""The package's shape: layers whose imports only point down, and no imports hidden in functions.

The layers, bottom to top: ``units`` -> ``codegen`` -> ``runtime`` -> ``pipeline`` -> ``model`` ->
the package's public names.  These tests read the sources with ``ast``; they import nothing.
"""

import ast
from pathlib import Path

import spikeforge

PACKAGE = Path(spikeforge.__file__).resolve().parent
LAYERS = ["units", "codegen", "runtime", "pipeline", "model", "__init__", "__main__"]
#: Modules at the top of the package that belong to a layer.
LAYER_OF = {
    "numpy_": "units",
    "only": "__init__",
    "devices": "__init__",
    "core": "__init__",
    "sweeps": "__init__",
}
#: Words a comment must contain to justify an import inside a function.
REASONS = ("cycle", "defer", "optional", "heavy", "slow to import", "only when")


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(relative.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        yield name, path


def _layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return LAYERS.index("__init__")
    return LAYERS.index(LAYER_OF.get(parts[1], parts[1]))


def _imported(node, module: str, is_package: bool, modules) -> list[str]:
    """The spikeforge modules an import statement imports (``from a import b``: the module
    ``a.b`` if it is one, else ``a``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in modules]
    if node.level:  # relative import
        base = module.split(".")
        base = base if is_package else base[:-1]
        base = base[: len(base) - node.level + 1]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    names = set()
    for alias in node.names:
        name = f"{prefix}.{alias.name}"
        names.add(name if name in modules else prefix)
    return [name for name in names if name in modules]


def _top_level_imports():
    """``{module: set of spikeforge modules it imports at module level}``."""
    modules = dict(_modules())
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text())
        targets = set()
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name in _imported(node, module, path.name == "__init__.py", modules):
                    if name != module:
                        targets.add(name)
        graph[module] = targets
    return graph


def test_imports_point_down_the_layers():
    """No module imports (at module level) a module of a higher layer."""
    upward = []
    for module, targets in _top_level_imports().items():
        for target in targets:
            if _layer(target) > _layer(module):
                upward.append(f"{module} imports {target}")
    assert upward == []


def test_the_model_package_has_no_import_cycle():
    graph = _top_level_imports()
    model = {m: {t for t in ts if t.startswith("spikeforge.model")} for m, ts in graph.items()}
    model = {m: ts for m, ts in model.items() if m.startswith("spikeforge.model")}
    visiting, done, cycles = set(), set(), []

    def visit(node, path):
        if node in done:
            return
        if node in visiting:
            cycles.append(path[path.index(node) :] + [node])
            return
        visiting.add(node)
        for target in sorted(model.get(node, ())):
            visit(target, path + [node])
        visiting.discard(node)
        done.add(node)

    for node in sorted(model):
        visit(node, [])
    assert cycles == []


def test_an_import_inside_a_function_says_why():
    """Imports belong at the top; one inside a function needs a comment with its reason (a
    cycle it breaks, or a heavy or optional import it defers)."""
    unexplained = []
    for module, path in _modules():
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    around = " ".join(lines[max(0, node.lineno - 3) : node.end_lineno]).lower()
                    if "#" not in around or not any(word in around for word in REASONS):
                        unexplained.append(f"{module}:{node.lineno}")
    assert unexplained == []


def test_the_layer_check_would_see_an_upward_import(tmp_path):
    """The checks above read real import statements (guard against a parser that finds none)."""
    graph = _top_level_imports()
    assert "spikeforge.pipeline" in graph["spikeforge.model.base"]
    assert "spikeforge.codegen.cache" in graph["spikeforge.pipeline"]
    assert _layer("spikeforge.model.groups") > _layer("spikeforge.pipeline")
