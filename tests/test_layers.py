"""The layer rule of docs/architecture.md, read from every import.

Every ``import`` and ``from ... import`` in ``mmcma/`` (module level or
inside a function: a lazy import counts) is mapped to the packages it joins;
a package may import only packages of its own layer or below, and the graph
of package imports has no cycle.
"""
import ast
import os
from typing import Dict, Iterator, Set, Tuple

from tests.helpers.tool_runner import ROOT

PACKAGE = os.path.join(ROOT, 'mmcma')

#: Layer of each package (docs/architecture.md, "Layout and layer rule");
#: ``''`` stands for the modules at the package root (``compat``,
#: ``registry``, ...), ``'__init__'`` for ``mmcma/__init__.py``, the public
#: API that imports everything and that nothing inside imports.
LAYERS = {
    '': 0, 'io': 0,
    'labels': 1,
    'datasets': 2, 'models': 2,
    'evaluation': 3, 'visualization': 3,
    'apis': 4,
    'engine': 5,
    '__init__': 6,
}


def package_of(module: str) -> str:
    """``'labels'`` for ``mmcma.labels.graphs.ks``, ``''`` for a root
    module such as ``mmcma.compat``."""
    parts = module.split('.')
    assert parts[0] == 'mmcma', module
    if len(parts) == 1:
        return '__init__'
    top = os.path.join(PACKAGE, parts[1])
    return parts[1] if os.path.isdir(top) else ''


def modules() -> Iterator[Tuple[str, str]]:
    """(dotted module name, path) of every file of the package."""
    for folder, _, files in os.walk(PACKAGE):
        for name in sorted(files):
            if name.endswith('.py'):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, ROOT)[:-3].split(os.sep)
                if rel[-1] == '__init__':
                    rel = rel[:-1]
                yield '.'.join(rel), path


def imported_modules(module: str, path: str) -> Set[str]:
    """Every ``mmcma`` module that ``path`` imports, at any depth."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    is_package = path.endswith('__init__.py')
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names
                         if a.name.split('.')[0] == 'mmcma')
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split('.')
                if not is_package:
                    base = base[:-1]
                base = base[:len(base) - node.level + 1]
                target = '.'.join(base + ([node.module] if node.module
                                          else []))
            else:
                target = node.module or ''
            if target == 'mmcma':
                # ``from mmcma import compat``: a module, or the public API.
                found.update(
                    f'mmcma.{a.name}' if os.path.exists(
                        os.path.join(PACKAGE, a.name)) or os.path.exists(
                            os.path.join(PACKAGE, a.name + '.py')) else
                    'mmcma' for a in node.names)
            elif target.split('.')[0] == 'mmcma':
                found.add(target)
    return found


def package_imports() -> Dict[Tuple[str, str], Set[str]]:
    """(importer package, imported package) -> the importing modules."""
    edges: Dict[Tuple[str, str], Set[str]] = {}
    for module, path in modules():
        source = package_of(module)
        for target in imported_modules(module, path):
            # ``from mmcma import compat`` names a root module.
            dest = package_of(target)
            if dest != source:
                edges.setdefault((source, dest), set()).add(module)
    return edges


def test_every_package_has_a_layer():
    packages = {package_of(m) for m, _ in modules()}
    assert packages <= set(LAYERS), packages - set(LAYERS)


def test_no_import_climbs_a_layer():
    climbs = {
        f'{source or "root"} (layer {LAYERS[source]}) imports '
        f'{dest or "root"} (layer {LAYERS[dest]}) in {sorted(where)}'
        for (source, dest), where in package_imports().items()
        if LAYERS[dest] > LAYERS[source]
    }
    assert not climbs, '\n'.join(sorted(climbs))


def test_no_package_imports_one_that_imports_it_back():
    edges = package_imports()
    graph: Dict[str, Set[str]] = {}
    for source, dest in edges:
        graph.setdefault(source, set()).add(dest)

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        return False

    cycles = sorted(f'{s or "root"} <-> {d or "root"}'
                    for s, d in edges if reaches(d, s))
    assert not cycles, cycles


def test_labels_imports_neither_datasets_nor_models():
    """Stated on its own: the label layer gets a label matrix, not a
    dataset, and gives a LabelState, not a filled model."""
    edges = package_imports()
    assert ('labels', 'datasets') not in edges
    assert ('labels', 'models') not in edges


def test_the_reader_sees_lazy_and_relative_imports(tmp_path):
    """The checker itself: a relative import inside a function counts."""
    path = tmp_path / 'mod.py'
    path.write_text('def f():\n    from ..models import x\n'
                    'import mmcma.engine\n'
                    'from mmcma import compat, fill_label_state\n')
    found = imported_modules('mmcma.labels.mod', str(path))
    assert found == {'mmcma.models', 'mmcma.engine', 'mmcma.compat',
                     'mmcma'}
    assert package_of('mmcma') == '__init__'
    assert package_of('mmcma.compat') == ''
    assert package_of('mmcma.labels.graphs.ks') == 'labels'
