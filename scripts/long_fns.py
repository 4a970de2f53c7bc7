#!/usr/bin/env python3
"""Lists functions in crates/*/src longer than a limit (default 150 lines) and source
files longer than 600 lines: the size limits of issue #12. A function or file may stay
over its limit with a comment naming the reason: `// size: <why>` in its first lines."""
import os, re, sys

FN_LIMIT = int(sys.argv[1]) if len(sys.argv) > 1 else 150
FILE_LIMIT = 600
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates")
fn_re = re.compile(r"^(\s*)(pub(\([^)]*\))?\s+)?(async\s+)?(const\s+)?fn\s+(\w+)")
bad = 0
for dirpath, _, files in os.walk(root):
    if "/src" not in dirpath + "/" or "/target" in dirpath:
        continue
    for f in sorted(files):
        if not f.endswith(".rs"):
            continue
        path = os.path.join(dirpath, f)
        lines = open(path, encoding="utf-8").read().split("\n")
        rel = os.path.relpath(path, os.path.join(root, ".."))
        test_at = next((i for i, l in enumerate(lines) if l.startswith("#[cfg(test)]")), len(lines))
        if test_at > FILE_LIMIT and not any("// size:" in l for l in lines[:15]):
            print(f"file {rel}: {test_at} lines (without tests)")
            bad += 1
        for i, l in enumerate(lines[:test_at]):
            m = fn_re.match(l)
            if not m or l.rstrip().endswith(";"):
                continue
            indent = m.group(1)
            for j in range(i + 1, test_at):
                if lines[j] == indent + "}":
                    n = j - i + 1
                    reason = any("// size:" in x for x in lines[max(0, i - 3): i + 3])
                    if n > FN_LIMIT and not reason:
                        print(f"fn {rel}:{i+1} {m.group(6)}: {n} lines")
                        bad += 1
                    break
sys.exit(1 if bad else 0)
