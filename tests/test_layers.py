"""The import contract: lstmkit's layers, read from the source with ``ast``.

Every module under ``src/lstmkit`` is parsed; every import counts, at module level or inside a
function, and so does ``importlib.import_module("...")`` with a literal name (a name built at run
time, e.g. ``f"lstmkit.tasks.{task}"``, is how a lower layer finds a room without depending on
it). The rules, with no exception list:

(a) a module imports only its own layer and those below it (bottom to top):
    base (errors, config, cli_config, cli_train and table_out, runs, run_lock, run_reuse, run_resume, run_status,
    run_tie, run_engine, run_list and files, version, lazy, random_state, memory) -> blocks (nn, data) -> train ->
    engines (inspect, deploy) -> tasks -> app (cli, compare, tune, loading, serve, __main__, the ``lstmkit`` package,
    and the command modules ``inspect/cli.py``, ``deploy/cli.py`` that mount on the root app);
(b) a task room (``tasks/<a>/``) imports no other room (``tasks/<b>/``); the task-neutral
    modules directly under ``tasks/`` (``_base.py``, ...) may be imported by every room and
    import no room themselves;
(c) no import circle, counting the imports inside functions too (a function-level import only
    hides a circle until the function runs: the two modules still depend on each other); only
    imports under ``if TYPE_CHECKING:``, which never run, are left out.

A module that matches no layer is a failure too: a new top-level module needs a place here.
"""
from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "lstmkit"

# (layer, module prefixes) bottom to top; a module belongs to the layer of its longest matching prefix
LAYERS = [
    ("base", ["lstmkit.errors", "lstmkit.config", "lstmkit.cli_config", "lstmkit.cli_train", "lstmkit.table_out", "lstmkit.runs",
              "lstmkit.run_lock", "lstmkit.run_reuse", "lstmkit.run_resume", "lstmkit.run_status", "lstmkit.run_list",
              "lstmkit.run_metric", "lstmkit.run_tie", "lstmkit.run_engine",
              "lstmkit.files", "lstmkit.version",
              "lstmkit.lazy", "lstmkit.estimator_params", "lstmkit.not_fitted", "lstmkit.random_state", "lstmkit.memory", "lstmkit.stderr_lines"]),
    ("blocks", ["lstmkit.nn", "lstmkit.data"]),
    ("train", ["lstmkit.train"]),
    ("engines", ["lstmkit.inspect", "lstmkit.deploy"]),
    ("tasks", ["lstmkit.tasks"]),
    ("app", ["lstmkit", "lstmkit.cli", "lstmkit.__main__", "lstmkit.launch", "lstmkit.compare", "lstmkit.compare_tasks",
             "lstmkit.tune", "lstmkit.tune_space", "lstmkit.tune_storage", "lstmkit.loading", "lstmkit.serve", "lstmkit.inspect.cli", "lstmkit.deploy.cli"]),
]
LAYER_ORDER = " -> ".join(name for name, _ in LAYERS)


@dataclass(frozen=True)
class Import:
    source: str          # importing module
    target: str          # imported module (the deepest one that exists in the tree)
    path: Path
    line: int
    module_level: bool   # runs when the source module loads
    type_only: bool = False   # under ``if TYPE_CHECKING:``: read by type checkers, never run


def module_names(root: Path, package: str = "lstmkit") -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``root`` (the package folder)."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = (package, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _literal_import_module(call: ast.Call) -> str | None:
    func = call.func
    named = (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id in ("import_module", "__import__"))
    if named and call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def _deepest(name: str, modules: dict[str, Path]) -> str | None:
    """``name`` or its nearest enclosing module that exists in the tree (None outside it)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.AST, source: str, is_package: bool, modules: dict[str, Path]) -> set[str]:
    """The modules of the tree an import statement, or a literal import_module call, loads."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = source.split(".") if is_package else source.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            stem = ".".join(base + ([node.module] if node.module else []))
        else:
            stem = node.module or ""
        subs = [f"{stem}.{alias.name}" for alias in node.names]
        found = {sub for sub in subs if sub in modules}              # ``from pkg import submodule``
        names = list(found) + ([stem] if len(found) < len(subs) else [])   # ``from module import name``
    elif isinstance(node, ast.Call) and (name := _literal_import_module(node)):
        names = [name]
    else:
        return set()
    return {t for t in (_deepest(n, modules) for n in names) if t is not None}


