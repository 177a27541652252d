#!/usr/bin/env python3
"""Compares two API documents (e.g. /api/v1/openapi.json saved before and after a change).

    scripts/openapi-diff.py before.json after.json [renames.json]

renames.json maps old schema names to new ones ({"MarketCode": "Market"}); they are applied to
the first document before comparing. Differences are printed in two groups: structural (types,
required fields, enums, parameters, paths: what clients and validators see) and descriptions
(text only). Exits 1 when there is a structural difference.
"""
import json
import sys


def renamed(value, renames):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                base, name = item.rsplit("/", 1)
                item = f"{base}/{renames.get(name, name)}"
            out[key] = renamed(item, renames)
        return out
    if isinstance(value, list):
        return [renamed(item, renames) for item in value]
    return value


def walk(before, after, path, structural, descriptions):
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            where = f"{path}/{key}"
            if key not in before or key not in after:
                group = descriptions if key == "description" else structural
                group.append((where, before.get(key, "<absent>"), after.get(key, "<absent>")))
            else:
                walk(before[key], after[key], where, structural, descriptions)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after)):
            walk(b, a, f"{path}[{i}]", structural, descriptions)
    elif before != after:
        group = descriptions if path.endswith("/description") else structural
        group.append((path, before, after))


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    renames = json.load(open(sys.argv[3])) if len(sys.argv) == 4 else {}
    before = renamed(json.load(open(sys.argv[1])), renames)
    schemas = before.get("components", {}).get("schemas", {})
    before.setdefault("components", {})["schemas"] = {
        renames.get(name, name): schema for name, schema in schemas.items()
    }
    after = json.load(open(sys.argv[2]))
    structural, descriptions = [], []
    walk(before, after, "", structural, descriptions)
    for title, group in (("structural", structural), ("description", descriptions)):
        for where, b, a in group:
            print(f"{title} {where}\n  before: {json.dumps(b)[:300]}\n  after:  {json.dumps(a)[:300]}")
    print(f"{len(structural)} structural, {len(descriptions)} description differences")
    sys.exit(1 if structural else 0)


if __name__ == "__main__":
    main()
