"""Hypothesis strategies for the JSON schemas of docs/openapi.json: the part of JSON
Schema that pydantic writes for the route models (objects, arrays, strings with a length,
a pattern or a format, bounded numbers, enums, anyOf), refs resolved in the document's
components. Every string of format ``uuid`` is drawn from ``ids``: the campaign puts
nord's ids there."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

from hypothesis import strategies as st

__all__ = ["values_for"]

LONGEST_TEXT = 60
LONGEST_LIST = 4
#: ``^[<class>]+$`` and the like: drawn as text of that class, within the length bounds.
_CLASS_PATTERN = re.compile(r"\^(\[[^\]]+\])[+*]\$")


def values_for(
    schema: dict[str, Any], components: dict[str, Any], ids: st.SearchStrategy[str]
) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        target = components[schema["$ref"].rsplit("/", 1)[-1]]
        return st.deferred(lambda: values_for(target, components, ids))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([values_for(s, components, ids) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "object":
        return _object(schema, components, ids)
    if kind == "array":
        items = values_for(schema.get("items", {}), components, ids)
        low = schema.get("minItems", 0)
        return st.lists(
            items, min_size=low, max_size=min(schema.get("maxItems", 9), low + LONGEST_LIST)
        )
    if kind == "string":
        return _string(schema, ids)
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", -(2**40) - 1) + 1)
        high = schema.get("maximum", schema.get("exclusiveMaximum", 2**40 + 1) - 1)
        return st.integers(min_value=low, max_value=high)
    if kind == "number":
        return st.floats(
            min_value=schema.get("minimum", schema.get("exclusiveMinimum")),
            max_value=schema.get("maximum"),
            exclude_min="exclusiveMinimum" in schema,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return st.none() | st.booleans() | st.integers() | st.text(max_size=12) | ids


def _object(
    schema: dict[str, Any], components: dict[str, Any], ids: st.SearchStrategy[str]
) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    fields = {name: values_for(s, components, ids) for name, s in properties.items()}
    return st.fixed_dictionaries(
        {k: v for k, v in fields.items() if k in required},
        optional={k: v for k, v in fields.items() if k not in required},
    )


def _string(schema: dict[str, Any], ids: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    form = schema.get("format")
    if form == "uuid":
        return ids
    if form == "date-time":
        return st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
    if form == "date":
        return st.dates().map(lambda d: d.isoformat())
    low = schema.get("minLength", 0)
    high = min(schema.get("maxLength", LONGEST_TEXT), max(low, LONGEST_TEXT))
    pattern = schema.get("pattern")
    if pattern is None:
        return st.text(min_size=low, max_size=high)
    simple = _CLASS_PATTERN.fullmatch(pattern)
    if simple:
        alphabet = st.from_regex(f"{simple.group(1)}", fullmatch=True)
        least = max(low, 1 if pattern.endswith("+$") else 0)
        return st.text(alphabet=alphabet, min_size=least, max_size=max(least, high))
    return st.from_regex(pattern, fullmatch=True).filter(lambda s: low <= len(s) <= high)
