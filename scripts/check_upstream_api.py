#!/usr/bin/env python3
"""Compare the project's own Partner API fixture with the upstream description.

The connector's request tests (crates/justworks/tests/request_shape.rs) check every
request against crates/justworks/tests/fixtures/partner_api_operations.json: the
operations, parameters, form fields and scopes the connector relies on, extracted
from the third-party OpenAPI profile of the Justworks Partner API kept outside the
repository (`../shared/justworks/upstream` next to the checkout). This script is the
separate check that the fixture still says what upstream says.

Usage:
    python3 scripts/check_upstream_api.py [--upstream DIR] [--write]

    --upstream DIR   the upstream folder (default: $ROSTER_UPSTREAM_API, else
                     ../shared/justworks/upstream relative to the repository root)
    --write          rewrite the fixture from upstream instead of comparing

Exit codes:
    0  ran; every operation and scope of the fixture matches upstream
    1  ran; something differs (each difference is printed)
    2  NOT RUN: the upstream folder is missing (or PyYAML is not installed)
"""

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "crates/justworks/tests/fixtures/partner_api_operations.json"

# What the connector relies on (used by --write when there is no fixture yet).
DEFAULT_OPERATIONS = [
    ("GET", "/v1/members"),
    ("GET", "/v1/members/{member_id}"),
    ("GET", "/v1/members/{member_id}/custom-field-values"),
    ("GET", "/v1/company"),
    ("GET", "/v1/company/custom-fields"),
    ("POST", "/oauth/token"),
    ("POST", "/v1/oauth/revoke"),
]
DEFAULT_SCOPES = [
    "company.basic:read",
    "company.detail:read",
    "member.basic:read",
    "member.detail:read",
    "member.dob:read",
    "member.employment:read",
    "member.sex:read",
]


def not_run(reason):
    print(f"NOT RUN: {reason}")
    sys.exit(2)


def load_yaml(path):
    import yaml  # checked in main()

    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def resolve(doc, node):
    """Resolve a local `$ref` (one level, as the upstream files use them)."""
    if isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"unsupported $ref {ref}")
        target = doc
        for part in ref[2:].split("/"):
            target = target[part]
        return target
    return node


def extract_operation(doc, op):
    """The parts of one operation the request test reads."""
    parameters = []
    for p in op.get("parameters", []) or []:
        p = resolve(doc, p)
        entry = {"name": p["name"], "in": p["in"]}
        for key in ("required", "description", "schema"):
            if key in p:
                entry[key] = p[key]
        parameters.append(entry)
    out = {"operationId": op.get("operationId"), "parameters": parameters}
    form = (
        (op.get("requestBody") or {})
        .get("content", {})
        .get("application/x-www-form-urlencoded", {})
        .get("schema")
    )
    if form is not None:
        form = resolve(doc, form)
        out["form"] = {
            "required": form.get("required", []),
            "properties": form.get("properties", {}),
        }
    return out


def upstream_operations(upstream):
    """(METHOD, path) -> (file name, extracted operation, oauth flow) for every
    operation of upstream/openapi/*.yml."""
    found = {}
    for path in sorted((upstream / "openapi").glob("*.yml")):
        doc = load_yaml(path)
        for template, item in (doc.get("paths") or {}).items():
            for method, op in item.items():
                if not isinstance(op, dict):
                    continue
                found[(method.upper(), template)] = (path.name, extract_operation(doc, op))
    return found


def upstream_scopes(upstream):
    doc = load_yaml(upstream / "scopes/justworks-scopes.yml")
    return {s["scope"]: s.get("description", "") for s in doc.get("scopes", [])}


def upstream_oauth(upstream):
    doc = load_yaml(upstream / "openapi/justworks-oauth-api-openapi.yml")
    flow = doc["components"]["securitySchemes"]["OAuth2"]["flows"]["authorizationCode"]
    return {"authorizationUrl": flow["authorizationUrl"], "tokenUrl": flow["tokenUrl"]}


