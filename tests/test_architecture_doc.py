"""docs/architecture.md against the package: every module it names exists, every module is described.

A module file the doc names (``nn/lstm.py``, ``tasks/forecast/``, or a bare ``times.py`` under the
package row or heading it belongs to) must exist where the doc puts it; every ``.py`` file under
``src/lstmkit`` must be named by the doc; and the package table's rows must each be one line (a row
broken over lines renders as stray one-cell rows). The checker runs over planted mistakes too, so it
cannot pass by reading nothing.
"""
from __future__ import annotations

import re
from pathlib import Path

from test_layers import LAYERS, layer_of

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "lstmkit"
DOC = REPO / "docs" / "architecture.md"

# a module path: `a/b.py` or a bare `b.py`, not part of a longer path or a dotted file name
_MODULE = re.compile(r"(?<![\w./-])((?:\w+/)*\w+\.py)(?![\w/])")
# a package folder named at the head of a table row or a heading: | `tasks/forecast/` | or ### `deploy/`
_ROW_DIR = re.compile(r"^\| `((?:\w+/)+)`")
_HEADING_DIR = re.compile(r"^#{2,} `((?:\w+/)+)`\s*$")
# a folder named in the layer map's code block (`nn/ (LSTM cell ...)`, `tasks/forecast/`)
_MAP_DIR = re.compile(r"(?<![\w./-])((?:\w+/)+)(?=[\s(]|$)")
_OUTSIDE = ("tests", "benchmarks", "examples")


def package_files(package: Path = PACKAGE) -> set[str]:
    return {p.relative_to(package).as_posix() for p in package.rglob("*.py")}


def _folders(modules: set[str]) -> set[str]:
    return {m.rsplit("/", 1)[0] + "/" for m in modules if "/" in m}


def _rooms(modules: set[str]) -> set[str]:
    return {m.split("/")[1] for m in modules if m.startswith("tasks/") and m.count("/") == 2}


def _candidates(name: str, where: str) -> list[str]:
    """The modules a name written under the package folder ``where`` may mean: there, in a folder above, or
    the path under ``src/lstmkit`` or ``tasks/`` (`forecast/cli.py`)."""
    parts = where.rstrip("/").split("/") if where else []
    above = ["/".join(parts[:i]) + "/" for i in range(len(parts), 0, -1)]
    return [w + name for w in above] + [name, "tasks/" + name]


def missing_names(doc: str, modules: set[str], repo: Path = REPO) -> list[str]:
    """Each module or folder the doc names that is not where it says, as 'line N: name'."""
    folders = _folders(modules)
    rooms = _rooms(modules)
    basenames = {m.rsplit("/", 1)[-1] for m in modules}
    tests = {p.name for p in (repo / "tests").rglob("test_*.py")}
    missing: list[str] = []
    where = ""
    in_map = False
    for number, line in enumerate(doc.splitlines(), 1):
        if line.startswith("#"):
            heading = _HEADING_DIR.match(line)
            where = heading.group(1) if heading else ""
            in_map = line.strip() == "## Layer map"
        row = _ROW_DIR.match(line)
        context = row.group(1) if row else where
        dirs = list(_MAP_DIR.findall(line)) if in_map else []
        dirs += [row.group(1)] if row else []
        for folder in dirs:
            folder = folder.removeprefix("lstmkit/")
            if folder and folder not in folders:
                missing.append(f"line {number}: {folder}")
        for name in _MODULE.findall(line):
            name = name.removeprefix("lstmkit/")
            if name.split("/")[0] in _OUTSIDE:
                found = (repo / name).is_file()
            elif "/" not in name and name.startswith("test_"):
                found = name in tests
            elif any(c in modules for c in _candidates(name, context)):
                found = True
            elif "/" in name:
                found = False
            else:
                # a room's file named for every room (`deploy.py`, `bench.py`); in prose outside a package's
                # row or heading, the module of that name wherever it lives
                found = any(f"tasks/{room}/{name}" in modules for room in rooms) or (
                    not context and name in basenames)
            if not found:
                missing.append(f"line {number}: {name}")
    return missing


def undescribed(doc: str, modules: set[str]) -> list[str]:
    """The modules the doc does not name: by their path, by their file name in their folder's row or heading
    (or a row of a module beside them), as a room's file in the task-room table, or, for a package's
    ``__init__.py``, by the package folder."""
    named_in: dict[str, set[str]] = {}
    anywhere: set[str] = set()
    where = ""
    for line in doc.splitlines():
        if line.startswith("#"):
            heading = _HEADING_DIR.match(line)
            where = heading.group(1) if heading else ""
        head = re.match(r"^\| `((?:\w+/)*)[\w.]*`", line)
        context = head.group(1) if head and head.group(1) else where
        names = {n.removeprefix("lstmkit/") for n in _MODULE.findall(line)}
        anywhere |= names
        anywhere |= {f.removeprefix("lstmkit/") for f in _MAP_DIR.findall(line)}
        if context:
            named_in.setdefault(context, set()).update(names)
    room_table = doc.split("## A task room", 1)[-1].split("\n## ", 1)[0]
    room_files = {n for line in room_table.splitlines() if line.startswith("| `")
                  for n in _MODULE.findall(line.split("|")[1])}
    left = []
    for module in sorted(modules):
        folder, _, name = module.rpartition("/")
        folder = folder + "/" if folder else ""
        if module in anywhere or any(module.endswith("/" + n) for n in anywhere if "/" in n):
            continue
        if name in named_in.get(folder, ()):
            continue
        if folder.startswith("tasks/") and folder.count("/") == 2 and name in room_files:
            continue
        if name == "__init__.py" and (not folder or folder in anywhere or any(n.startswith(folder) for n in anywhere)):
            continue
        left.append(module)
    return left


