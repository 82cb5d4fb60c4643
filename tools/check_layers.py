"""Checks that edgeinfer's modules import downward only, with no import cycle,
and that each layer stays within its line budget.

The layer table lives in ARCHITECTURE.md (between the `layers` markers), so the
map the next engineer reads is the one CI enforces. A module belongs to the
layer of the longest table entry that names it or a package above it. Every
import counts, also one inside a function (a lazy import is still a
dependency); imports built at run time (importlib.import_module) are not seen.

    python tools/check_layers.py            # this checkout
    python tools/check_layers.py --root DIR # another tree with the same layout

Exits 1 naming each offending import or layer, 0 when the tree keeps the map.
Standard library only: it runs before anything is built or installed.
"""
import argparse
import ast
import os
import re
import sys

PACKAGE = "edgeinfer"
TABLE_START = "<!-- layers:"
TABLE_END = "<!-- /layers -->"
SOURCE_SUFFIXES = (".py", ".pyx", ".pxi")
# the Cython sources all build the one compiled module, edgeinfer._core
COMPILED_CORE = f"{PACKAGE}._core"


def read_layers(architecture_path):
    """[(layer, [module prefixes], line budget)], bottom layer first, from the
    Markdown table in ARCHITECTURE.md."""
    with open(architecture_path, encoding="utf-8") as f:
        text = f.read()
    start = text.find(TABLE_START)
    end = text.find(TABLE_END, start)
    if start < 0 or end < 0:
        raise SystemExit(f"{architecture_path}: no layer table between '{TABLE_START} ...' and "
                         f"'{TABLE_END}'")
    layers = []
    for line in text[start:end].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].isdigit():
            continue  # the header, its rule, the markers
        _, name, modules, budget = cells
        prefixes = [f"{PACKAGE}.{m}" if m != PACKAGE else m for m in re.findall(r"`([\w.]+)`", modules)]
        layers.append((name, prefixes, int(budget.replace(",", ""))))
    if not layers:
        raise SystemExit(f"{architecture_path}: the layer table has no rows")
    return layers


def module_files(root):
    """{module name: [files]} for every source file of the package."""
    modules = {}
    package_dir = os.path.join(root, PACKAGE)
    for folder, dirs, files in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith(SOURCE_SUFFIXES):
                continue
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root)
            if name.endswith((".pyx", ".pxi")):
                module = COMPILED_CORE
            else:
                parts = relative[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts.pop()
                module = ".".join(parts)
            modules.setdefault(module, []).append(path)
    return modules


def layer_of(module, layers):
    """(index, name) of the layer whose longest entry covers module, or None."""
    best = None
    for index, (name, prefixes, _) in enumerate(layers):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + ".") and prefix != PACKAGE:
                if best is None or len(prefix) > best[2]:
                    best = (index, name, len(prefix))
    return None if best is None else best[:2]


def imports_of(path, module, is_package, known):
    """[(line, target module, how it was written)] for the package modules a
    Python file imports, wherever in the file the import statement is."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    found.append((node.lineno, _known_prefix(alias.name, known), f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute_base(node, module, is_package)
            if base is None or not (base == PACKAGE or base.startswith(PACKAGE + ".")):
                continue
            written = f"from {'.' * node.level}{node.module or ''} import"
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                # `from pkg import sub` imports a module; `from pkg import name` needs pkg's code
                target = candidate if candidate in known else _known_prefix(base, known)
                found.append((node.lineno, target, f"{written} {alias.name}"))
    return found


def _absolute_base(node, module, is_package):
    if node.level == 0:
        return node.module
    package = module if is_package else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _known_prefix(name, known):
    while name not in known and "." in name:
        name = name.rpartition(".")[0]
    return name


def dependency_graph(root, modules):
    """{module: [(line, target, written, path)]}, with the packages a target
    sits in (their __init__ runs first) added unless the importer is inside
    them or they import nothing."""
    known = set(modules)
    own_imports = {}
    for module, paths in modules.items():
        own_imports[module] = []
        for path in paths:
            if path.endswith(".py"):
                is_package = os.path.basename(path) == "__init__.py"
                own_imports[module] += [(line, target, written, path) for line, target, written
                                        in imports_of(path, module, is_package, known)]
    graph = {}
    for module, edges in own_imports.items():
        graph[module] = []
        for line, target, written, path in edges:
            graph[module].append((line, target, written, path))
            parent = target.rpartition(".")[0]
            while parent and parent != PACKAGE:
                inside = module == parent or module.startswith(parent + ".")
                if not inside and own_imports.get(parent):
                    graph[module].append((line, parent, f"{written} (runs {parent}/__init__)", path))
                parent = parent.rpartition(".")[0]
    return graph


def find_cycle(graph):
    """One import cycle as a list of modules (first == last), or None."""
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for _, target, _, _ in graph.get(module, ()):
            if target == module or target not in graph:
                continue
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def count_lines(paths):
    total = 0
    for path in paths:
        with open(path, "rb") as f:
            total += f.read().count(b"\n")
    return total


def check(root):
    """(problems, size rows): problems empty when the tree keeps the map."""
    layers = read_layers(os.path.join(root, "ARCHITECTURE.md"))
    modules = module_files(root)
    graph = dependency_graph(root, modules)
    problems = []
    where = {}
    for module in sorted(modules):
        layer = layer_of(module, layers)
        if layer is None:
            problems.append(f"{os.path.relpath(modules[module][0], root)}: module {module} is in "
                            "no layer; add it to the table in ARCHITECTURE.md")
        where[module] = layer
    for module in sorted(graph):
        for line, target, written, path in graph[module]:
            place = f"{os.path.relpath(path, root)}:{line}"
            if target == PACKAGE:
                problems.append(f"{place}: `{written}` reaches through the package root "
                                f"({PACKAGE}/__init__.py); import from the module that defines it")
                continue
            if where.get(module) is None or where.get(target) is None:
                continue
            if where[target][0] > where[module][0]:
                problems.append(f"{place}: `{written}` imports {target} (layer {where[target][1]}) "
                                f"from {module} (layer {where[module][1]}): layers import "
                                "downward only")
    cycle = find_cycle(graph)
    if cycle:
        problems.append("import cycle: " + " -> ".join(cycle))
    sizes = []
    for index, (name, _, budget) in enumerate(layers):
        paths = [p for m, ps in modules.items() if where.get(m) and where[m][0] == index for p in ps]
        lines = count_lines(paths)
        sizes.append((name, lines, budget))
        if lines > budget:
            problems.append(f"layer {name} has {lines} lines, over its budget of {budget}: "
                            "shrink it, or raise the budget in ARCHITECTURE.md as a decision")
    return problems, sizes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        help="the checkout to check (default: this one)")
    args = parser.parse_args(argv)
    problems, sizes = check(args.root)
    for name, lines, budget in sizes:
        print(f"{name:<10} {lines:>6} lines  (budget {budget})")
    if problems:
        for problem in problems:
            print(f"check_layers: {problem}", file=sys.stderr)
        return 1
    print("check_layers: downward imports only, no cycle, every layer within its budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
