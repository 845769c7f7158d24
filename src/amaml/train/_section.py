"""One configuration section: its keys from the fields of the classes it chooses, both ways.

A section is the JSON of one object (``{"name": "amaml", "steps": 100, ...}``): the name of
its class (for sections that choose one) and the class's documented fields. A field whose
value is itself a configurable object with options (a task ``family``) is named by its key,
and that object's options join the section.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

from .._fields import doc_of
from .._registry import Registry
from ._codec import default_of, describe, encode, field_types, kind_of, options, parse
from ._registries import KINDS


class Section(NamedTuple):
    """One section: its name, the key that chooses its class (if any), and what it means."""

    name: str
    tag: str | None
    registry: Registry | None
    fixed: type | None
    doc: str


def _chooses_classes(registry: Registry) -> bool:
    """Whether a registry's names choose classes (whose options may join a section), not fixed objects."""
    return all(isinstance(entry, type) for entry in registry.values())


def _flattened(value: Any) -> bool:
    """Whether a configurable field's object has options of its own (they join the section)."""
    return _has_options(type(value))


def _has_options(cls: type) -> bool:
    return dataclasses.is_dataclass(cls) and bool(options(cls))


def _fields_dict(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in options(type(obj)):
        value = getattr(obj, f.name)
        registry = kind_of(field_types(type(obj))[f.name], KINDS)
        if registry is not None and _chooses_classes(registry) and _flattened(value):
            out[f.name] = registry.name_of(value)
            out.update(_fields_dict(value))
        else:
            out[f.name] = encode(value, KINDS)
    return out


def _kind_keys(obj: Any) -> set[str]:
    """The keys of a section that choose a class by name (e.g. ``family``, ``forward``)."""
    keys = set()
    for f in options(type(obj)):
        if kind_of(field_types(type(obj))[f.name], KINDS) is not None:
            keys.add(f.name)
            if _chooses_classes(kind_of(field_types(type(obj))[f.name], KINDS)) and _flattened(getattr(obj, f.name)):
                keys |= _kind_keys(getattr(obj, f.name))
    return keys


def section_dict(obj: Any, section: Section) -> dict[str, Any]:
    head = {section.tag: section.registry.name_of(obj)} if section.tag else {}
    return {**head, **_fields_dict(obj)}


def _class_defaults(cls: type) -> dict[str, Any]:
    """Every key of ``cls`` that has a default, with the default as JSON."""
    out: dict[str, Any] = {}
    for f in options(cls):
        default = default_of(f)
        if default is dataclasses.MISSING:
            continue
        registry = kind_of(field_types(cls)[f.name], KINDS)
        if registry is not None and _chooses_classes(registry) and _flattened(default):
            out[f.name] = registry.name_of(default)
            out.update(_class_defaults(type(default)))
        else:
            out[f.name] = encode(default, KINDS)
    return out


def _build(cls: type, flat: dict[str, Any], used: set[str], section: str) -> Any:
    """An instance of ``cls`` from the section's keys; records the keys it used."""
    kwargs = {}
    for f in options(cls):
        key, tp = f.name, field_types(cls)[f.name]
        registry = kind_of(tp, KINDS)
        default = default_of(f)
        if key in flat:
            used.add(key)
        elif default is dataclasses.MISSING:
            raise ValueError(f"`{section}.{key}` is required ({doc_of(f)}).")
        if registry is not None and _chooses_classes(registry):
            if key in flat:  # a name chooses the class; its own options (if any) join the section
                try:
                    chosen = registry.lookup(str(flat[key]))
                except ValueError as error:
                    raise ValueError(f"`{section}.{key}`: {error}") from None
                kwargs[key] = _build(chosen, flat, used, section) if _has_options(chosen) else chosen()
            elif _flattened(default):
                kwargs[key] = _build(type(default), flat, used, section)
            else:
                kwargs[key] = default
        else:
            kwargs[key] = parse(f"{section}.{key}", flat[key], tp, KINDS) if key in flat else default
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:
        raise type(error)(f"invalid `{section}` settings: {error}") from None


def _unwrap(value: Any) -> Any:
    """A value from ``amaml config show`` output (``{"value": ...}``), or a plain value."""
    return value["value"] if isinstance(value, Mapping) and "value" in value else value


def section_from(section: Section, given: Mapping[str, Any], base_obj: Any) -> Any:
    if not isinstance(given, Mapping):
        raise ValueError(f"config section `{section.name}` must be an object of keys, got {given!r}.")
    given = {k: _unwrap(v) for k, v in given.items()}
    base = section_dict(base_obj, section)
    if section.tag:
        cls = section.registry.lookup(str(given.get(section.tag, base[section.tag])))
        if cls is not type(base_obj):  # another class: keep only what was set on purpose
            defaults = _class_defaults(type(base_obj))
            base = {k: v for k, v in base.items() if k not in defaults or defaults[k] != v}
    else:
        cls = section.fixed
    flat = {k: v for k, v in {**base, **given}.items() if k != section.tag}
    used: set[str] = set()
    obj = _build(cls, flat, used, section.name)
    stray = sorted(k for k in given if k != section.tag and k not in used)
    if stray:
        keys = section_dict(obj, section)
        chosen = ", ".join(
            f"{section.name if k == 'name' else k} {v!r}"
            for k, v in keys.items()
            if k == section.tag or k in _kind_keys(obj)
        )
        raise ValueError(
            f"`{section.name}.{stray[0]}` does not apply"
            + (f" ({chosen})" if chosen else "")
            + f"; the keys of `{section.name}` are: {', '.join(keys)}."
        )
    return obj


def describe_fields(obj: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for f in options(type(obj)):
        value, tp = getattr(obj, f.name), field_types(type(obj))[f.name]
        default = default_of(f)
        registry = kind_of(tp, KINDS)
        out[f.name] = {
            "value": registry.name_of(value) if registry is not None else encode(value, KINDS),
            "type": describe(tp, KINDS),
            "default": "(required)" if default is dataclasses.MISSING else encode(default, KINDS),
            "doc": doc_of(f),
        }
        if registry is not None and _chooses_classes(registry) and _flattened(value):
            out.update(describe_fields(value))
    return out
