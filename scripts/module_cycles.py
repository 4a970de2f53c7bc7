#!/usr/bin/env python3
"""Lists module cycles inside each crate of crates/*: module a refers to module b
(`crate::b…`, `super::b…`, `self::b…` in a `use` or a path) and b, directly or through
others, refers back to a. A module and its own submodules don't count (a parent
re-exporting its children is not a cycle). Issue #12 wants none; exits 1 if any."""
import os, re, sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates")
path_re = re.compile(r"\b(crate|super|self)((?:::[a-z_][a-z0-9_]*)+)")


def modules(src):
    mods = {}
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), src)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib", "main"):
                rel = rel[:-1]
            mods[tuple(rel)] = os.path.join(dirpath, f)
    return mods


def resolve(mod, kind, parts, mods):
    base = {"crate": (), "self": mod, "super": mod[:-1]}[kind]
    target = base
    for p in parts:
        if p == "super":
            target = target[:-1]
            continue
        if target + (p,) in mods:
            target = target + (p,)
        else:
            break
    return target


def strip_tests(text):
    i = text.find("#[cfg(test)]")
    return text if i < 0 else text[:i]


bad = 0
for crate in sorted(os.listdir(root)):
    src = os.path.join(root, crate, "src")
    if not os.path.isdir(src):
        continue
    mods = modules(src)
    edges = {m: set() for m in mods}
    for m, f in mods.items():
        text = strip_tests(open(f, encoding="utf-8").read())
        text = re.sub(r"//[^\n]*", "", text)
        # `use super::{a, b::c}` groups: expand the first level.
        for g in re.finditer(r"\b(crate|super|self)((?:::[a-z_][a-z0-9_]*)*)::\{([^}]*)\}", text):
            for item in g.group(3).split(","):
                item = item.strip().split("::")[0].split(" ")[0]
                if re.match(r"^[a-z_][a-z0-9_]*$", item):
                    parts = [p for p in g.group(2).split("::") if p] + [item]
                    t = resolve(m, g.group(1), parts, mods)
                    edges[m].add(t)
        for u in path_re.finditer(text):
            parts = [p for p in u.group(2).split("::") if p]
            edges[m].add(resolve(m, u.group(1), parts, mods))
    def related(a, b):
        return a[: len(b)] == b or b[: len(a)] == a
    graph = {m: {t for t in ts if t in mods and not related(m, t)} for m, ts in edges.items()}
    # Tarjan's strongly connected components.
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = counter[0]; counter[0] += 1
        stack.append(v); on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(comp)
    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    for comp in comps:
        names = sorted("::".join(c) or "(root)" for c in comp)
        # Show the edges inside the cycle.
        inner = sorted(f"{'::'.join(a) or '(root)'} → {'::'.join(b) or '(root)'}"
                       for a in comp for b in graph[a] if b in comp)
        print(f"{crate}: cycle among {', '.join(names)}\n    " + "\n    ".join(inner))
        bad += 1
sys.exit(1 if bad else 0)
