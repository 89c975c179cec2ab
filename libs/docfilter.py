"""Evaluate the MongoDB filter subset we use, in Python, for the embedded document store."""

from __future__ import annotations

from typing import Any

_OPS = {
    "$eq": lambda v, a: v == a,
    "$ne": lambda v, a: v != a,
    "$gt": lambda v, a: v is not None and v > a,
    "$gte": lambda v, a: v is not None and v >= a,
    "$lt": lambda v, a: v is not None and v < a,
    "$lte": lambda v, a: v is not None and v <= a,
    "$in": lambda v, a: v in a,
    "$nin": lambda v, a: v not in a,
    "$exists": lambda v, a: (v is not None) == bool(a),
}


def _get(doc: dict[str, Any], dotted: str) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def matches(doc: dict[str, Any], filter: dict[str, Any]) -> bool:
    for field, cond in filter.items():
        if field == "$and":
            if not all(matches(doc, f) for f in cond):
                return False
            continue
        if field == "$or":
            if not any(matches(doc, f) for f in cond):
                return False
            continue
        value = _get(doc, field)
        if isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond):
            for op, arg in cond.items():
                if op not in _OPS:
                    raise ValueError(f"unsupported operator {op}")
                if not _OPS[op](value, arg):
                    return False
        elif value != cond and not (type(value) is list and cond in value):  # as in MongoDB: an array matches a value it holds
            return False
    return True
