#!/usr/bin/env python3
"""Prints the headers (.hpp) under the given folders of SOURCE_DIR, relative to it, one per line,
sorted: what `meson install` installs under include/dagrad/ (meson.build).
Usage: list_headers.py SOURCE_DIR FOLDER..."""
import os
import sys

root = sys.argv[1]
found = []
for folder in sys.argv[2:]:
    for dirpath, _, files in os.walk(os.path.join(root, folder)):
        for f in files:
            if f.endswith('.hpp'):
                found.append(os.path.relpath(os.path.join(dirpath, f), root))
print('\n'.join(sorted(found)))
