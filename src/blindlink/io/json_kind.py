"""Names of JSON value types for error messages about JSON documents."""

from __future__ import annotations


def json_kind(value: object) -> str:
    """'null', 'a boolean', 'a number', 'a string', 'an array' or 'an object'.

    Messages say what kind of value stands somewhere, never the value itself.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
