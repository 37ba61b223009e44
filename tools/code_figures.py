"""Figures about the shape of the code (issue 15): size per package, imports inside functions,
the longest functions and the import cycles between feature packages.

    .venv/bin/python tools/code_figures.py [--top 15]

Read-only; prints plain text. The import graph comes from grimp (import-linter's graph library),
so it sees the same imports the contracts in `.importlinter` check.
"""
from __future__ import annotations

import argparse
import ast
import itertools
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = 'hotline'


def _modules() -> list[Path]:
    return sorted(p for p in (ROOT / PACKAGE).rglob('*.py'))


def _package_of(path: Path) -> str:
    rel = path.relative_to(ROOT / PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else '(top)'


def size_per_package() -> list[tuple[str, int, int]]:
    lines: dict[str, int] = defaultdict(int)
    modules: dict[str, int] = defaultdict(int)
    for path in _modules():
        pkg = _package_of(path)
        lines[pkg] += len(path.read_text(encoding='utf-8').splitlines())
        modules[pkg] += 1
    return sorted(((p, modules[p], lines[p]) for p in lines), key=lambda r: -r[2])


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def function_level_imports() -> list[tuple[str, int, str]]:
    """Import statements inside a function body (each counted once, at its innermost function)."""
    found: list[tuple[str, int, str]] = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding='utf-8'))
        seen: set[int] = set()
        for fn in _functions(tree):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in seen:
                    seen.add(id(node))
                    if isinstance(node, ast.ImportFrom):
                        name = '.' * node.level + (node.module or '')
                    else:
                        name = node.names[0].name
                    found.append((str(path.relative_to(ROOT)), node.lineno, name))
    return found


def longest_functions(top: int) -> list[tuple[int, str]]:
    rows: list[tuple[int, str]] = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding='utf-8'))
        for fn in _functions(tree):
            length = (fn.end_lineno or fn.lineno) - fn.lineno + 1
            rows.append((length, f'{path.relative_to(ROOT)}:{fn.lineno} {fn.name}'))
    rows.sort(reverse=True)
    return rows[:top]


def package_cycles() -> tuple[dict[tuple[str, str], int], list[tuple[str, ...]]]:
    """Imports between feature packages, and the cycles among them (strongly connected sets)."""
    import sys

    import grimp  # tooling only (requirements-dev.txt): not a runtime dependency of the application

    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(PACKAGE, cache_dir=None)
    edges: dict[tuple[str, str], int] = defaultdict(int)
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            a, b = importer.split('.'), imported.split('.')
            if len(a) < 2 or len(b) < 2 or a[1] == b[1]:
                continue
            edges[(a[1], b[1])] += 1
    nodes = sorted({n for e in edges for n in e})
    adj: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        adj[a].add(b)

    def reach(start: str) -> set[str]:
        todo, seen = [start], {start}
        while todo:
            for nxt in adj[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reachable = {n: reach(n) for n in nodes}
    sccs: list[tuple[str, ...]] = []
    done: set[str] = set()
    for n in nodes:
        if n in done:
            continue
        comp = tuple(sorted(m for m in nodes if m in reachable[n] and n in reachable[m]))
        done.update(comp)
        if len(comp) > 1:
            sccs.append(comp)
    return edges, sccs


def module_cycles() -> list[tuple[str, ...]]:
    """Cycles between single modules (strongly connected sets of two or more modules)."""
    import sys

    import grimp

    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(PACKAGE, cache_dir=None)
    adj = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[tuple[str, ...]] = []
    counter = itertools.count()

    def visit(v: str) -> None:  # Tarjan's algorithm, recursive: the graph is ~100 modules deep at most
        index[v] = low[v] = next(counter)
        stack.append(v)
        on_stack.add(v)
        for w in adj.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(tuple(sorted(comp)))

    for m in sorted(adj):
        if m not in index:
            visit(m)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--top', type=int, default=15)
    parser.add_argument('--imports', action='store_true', help='list every function-level import')
    args = parser.parse_args()

    rows = size_per_package()
    print('Lines and modules per package')
    for pkg, mods, lines in rows:
        print(f'  {pkg:<12} {mods:>3} modules {lines:>6} lines')
    print(f'  {"total":<12} {sum(r[1] for r in rows):>3} modules {sum(r[2] for r in rows):>6} lines')

    imports = function_level_imports()
    own = [i for i in imports if i[2].startswith('.') or i[2].split('.')[0] == PACKAGE]
    print(f'\nFunction-level imports: {len(imports)} in all, {len(own)} of the project\'s own modules')
    per_file: dict[str, int] = defaultdict(int)
    for file, _, _ in imports:
        per_file[file] += 1
    for file, n in sorted(per_file.items(), key=lambda kv: -kv[1])[:10]:
        print(f'  {n:>3} {file}')
    if args.imports:
        for file, line, name in imports:
            print(f'      {file}:{line} {name}')

    print(f'\nLongest functions (lines)')
    for length, where in longest_functions(args.top):
        print(f'  {length:>4} {where}')

    edges, sccs = package_cycles()
    two_way = sorted({tuple(sorted(e)) for e in edges if (e[1], e[0]) in edges})
    print(f'\nImports between packages: {len(edges)} package pairs; two-way pairs: {len(two_way)}')
    for a, b in two_way:
        print(f'  {a} <-> {b} ({edges[(a, b)]} / {edges[(b, a)]} module imports)')
    print(f'Cycles among packages (strongly connected sets): {len(sccs)}')
    for comp in sccs:
        print('  ' + ', '.join(comp))
    cycles = module_cycles()
    print(f'Cycles among modules (strongly connected sets): {len(cycles)}, '
          f'{sum(len(c) for c in cycles)} modules in them')
    for comp in cycles:
        print(f'  {len(comp)}: ' + ', '.join(m.removeprefix(PACKAGE + '.') for m in comp))


if __name__ == '__main__':
    main()
