"""Typed values of configuration keys: parsing text, checking JSON, and writing JSON back.

A key's type is the annotation of the dataclass field it comes from (``int``, ``float``,
``str``, ``bool``, ``tuple[int, ...]``, ``Literal[...]``, unions with ``None``, or an
abstract kind such as :class:`amaml.AbstractSolver` whose objects are chosen by name in a
:class:`~amaml._registry.Registry`). Command-line text is parsed by that type, so
``--set model.hidden=64,64`` and ``--set method.forward=rk4`` need no quotes; a value that
does not parse is one error naming the key, the type expected and the value given.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union

from .._fields import doc_of
from .._registry import Registry


class Text(str):
    """A value typed on the command line, still to be parsed by its key's type."""


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """The resolved annotation of every field of a dataclass."""
    return typing.get_type_hints(cls)


def options(cls: type) -> list[dataclasses.Field]:
    """The fields of ``cls`` a configuration sets: the ``__init__`` fields declared with a
    meaning (:func:`amaml._fields.option`). Others, such as a task family's ``dtype`` (set
    from the run's dtype), are not configuration keys."""
    return [f for f in dataclasses.fields(cls) if f.init and doc_of(f)]


def default_of(field: dataclasses.Field) -> Any:
    """The field's default, or ``dataclasses.MISSING``."""
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


def kind_of(tp: Any, kinds: Mapping[type, Registry]) -> Registry | None:
    """The registry whose names choose objects of type ``tp``, if ``tp`` is such a kind."""
    if isinstance(tp, type):
        for base, registry in kinds.items():
            if issubclass(tp, base):
                return registry
    return None


def _members(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (Union, types.UnionType):
        return typing.get_args(tp)
    return (tp,)


def describe(tp: Any, kinds: Mapping[type, Registry]) -> str:
    """A short human description of a type, for errors and ``amaml config show``."""
    parts = []
    for member in _members(tp):
        registry = kind_of(member, kinds)
        if member is type(None):
            parts.append("none")
        elif registry is not None:
            parts.append(f"a {registry.kind} ({', '.join(registry)})")
        elif typing.get_origin(member) is Literal:
            parts.append(" or ".join(repr(a) for a in typing.get_args(member)))
        elif typing.get_origin(member) is tuple:
            parts.append(f"comma-separated {typing.get_args(member)[0].__name__}s")
        else:
            parts.append(
                {bool: "true or false", int: "an integer", float: "a number", str: "text"}.get(
                    member, getattr(member, "__name__", str(member))
                )
            )
    return " or ".join(parts)


class _NoMatch(Exception):
    pass


def _scalar(value: Any, member: Any, kinds: Mapping[type, Registry]) -> Any:
    """``value`` as an instance of one (non-union) type, or :class:`_NoMatch`."""
    text = isinstance(value, Text)
    registry = kind_of(member, kinds)
    if member is type(None):
        if value is None or (text and value.lower() in ("none", "null")):
            return None
    elif registry is not None:
        if isinstance(value, str) and value in registry:
            entry = registry[value]
            return entry() if isinstance(entry, type) else entry
        if isinstance(value, member):
            return value
    elif typing.get_origin(member) is Literal:
        if value in typing.get_args(member):
            return str(value) if text else value
    elif typing.get_origin(member) is tuple:
        inner = typing.get_args(member)[0]
        if text:
            items = [Text(t.strip()) for t in value.strip("[]()").split(",") if t.strip()]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise _NoMatch
        return tuple(_scalar(item, inner, kinds) for item in items)
    elif member is bool:
        if isinstance(value, bool):
            return value
        if text and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif member is int:
        if text:
            try:
                return int(value)
            except ValueError:
                raise _NoMatch from None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif member is float:
        if text:
            try:
                number = float(value)
            except ValueError:
                raise _NoMatch from None
            if math.isfinite(number):
                return number
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif member is str:
        if isinstance(value, str):
            return str(value)
    elif isinstance(member, type) and isinstance(value, member):
        return value
    raise _NoMatch


def parse(key: str, value: Any, tp: Any, kinds: Mapping[type, Registry]) -> Any:
    """``value`` (command-line :class:`Text` or a JSON value) as the type ``tp`` of ``key``.

    Raises:
        ValueError: naming the key, the type expected and the value given.
    """
    # None first, so that "none" is not read as text; then the rest in declaration order.
    members = sorted(_members(tp), key=lambda m: m is not type(None))
    for member in members:
        try:
            return _scalar(value, member, kinds)
        except _NoMatch:
            continue
    raise ValueError(
        f"`{key}` expects {describe(tp, kinds)}; got {str(value) if isinstance(value, Text) else value!r}."
    )


def encode(value: Any, kinds: Mapping[type, Registry]) -> Any:
    """A field's value as JSON: registered objects by name, tuples as lists."""
    if isinstance(value, tuple):
        return [encode(v, kinds) for v in value]
    registry = kind_of(type(value), kinds)
    if registry is not None:
        return registry.name_of(value)
    return value
