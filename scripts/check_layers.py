#!/usr/bin/env python3
"""Fails when a module of src/ includes or links a module that docs/architecture.md does not allow it.

The table "Modules and who may depend on whom" in docs/architecture.md is the one statement of the layers:
one row per module with its layer and the modules it may depend on. This check (a CTest test, so `make
test` runs it) holds the code to it:
  - every folder under src/ has a row;
  - a module's `#include "other/..."` names only itself or a module its row allows;
  - its CMake DEPS (gyre_<module>) name only allowed modules;
  - a module depends only on modules of a lower layer, or of its own layer when its row names them (peers),
    and the allowed graph has no cycle.
Usage: check_layers.py SOURCE_DIR      (exit 1 and one line per violation, file:line first)
       check_layers.py --self-test     (shows that a forbidden include is caught)
"""
import os
import re
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_0-9]+)/')
ROW = re.compile(r'^\|\s*(\d+)\s*\|\s*`([a-z_0-9]+)`\s*\|.*\|\s*([^|]*?)\s*\|\s*$')
CMAKE_DEP = re.compile(r'\bgyre_([a-z_0-9]+)\b')


def read_table(doc_path):
    layers, allowed = {}, {}
    with open(doc_path, encoding='utf-8') as f:
        for line in f:
            m = ROW.match(line)
            if not m:
                continue
            layer, module, deps = int(m.group(1)), m.group(2), m.group(3)
            layers[module] = layer
            deps = re.sub(r'\(.*?\)', '', deps)  # "(libraries only)" and other remarks
            allowed[module] = {d.strip(' `') for d in deps.split(',') if d.strip(' `')}
    return layers, allowed


def check(root):
    doc = os.path.join(root, 'docs', 'architecture.md')
    src = os.path.join(root, 'src')
    layers, allowed = read_table(doc)
    problems = []
    if not layers:
        return [f'{doc}: no module table found (rows like "| 2 | `features` | ... | core, store |")']
    for module, deps in sorted(allowed.items()):
        for d in sorted(deps):
            if d not in layers:
                problems.append(f'{doc}: module {module} may depend on "{d}", which has no row')
            elif layers[d] > layers[module]:
                problems.append(f'{doc}: module {module} (layer {layers[module]}) may not depend on {d} '
                                f'(layer {layers[d]}): dependencies point down')
    # A cycle among same-layer peers would make "one way" false.
    state = {}

    def visit(m, path):
        state[m] = 'open'
        for d in sorted(allowed.get(m, ())):
            if state.get(d) == 'open':
                problems.append(f'{doc}: dependency cycle: {" -> ".join(path + [m, d])}')
            elif d in allowed and d not in state:
                visit(d, path + [m])
        state[m] = 'done'

    for m in sorted(allowed):
        if m not in state:
            visit(m, [])
    modules = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    for module in modules:
        if module not in layers:
            problems.append(f'src/{module}: no row in docs/architecture.md\'s module table')
            continue
        ok = allowed[module] | {module}
        for dirpath, _, files in os.walk(os.path.join(src, module)):
            for name in sorted(files):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                if name == 'CMakeLists.txt':
                    with open(path, encoding='utf-8') as f:
                        for n, line in enumerate(f, 1):
                            for dep in CMAKE_DEP.findall(line.split('#')[0]):
                                if dep in modules and dep not in ok:
                                    problems.append(f'{rel}:{n}: {module} links gyre_{dep}, which '
                                                    f'docs/architecture.md does not allow it')
                    continue
                if not name.endswith(('.h', '.cc')):
                    continue
                with open(path, encoding='utf-8', errors='replace') as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if m and m.group(1) in modules and m.group(1) not in ok:
                            problems.append(f'{rel}:{n}: {module} includes "{m.group(1)}/...", which '
                                            f'docs/architecture.md does not allow it (allowed: '
                                            f'{", ".join(sorted(allowed[module])) or "libraries only"})')
    return problems


def self_test():
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, 'docs'))
        for m in ('core', 'store'):
            os.makedirs(os.path.join(root, 'src', m))
        with open(os.path.join(root, 'docs', 'architecture.md'), 'w') as f:
            f.write('| layer | module | what | may depend on |\n|---|---|---|---|\n'
                    '| 0 | `core` | basics | (libraries only) |\n| 1 | `store` | storage | core |\n')
        with open(os.path.join(root, 'src', 'store', 'a.cc'), 'w') as f:
            f.write('#include "core/status.h"\n')
        assert check(root) == [], check(root)
        with open(os.path.join(root, 'src', 'core', 'b.h'), 'w') as f:
            f.write('// up the stack: forbidden\n#include "store/database.h"\n')
        problems = check(root)
        assert len(problems) == 1 and problems[0].startswith('src/core/b.h:2: core includes "store/'), problems
    print('check_layers self-test: a forbidden include is reported')
    return 0


def main():
    if sys.argv[1:] == ['--self-test']:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = check(sys.argv[1])
    for p in problems:
        print(p)
    if problems:
        print(f'{len(problems)} layer violation(s); fix the include or, if the dependency is right, the table in '
              f'docs/architecture.md')
        return 1
    print('layers: every include and link of src/ is allowed by docs/architecture.md')
    return 0


if __name__ == '__main__':
    sys.exit(main())
