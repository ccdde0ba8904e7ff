#!/usr/bin/env python3
"""Fails the build when an include runs against the layering that the meson files declare.

Usage: check_layering.py SOURCE_ROOT STAMP FOLDER=ARROW,ARROW ...

Each FOLDER=ARROWS argument comes from a folder's meson.build (folder_arrows): the folders whose
headers the files of FOLDER may include. A file belongs to the deepest declared folder that holds
it, and may include headers of its own folder and of its arrows, nothing else. Every folder with
C++ sources must be declared, the declared arrows must not form a circle, and docs/architecture.md's
folder table must show every folder with exactly its arrows. On success, writes
STAMP; on failure, prints each offending include as FILE:LINE and exits 1.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SKIP_DIRS = {'.git', 'docs', 'scripts', 'data', 'out'}


def folder_of(path, folders):
    """The deepest declared folder that holds `path` (a path relative to the root), or None."""
    parts = path.split('/')[:-1]
    while parts:
        f = '/'.join(parts)
        if f in folders:
            return f
        parts.pop()
    return None


def find_cycle(arrows):
    state = {}

    def visit(f, stack):
        state[f] = 1
        for a in arrows.get(f, []):
            if state.get(a) == 1:
                return stack + [f, a]
            if a not in state:
                c = visit(a, stack + [f])
                if c:
                    return c
        state[f] = 2
        return None

    for f in arrows:
        if f not in state:
            c = visit(f, [])
            if c:
                return c
    return None


DOC = 'docs/architecture.md'
DOC_ROW = re.compile(r'^\|\s*`([^`]+)/`\s*\|[^|]*\|([^|]*)\|\s*$')


def check_doc(root, arrows):
    """docs/architecture.md's folder table (between <!-- folders --> and <!-- /folders -->) must list
    every declared folder with exactly its arrows, so the picture cannot drift from the build."""
    path = os.path.join(root, DOC)
    try:
        with open(path, encoding='utf-8') as f:
            text = f.read()
    except OSError as e:
        return [f'{DOC}: cannot read ({e})']
    start, end = text.find('<!-- folders -->'), text.find('<!-- /folders -->')
    if start < 0 or end < start:
        return [f'{DOC}: no folder table between <!-- folders --> and <!-- /folders -->']
    documented = {}
    for line in text[start:end].splitlines():
        m = DOC_ROW.match(line)
        if m:
            documented[m.group(1)] = sorted(a.strip().strip('`').rstrip('/') for a in m.group(2).split(',')
                                            if a.strip() and a.strip() != '—')
    errors = []
    for folder in sorted(arrows):
        if folder not in documented:
            errors.append(f'{DOC}: the folder table has no row for {folder}/ (arrows: {", ".join(sorted(arrows[folder])) or "—"})')
        elif documented[folder] != sorted(arrows[folder]):
            errors.append(f'{DOC}: {folder}/ is documented with arrows {", ".join(documented[folder]) or "—"} but '
                          f'{folder}/meson.build declares {", ".join(sorted(arrows[folder])) or "—"}')
    for folder in sorted(documented):
        if folder not in arrows:
            errors.append(f'{DOC}: the folder table lists {folder}/, which no meson.build declares')
    return errors


def main():
    root, stamp = sys.argv[1], sys.argv[2]
    arrows = {}
    for arg in sys.argv[3:]:
        folder, _, rest = arg.partition('=')
        arrows[folder] = [a for a in rest.split(',') if a]
    errors = []
    for folder, targets in arrows.items():
        for t in targets:
            if t not in arrows:
                errors.append(f'{folder}/meson.build: arrow to {t}, which is not a declared folder')
    cycle = find_cycle(arrows)
    if cycle:
        errors.append('the arrows form a circle: ' + ' -> '.join(cycle))
    build_dirs = {os.path.realpath(os.path.join(root, d)) for d in os.listdir(root) if d.startswith('build')}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith('build')
                       and os.path.realpath(os.path.join(dirpath, d)) not in build_dirs]
        for name in filenames:
            if not name.endswith(('.cpp', '.hpp')):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, '/')
            own = folder_of(rel, arrows)
            if own is None:
                errors.append(f'{rel}: in no folder declared in a meson.build (folder_arrows)')
                continue
            allowed = set(arrows[own]) | {own}
            with open(os.path.join(root, rel), encoding='utf-8', errors='replace') as f:
                for line_no, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    if '/' not in target:
                        continue  # a header beside the file, or of the test tree's own helpers
                    tf = folder_of(target, arrows)
                    if tf is None:
                        # Generated headers and test helpers resolve through other include paths.
                        if own == 'tests' or os.path.exists(os.path.join(root, os.path.dirname(rel), target)):
                            continue
                        errors.append(f'{rel}:{line_no}: includes "{target}", which is in no declared folder')
                        continue
                    if tf not in allowed:
                        errors.append(f'{rel}:{line_no}: {own}/ may not include "{target}" ({tf}/ is not among its '
                                      f'arrows: {", ".join(sorted(arrows[own])) or "none"}; see {own}/meson.build)')
    errors += check_doc(root, arrows)
    if errors:
        print('layering: %d include(s) against the declared arrows:' % len(errors), file=sys.stderr)
        for e in errors:
            print('  ' + e, file=sys.stderr)
        sys.exit(1)
    with open(stamp, 'w') as f:
        f.write('ok\n')


if __name__ == '__main__':
    main()