def collect_imports(root: Path, package: str = "lstmkit") -> tuple[dict[str, Path], list[Import]]:
    """Every import between modules of the tree at ``root``, each with its file and line."""
    modules = module_names(root, package)
    found = []

    def visit(node: ast.AST, source: str, path: Path, module_level: bool, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:                  # read by type checkers, never run
                    visit_one(stmt, source, path, False, True)
                for stmt in child.orelse:
                    visit_one(stmt, source, path, module_level, type_only)
                continue
            deferred = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit_one(child, source, path, module_level and not deferred, type_only)

    def visit_one(node: ast.AST, source: str, path: Path, module_level: bool, type_only: bool) -> None:
        for target in sorted(_targets(node, source, path.name == "__init__.py", modules)):
            if target != source:
                found.append(Import(source, target, path, node.lineno, module_level, type_only))
        visit(node, source, path, module_level, type_only)

    for name, path in modules.items():
        visit(ast.parse(path.read_text(), filename=str(path)), name, path, True, False)
    return modules, found


def layer_of(module: str) -> int | None:
    """Index in LAYERS of ``module``'s layer: its longest matching prefix (the bare package name
    matches only the package itself), or None."""
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module.startswith(prefix + ".") and "." in prefix
            if (module == prefix or inside) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def room_of(module: str, modules: dict[str, Path]) -> str | None:
    """``forecast`` for ``lstmkit.tasks.forecast[.x]`` (a folder under tasks/); None for modules
    outside the rooms, including the task-neutral ones directly under tasks/ (``tasks._base``)."""
    parts = module.split(".")
    if len(parts) < 3 or parts[1] != "tasks":
        return None
    package = ".".join(parts[:3])
    return parts[2] if package in modules and modules[package].name == "__init__.py" else None


def check_layers(root: Path, package: str = "lstmkit") -> list[str]:
    """Every breach of rules (a), (b) and (c) in the tree at ``root``, one message each."""
    modules, imports = collect_imports(root, package)
    where = {m: str(p.relative_to(root.parent)) for m, p in modules.items()}
    problems = [f"{where[m]}: module {m} belongs to no layer; give it one in tests/test_layers.py LAYERS"
                for m in modules if layer_of(m) is None]
    for imp in imports:
        a, b = layer_of(imp.source), layer_of(imp.target)
        at = f"{where[imp.source]}:{imp.line}"
        if a is not None and b is not None and b > a:
            problems.append(f"{at}: {imp.source} ({LAYERS[a][0]}) imports {imp.target} ({LAYERS[b][0]}): "
                            f"rule (a) upward import; layers bottom to top: {LAYER_ORDER}")
        ra, rb = room_of(imp.source, modules), room_of(imp.target, modules)
        if rb is not None and ra != rb and a == b:
            what = f"room '{ra}'" if ra else "a task-neutral module"
            problems.append(f"{at}: {imp.source} imports {imp.target}: rule (b) {what} imports task room "
                            f"'{rb}'; move what is shared into nn/, data/, train/ or tasks/_base.py")
    problems += [_describe_circle(circle, imports, where) for circle in _circles(modules, imports)]
    return problems


def _circles(modules: dict[str, Path], imports: list[Import]) -> list[list[str]]:
    """Strongly connected components (more than one module) of the import graph (every import
    that runs, at module level or inside a function)."""
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports:
        if not imp.type_only:
            edges[imp.source].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:                        # Tarjan, iterative over the successors
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        work = [(v, iter(sorted(edges[v])))]
        while work:
            node, successors = work[-1]
            advanced = False
            for w in successors:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    advanced = True
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for v in sorted(modules):
        if v not in index:
            connect(v)
    return found


def _describe_circle(component: list[str], imports: list[Import], where: dict[str, str]) -> str:
    """One circle through ``component``'s first module, each step with its file:line."""
    inside = set(component)
    step = {}
    for imp in imports:
        if not imp.type_only and imp.source in inside and imp.target in inside:
            step.setdefault(imp.source, []).append(imp)
    start = component[0]
    paths = {start: []}
    frontier = [start]
    while frontier:                                     # breadth-first back to the start
        nxt = []
        for m in frontier:
            for imp in step.get(m, []):
                if imp.target == start:
                    chain = paths[m] + [imp]
                    hops = ", ".join(f"{i.source} -> {i.target} ({where[i.source]}:{i.line})" for i in chain)
                    return f"{where[start]}: rule (c) import circle: {hops}"
                if imp.target not in paths:
                    paths[imp.target] = paths[m] + [imp]
                    nxt.append(imp.target)
        frontier = nxt
    return f"{where[start]}: rule (c) import circle among {', '.join(component)}"


# -- the contract on lstmkit itself ------------------------------------------------------------
def test_lstmkit_keeps_its_layers():
    modules, imports = collect_imports(SRC)
    assert len(modules) > 50 and len(imports) > 200      # the tree was read
    problems = check_layers(SRC)
    assert not problems, f"{len(problems)} import contract breaches:\n" + "\n".join(problems)


# -- the checker catches what it should (so the test above cannot pass vacuously) ---------------
def _tree(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "lstmkit"
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    for folder in [pkg, *(p for p in pkg.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    return pkg


CLEAN = {
    "errors.py": "class LstmkitError(Exception): ...\n",
    "nn/lstm.py": "from lstmkit.errors import LstmkitError\n",
    "train/trainer.py": "from lstmkit.nn.lstm import LstmkitError\nfrom . import callbacks\n",
    "train/callbacks.py": "import lstmkit.errors\n",
    "inspect/gates.py": "from lstmkit.train import trainer\n",
    "inspect/cli.py": "from lstmkit.loading import load\n",
    "tasks/_base.py": "from lstmkit.train.trainer import LstmkitError\n",
    "tasks/forecast/estimator.py": "from lstmkit.tasks._base import LstmkitError\nfrom lstmkit.inspect import gates\n",
    "tasks/classify/estimator.py": "from .._base import LstmkitError\n",
    "loading.py": "import importlib\n\ndef load(task):\n    return importlib.import_module(f'lstmkit.tasks.{task}')\n",
    "cli.py": "from lstmkit.tasks.forecast.estimator import LstmkitError\nimport lstmkit.tasks.classify\n",
}


def test_a_clean_tree_passes(tmp_path):
    assert check_layers(_tree(tmp_path, CLEAN)) == []


def test_upward_imports_are_caught_wherever_they_hide(tmp_path):
    planted = {
        "errors.py": "class LstmkitError(Exception): ...\n\ndef f():\n    from lstmkit.tasks.forecast import estimator\n",
        "nn/lstm.py": "from lstmkit.errors import LstmkitError\n\ndef g():\n    import importlib\n"
                      "    return importlib.import_module('lstmkit.train.trainer')\n",
        "train/callbacks.py": "from ..inspect.gates import x\n",
        "inspect/gates.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from lstmkit.cli import app\n",
    }
    problems = check_layers(_tree(tmp_path, {**CLEAN, **planted}))
    upward = [p for p in problems if "rule (a)" in p]
    assert len(upward) == 4, problems
    # the function-level ones close circles too (errors -> tasks -> ... -> errors): rule (c) on top
    assert all("rule (c)" in p for p in problems if p not in upward) and len(problems) > 4, problems
    expected = [("lstmkit/errors.py:4:", "lstmkit.tasks.forecast.estimator (tasks)"),
                ("lstmkit/nn/lstm.py:5:", "lstmkit.train.trainer (train)"),
                ("lstmkit/train/callbacks.py:1:", "lstmkit.inspect.gates (engines)"),
                ("lstmkit/inspect/gates.py:3:", "lstmkit.cli (app)")]
    for where, what in expected:
        assert any(p.startswith(where) and what in p and "rule (a)" in p for p in problems), (where, problems)


def test_a_room_importing_another_room_is_caught(tmp_path):
    planted = {"tasks/speech/model.py": "x = 1\n\ndef head():\n    from lstmkit.tasks.classify.estimator import y\n",
               "tasks/_registry.py": "def f():\n    from lstmkit.tasks.forecast import estimator\n"}
    problems = check_layers(_tree(tmp_path, {**CLEAN, **planted}))
    assert len(problems) == 2, problems
    assert problems[0].startswith("lstmkit/tasks/_registry.py:2:") and "task-neutral module imports task room 'forecast'" in problems[0]
    assert problems[1].startswith("lstmkit/tasks/speech/model.py:4:") and "room 'speech' imports task room 'classify'" in problems[1]


def test_module_level_circles_are_caught(tmp_path):
    planted = {"nn/a.py": "import lstmkit.nn.b\n", "nn/b.py": "from lstmkit.nn import c\n",
               "nn/c.py": "from lstmkit.nn.a import x\n"}
    problems = check_layers(_tree(tmp_path, {**CLEAN, **planted}))
    assert len(problems) == 1, problems
    assert "rule (c)" in problems[0] and "lstmkit.nn.a -> lstmkit.nn.b (lstmkit/nn/a.py:1)" in problems[0]
    assert "lstmkit.nn.c -> lstmkit.nn.a (lstmkit/nn/c.py:1)" in problems[0]


def test_a_circle_closed_by_a_function_level_import_is_caught_and_type_checking_ones_are_not(tmp_path):
    planted = {"data/d.py": "from lstmkit.data.e import y\n",
               "data/e.py": "def f():\n    from lstmkit.data import d\n",          # hidden until f() runs
               "nn/a.py": "import lstmkit.nn.b\n",
               "nn/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from lstmkit.nn.a import x\n"}
    problems = check_layers(_tree(tmp_path, {**CLEAN, **planted}))
    assert len(problems) == 1, problems
    assert "rule (c) import circle" in problems[0] and "lstmkit.data.e -> lstmkit.data.d (lstmkit/data/e.py:2)" in problems[0]
    assert "lstmkit.nn" not in problems[0]


def test_a_module_without_a_layer_is_caught(tmp_path):
    problems = check_layers(_tree(tmp_path, {**CLEAN, "helpers.py": "x = 1\n"}))
    assert problems == ["lstmkit/helpers.py: module lstmkit.helpers belongs to no layer; "
                        "give it one in tests/test_layers.py LAYERS"]