def broken_rows(doc: str) -> list[int]:
    """Lines inside a table that do not start with '|': a row's text broken over lines."""
    lines = doc.splitlines()
    return [i + 1 for i in range(1, len(lines))
            if lines[i - 1].startswith("|") and lines[i].strip() and not lines[i].startswith("|")]


def layer_map(doc: str) -> dict[str, str]:
    """What the layer map's code block puts in each layer: module or folder (outside parentheses, which
    mention others in passing) -> the layer's name."""
    block = doc.split("## Layer map", 1)[1].split("```", 2)[1]
    shallow, depth = [], 0
    for char in block:
        depth += char == "("
        shallow.append(char if depth == 0 or char == "\n" else "")
        depth -= char == ")" and depth > 0
    placed: dict[str, str] = {}
    layer = ""
    for line in "".join(shallow).splitlines():
        head = re.match(r"^ (\w+) ", line)
        layer = head.group(1) if head else layer
        for name in re.findall(r"(?<![\w./-])((?:\w+/)*\w+(?:\.py|/))(?![\w/])", line):
            placed[name.removeprefix("lstmkit/")] = layer
    return placed


def _dotted(name: str) -> str:
    return ".".join(["lstmkit", *name.removesuffix("/").removesuffix(".py").split("/")]).removesuffix(".__init__")


def layer_mistakes(doc: str, modules: set[str]) -> list[str]:
    """Modules the layer map puts in another layer than tests/test_layers.py's LAYERS, and top-level
    modules and packages it leaves out."""
    placed = layer_map(doc)
    mistakes = [f"{name} is under {layer}, LAYERS has {LAYERS[layer_of(_dotted(name))][0]}"
                for name, layer in placed.items()
                if layer_of(_dotted(name)) is None or LAYERS[layer_of(_dotted(name))][0] != layer]
    named = set(re.findall(r"(?<![\w./-])((?:\w+/)*\w+(?:\.py|/))(?![\w/])",
                           doc.split("## Layer map", 1)[1].split("```", 2)[1]))
    tops = {m for m in modules if "/" not in m} | {m.split("/")[0] + "/" for m in modules if "/" in m}
    named = {n.removeprefix("lstmkit/") for n in named}
    mistakes += [f"{top} is not in the layer map" for top in sorted(tops - {"__init__.py"})
                 if not any(n == top or n.startswith(top) and top.endswith("/") for n in named)]
    return mistakes


def test_the_layer_map_agrees_with_the_layer_test():
    assert layer_mistakes(DOC.read_text(encoding="utf-8"), package_files()) == []


def test_the_layer_map_check_catches_a_misplaced_and_a_missing_module():
    doc = DOC.read_text(encoding="utf-8")
    misplaced = doc.replace("   version.py   lazy.py", "   lazy.py", 1).replace(
        "   compare.py   ", "   compare.py   version.py   ", 1)
    assert misplaced != doc
    assert layer_mistakes(misplaced, package_files()) == ["version.py is under app, LAYERS has base"]
    assert layer_mistakes(doc, package_files() | {"quantiles.py"}) == ["quantiles.py is not in the layer map"]


def test_every_module_the_doc_names_exists():
    assert missing_names(DOC.read_text(encoding="utf-8"), package_files()) == []


def test_every_module_is_described():
    assert undescribed(DOC.read_text(encoding="utf-8"), package_files()) == []


def test_the_package_table_rows_are_one_line_each():
    assert broken_rows(DOC.read_text(encoding="utf-8")) == []


def test_the_checks_catch_a_renamed_module_a_new_one_and_a_broken_row():
    doc = DOC.read_text(encoding="utf-8")
    modules = package_files()
    assert "| `data/vocab.py` |" in doc and "- `grid.py` (" in doc
    # the doc still says data/vocab.py after a rename: named but missing, and the new name undescribed
    renamed = (modules - {"data/vocab.py"}) | {"data/tokenize.py"}
    assert any(m.endswith(": data/vocab.py") for m in missing_names(doc, renamed))
    assert undescribed(doc, renamed) == ["data/tokenize.py"]
    # a bare name under its folder's heading is checked in that folder, not anywhere
    moved = (modules - {"tasks/forecast/grid.py"}) | {"data/grid.py"}
    assert any(m.endswith(": grid.py") for m in missing_names(doc, moved))
    # a folder the layer map names that is gone
    without_inspect = {m for m in modules if not m.startswith("inspect/")}
    assert any(m.endswith(": inspect/") for m in missing_names(doc, without_inspect))
    # a module added to a room without a line in the doc
    assert undescribed(doc, modules | {"tasks/translate/beam.py"}) == ["tasks/translate/beam.py"]
    # a table row whose text runs on to the next line
    assert broken_rows("| a | b |\n|---|---|\n| `x.py` | one\ntwo |\n\nafter") == [4]
