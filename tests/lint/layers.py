#!/usr/bin/env python3
"""layers.py: the layering and formatting rules the build cannot see.

The build already fails on a wrong-way include written as "layer/..." or
"cmteb/x.h" (each layer compiles against an include root of itself and the
layers below: CMakeLists.txt, cmteb_layer). This check also catches:
  - includes that climb out of a folder ("../"), which would dodge that,
  - CLI files (eval/cli/, eval/main.c) including anything but public
    headers (cmteb/*.h) and eval/ headers,
  - a public header (<layer>/include/cmteb/) including a private one,
  - C/C++ lines longer than .clang-format's ColumnLimit,
  - comments pointing at documents outside the repository (../shared/...).
Run: tests/lint/layers.py [SOURCE_DIR]; exit 1 with one line per finding.
"""
import os
import re
import sys

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
ALLOWED = {
    "core": {"core"},
    "engine": {"core", "engine"},
    "embedding": {"core", "engine", "embedding"},
    "datasets": {"core", "datasets"},
    "tasks": {"core", "engine", "embedding", "datasets", "tasks"},
    "reports": {"core", "engine", "embedding", "datasets", "reports"},
    "eval": {"core", "engine", "embedding", "datasets", "tasks", "reports", "eval"},
}
GENERATED = re.compile(r"(unicode_tables|nfc_tab)\.c$")
limit = 120
with open(os.path.join(root, ".clang-format")) as f:
    m = re.search(r"^ColumnLimit:\s*(\d+)", f.read(), re.M)
    if m:
        limit = int(m.group(1))

public = {}  # "cmteb/x.h" -> layer
for layer in ALLOWED:
    d = os.path.join(root, layer, "include", "cmteb")
    if os.path.isdir(d):
        for h in os.listdir(d):
            public["cmteb/" + h] = layer

problems = []
inc_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
for layer in ALLOWED:
    for dp, dn, fn in os.walk(os.path.join(root, layer)):
        dn[:] = [d for d in dn if d not in ("node_modules",)]
        for f in fn:
            if not f.endswith((".c", ".h", ".cpp", ".cu")):
                continue
            path = os.path.join(dp, f)
            rel = os.path.relpath(path, root)
            is_cli = rel.startswith("eval/cli/") or rel == "eval/main.c"
            is_public = "/include/cmteb/" in rel
            for no, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
                if not GENERATED.search(rel) and len(line.rstrip("\n")) > limit:
                    problems.append(f"{rel}:{no}: line of {len(line.rstrip())} characters (ColumnLimit {limit})")
                if "../shared/" in line or "shared/spec" in line or re.search(r"(mteb-protocol|engine|style|user-asks|hub-api)\.md", line):
                    problems.append(f"{rel}:{no}: points at a document outside the repository")
                m = inc_re.match(line)
                if not m:
                    continue
                inc = m.group(1)
                if ".." in inc.split("/"):
                    problems.append(f'{rel}:{no}: "{inc}" climbs out of its folder')
                    continue
                if inc.startswith("cmteb/"):
                    owner = public.get(inc)
                    if owner is None:
                        problems.append(f'{rel}:{no}: "{inc}" is no public header')
                    elif owner not in ALLOWED[layer]:
                        problems.append(f'{rel}:{no}: {layer} includes {owner}\'s "{inc}" (wrong way)')
                    continue
                first = inc.split("/")[0]
                if first in ALLOWED:
                    if first not in ALLOWED[layer]:
                        problems.append(f'{rel}:{no}: {layer} includes "{inc}" (wrong way)')
                    elif is_cli and first != "eval":
                        problems.append(f'{rel}:{no}: the CLI includes private header "{inc}" (public cmteb/*.h only)')
                    elif is_public:
                        problems.append(f'{rel}:{no}: public header includes private "{inc}"')
for p in problems:
    print(p)
print(f"layers: {len(problems)} finding(s)")
sys.exit(1 if problems else 0)
