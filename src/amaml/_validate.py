"""Argument checks shared by the public entry points.

Each check raises one ``TypeError`` or ``ValueError`` that names the argument and says
what was expected, before any computation starts.
"""

from __future__ import annotations

import math
import numbers
from typing import Any


def positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be a positive integer, got {value!r} ({type(value).__name__}).")
    if value <= 0:
        raise ValueError(f"`{name}` must be a positive integer, got {value}.")
    return int(value)


def count_at_most(name: str, value: Any, limit: int, what: str) -> int:
    """A positive integer of at most ``limit`` (``what``: the limit's meaning, for the message)."""
    value = positive_int(name, value)
    if value > limit:
        raise ValueError(f"`{name}` ({value}) must not exceed {what} ({limit}).")
    return value


def optional_positive_int(name: str, value: Any) -> int | None:
    """``None``, or a positive integer (e.g. ``unroll``: ``None`` means "by backend")."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be None or a positive integer, got {value!r} ({type(value).__name__}).")
    if value <= 0:
        raise ValueError(f"`{name}` must be None or a positive integer, got {value}.")
    return int(value)


def positive_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a positive real number, got {value!r} ({type(value).__name__}).")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"`{name}` must be a positive finite number, got {value}.")
    return float(value)


def nonnegative_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number >= 0, got {value!r} ({type(value).__name__}).")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value}.")
    return float(value)


def instance_of(name: str, value: Any, cls: type, choices: str) -> Any:
    if not isinstance(value, cls):
        raise TypeError(f"`{name}` must be one of {choices}, got {value!r}.")
    return value


def checkpoints(name: str, value: Any) -> int | str | None:
    if value is None or value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            f'`{name}` must be None (store every state), "auto", or an integer >= 1 '
            f"(number of stored states), got {value!r}."
        )
    return int(value)
