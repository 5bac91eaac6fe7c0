#!/usr/bin/env python3
"""Checks that every #include "folder/..." in src/ respects the layer table of DEVELOPERS.md.

Linking alone cannot stop a header include across layers; this script is the gate (run by ctest).
"""
import pathlib
import re
import sys

# folder -> folders it may include from (besides itself)
ALLOWED = {
    "base": set(),
    "tensor": {"base"},
    "io": {"base", "tensor"},
    "kernels": {"base"},
    "model": {"base", "tensor", "io", "kernels"},
    "runtime": {"base", "tensor", "io", "kernels", "model"},
    "text": {"base"},
    "train": {"base", "tensor", "io", "kernels", "model"},
    "app": {"base", "tensor", "io", "kernels", "model", "runtime", "text"},
    "server": {"base", "tensor", "io", "kernels", "model", "runtime", "text", "app"},
}

root = pathlib.Path(__file__).resolve().parent.parent / "src"
include = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')
bad = []
for path in sorted(root.rglob("*")):
    if path.suffix not in (".h", ".cc") or path.name.endswith("_test.cc"):
        continue
    folder = path.relative_to(root).parts[0]
    if folder not in ALLOWED:
        bad.append(f"{path.relative_to(root)}: folder '{folder}' is not in the layer table")
        continue
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = include.match(line)
        if m and m.group(1) != folder and m.group(1) not in ALLOWED[folder]:
            bad.append(f"src/{path.relative_to(root)}:{n}: '{folder}' may not include '{m.group(1)}/'")
for b in bad:
    print(b)
print("check_layers:", "OK" if not bad else f"{len(bad)} violation(s)")
sys.exit(1 if bad else 0)
