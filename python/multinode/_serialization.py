"""jsonpickle, behind typed functions (jsonpickle ships no type information)."""

from __future__ import annotations

import json
from typing import Any

import jsonpickle  # type: ignore[import]


def encode(value: Any) -> str:
    """``jsonpickle.encode(value)``: how inputs, progress and results travel."""
    text = jsonpickle.encode(value)
    assert isinstance(text, str)
    return text


def decode(text: str) -> Any:
    """``jsonpickle.decode(text)``."""
    return jsonpickle.decode(text)


def decode_output(text: str) -> Any:
    """Decode an execution's output.

    Outputs written by Python functions are jsonpickle; a command function's
    output is whatever text it printed.  Text that is not JSON, or that
    jsonpickle cannot rebuild (for instance an object whose class this
    process cannot import), is returned as it is, so that reading an
    invocation's status never fails because of its result.
    """
    try:
        json.loads(text)
    except ValueError:
        return text
    try:
        return jsonpickle.decode(text)
    except Exception:
        return text