def build(upstream, wanted_ops, wanted_scopes):
    ops = upstream_operations(upstream)
    scopes = upstream_scopes(upstream)
    operations = []
    for method, path in wanted_ops:
        if (method, path) not in ops:
            raise SystemExit(f"{method} {path} is not in {upstream}/openapi")
        source, op = ops[(method, path)]
        operations.append({"method": method, "path": path, "source": f"openapi/{source}", **op})
    return {
        "about": (
            "The Justworks Partner API operations, parameters, form fields and scopes "
            "the connector relies on, extracted from the third-party OpenAPI profile "
            "(api-evangelist/justworks, see ../shared/justworks/upstream/PROVENANCE.md). "
            "The request tests check against this file; "
            "scripts/check_upstream_api.py compares it with upstream."
        ),
        "operations": operations,
        "scopes": {s: scopes[s] for s in wanted_scopes if s in scopes},
        "oauth": upstream_oauth(upstream),
    }


def differences(path, mine, theirs):
    """Human-readable differences between two JSON values."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        out = []
        for key in sorted(set(mine) | set(theirs)):
            if key not in theirs:
                out.append(f"{path}.{key}: in the fixture, not upstream")
            elif key not in mine:
                out.append(f"{path}.{key}: upstream has {json.dumps(theirs[key])}, the fixture has nothing")
            else:
                out.extend(differences(f"{path}.{key}", mine[key], theirs[key]))
        return out
    named = lambda v: isinstance(v, list) and all(isinstance(x, dict) and "name" in x for x in v)
    if named(mine) and named(theirs):
        return differences(path, {x["name"]: x for x in mine}, {x["name"]: x for x in theirs})
    if mine != theirs:
        return [f"{path}: fixture {json.dumps(mine)} != upstream {json.dumps(theirs)}"]
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = os.environ.get("ROSTER_UPSTREAM_API") or str(REPO.parent / "shared/justworks/upstream")
    parser.add_argument("--upstream", default=default)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    upstream = Path(args.upstream)
    if not (upstream / "openapi").is_dir():
        not_run(f"upstream folder missing ({upstream}/openapi does not exist; pass --upstream DIR)")
    try:
        import yaml  # noqa: F401
    except ImportError:
        not_run("PyYAML is not installed (apt-get install python3-yaml)")

    fixture = json.loads(FIXTURE.read_text(encoding="utf-8")) if FIXTURE.exists() else None
    if fixture is not None:
        wanted_ops = [(o["method"], o["path"]) for o in fixture["operations"]]
        wanted_scopes = list(fixture["scopes"])
    else:
        wanted_ops, wanted_scopes = DEFAULT_OPERATIONS, DEFAULT_SCOPES

    if args.write:
        fresh = build(upstream, wanted_ops, wanted_scopes)
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(json.dumps(fresh, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {FIXTURE.relative_to(REPO)} from {upstream}")
        return 0
    if fixture is None:
        print(f"{FIXTURE} is missing; run with --write")
        return 1

    print(f"comparing {FIXTURE.relative_to(REPO)} with {upstream}")
    ops = upstream_operations(upstream)
    scopes = upstream_scopes(upstream)
    failed = 0
    for mine in fixture["operations"]:
        name = f"{mine['method']} {mine['path']}"
        found = ops.get((mine["method"], mine["path"]))
        if found is None:
            print(f"DIFFERS  {name}: not in upstream")
            failed += 1
            continue
        source, theirs = found
        theirs = {"method": mine["method"], "path": mine["path"], "source": f"openapi/{source}", **theirs}
        diffs = differences(name, mine, theirs)
        if diffs:
            failed += 1
            print(f"DIFFERS  {name}")
            for d in diffs:
                print(f"         {d}")
        else:
            print(f"matches  {name}")
    for scope, description in fixture["scopes"].items():
        if scope not in scopes:
            print(f"DIFFERS  scope {scope}: not in upstream")
            failed += 1
        elif scopes[scope] != description:
            print(f"DIFFERS  scope {scope}: fixture {description!r} != upstream {scopes[scope]!r}")
            failed += 1
        else:
            print(f"matches  scope {scope}")
    oauth = upstream_oauth(upstream)
    diffs = differences("oauth", fixture["oauth"], oauth)
    if diffs:
        failed += 1
        print("DIFFERS  oauth flow")
        for d in diffs:
            print(f"         {d}")
    else:
        print("matches  oauth flow")
    total = len(fixture["operations"]) + len(fixture["scopes"]) + 1
    if failed:
        print(f"RAN: {failed} of {total} items differ from upstream")
        return 1
    print(f"RAN: all {total} items match upstream")
    return 0


if __name__ == "__main__":
    sys.exit(main())
