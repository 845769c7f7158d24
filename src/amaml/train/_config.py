"""The run configuration: typed sections built from the classes they choose.

A configuration has six sections. Four choose an object by name and take that class's
dataclass fields as their keys: ``tasks`` (``source``: a task source), ``model``
(``name``), ``method`` (``name``: a meta-gradient method) and ``optimizer`` (``name``).
Two are fixed: ``meta`` (meta-training: batch, steps, divergence) and ``run`` (seed, dtype,
bookkeeping). A field whose value is itself a configurable object with options of its own
(the synthetic ``family`` of function tasks, the item ``features`` of rating tasks) is
named by its key and its options join the section (``tasks.family=alpine``,
``tasks.dim=3``). So a section has exactly the keys of the classes chosen, and a key that
does not apply is an error naming it and listing the keys that do.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, final

from .._fields import doc_of
from .._methods import AbstractMetaMethod, AdjointMAML
from .._registry import Registry
from ..models import MLP, AbstractModel
from ._codec import Text, default_of, describe, encode, field_types, kind_of, options, parse
from ._registries import KINDS, METHODS, MODELS, OPTIMIZERS, TASK_SOURCES
from ._sections import SGD, AbstractOptimizer, MetaTraining, RunSettings
from ._sources import AbstractTaskSource, FunctionTasks


class Section(NamedTuple):
    """One section: its name, the key that chooses its class (if any), and what it means."""

    name: str
    tag: str | None
    registry: Registry | None
    fixed: type | None
    doc: str


SECTIONS = (
    Section("tasks", "source", TASK_SOURCES, None, "where tasks come from: functions (a synthetic family) or ratings"),
    Section("model", "name", MODELS, None, "the task model"),
    Section("method", "name", METHODS, None, "the meta-gradient method"),
    Section("optimizer", "name", OPTIMIZERS, None, "the meta-optimiser"),
    Section("meta", None, None, MetaTraining, "meta-training: meta-batch, meta-updates, divergence"),
    Section("run", None, None, RunSettings, "seed, dtype and bookkeeping"),
)


def _flattened(value: Any) -> bool:
    """Whether a configurable field's object has options of its own (they join the section)."""
    return _has_options(type(value))


def _chooses_classes(registry: Registry) -> bool:
    """Whether a registry's names choose classes (whose options may join a section), not fixed objects."""
    return all(isinstance(entry, type) for entry in registry.values())


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


def _section_dict(obj: Any, section: Section) -> dict[str, Any]:
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


def _section_from(section: Section, given: Mapping[str, Any], base_obj: Any) -> Any:
    if not isinstance(given, Mapping):
        raise ValueError(f"config section `{section.name}` must be an object of keys, got {given!r}.")
    given = {k: _unwrap(v) for k, v in given.items()}
    base = _section_dict(base_obj, section)
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
        keys = _section_dict(obj, section)
        chosen = ", ".join(f"{section.name if k == 'name' else k} {v!r}" for k, v in keys.items()
                           if k == section.tag or k in _kind_keys(obj))
        raise ValueError(f"`{section.name}.{stray[0]}` does not apply" + (f" ({chosen})" if chosen else "")
                         + f"; the keys of `{section.name}` are: {', '.join(keys)}.")
    return obj


@final
@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that defines a meta-training run; saved as ``config.json`` in its directory.

    Defaults follow the paper's synthetic protocol (CosMixture in 2-D, 100 + 100 fixed
    functions, MLP 2 x 32 tanh, A-MAML with K = 100 steps of h = 0.01, SGD with meta-lr
    0.01, meta-batch 5, float64).

    Args:
        tasks: the task source (:class:`FunctionTasks` or :class:`RatingTasks`).
        model: the task model (:class:`amaml.models.MLP`).
        method: the meta-gradient method object (e.g. ``amaml.MAML(10, 0.01)``).
        optimizer: the meta-optimiser (:class:`SGD` or :class:`Adam`).
        meta: meta-training settings (:class:`MetaTraining`).
        run: seed, dtype and bookkeeping (:class:`RunSettings`).

    Raises:
        TypeError: when a section is not an object of its kind.

    Example:
        >>> config = RunConfig(method=amaml.MAML(10, 0.01), meta=MetaTraining(steps=200))
        >>> config.with_overrides(["method.steps=20", "model.hidden=64,64"]).model.hidden
        (64, 64)
    """

    tasks: AbstractTaskSource = FunctionTasks()
    model: AbstractModel = MLP()
    method: AbstractMetaMethod = AdjointMAML(100, 0.01)
    optimizer: AbstractOptimizer = SGD()
    meta: MetaTraining = MetaTraining()
    run: RunSettings = RunSettings()

    def __post_init__(self) -> None:
        kinds = {"tasks": AbstractTaskSource, "model": AbstractModel, "method": AbstractMetaMethod,
                 "optimizer": AbstractOptimizer, "meta": MetaTraining, "run": RunSettings}
        for name, kind in kinds.items():
            if not isinstance(getattr(self, name), kind):
                raise TypeError(f"`{name}` must be a {kind.__name__}, got {getattr(self, name)!r}.")

    def check(self) -> None:
        """Checks that need more than each section alone (sizes across sections, data files).

        Raises:
            ValueError: naming the keys involved.
        """
        self.tasks.check(self.meta.batch)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The configuration as JSON-ready nested dicts (``from_dict`` reads them back)."""
        return {s.name: _section_dict(getattr(self, s.name), s) for s in SECTIONS}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], base: RunConfig | None = None) -> RunConfig:
        """``base`` (default: the defaults) with the keys of ``values`` set.

        ``values`` maps section names to ``{key: value}``; values are JSON values or
        command-line :class:`~amaml.train._codec.Text`, parsed by each key's declared type.
        Choosing another class for a section keeps the keys of ``base`` that were set to
        other than their defaults, where they apply.

        Raises:
            ValueError, TypeError: for an unknown section or key, a key that does not apply,
                a value of the wrong type, or an invalid value; nothing else happens first.
        """
        if not isinstance(values, Mapping):
            raise ValueError(f"a configuration must be an object of sections, got {type(values).__name__}.")
        names = [s.name for s in SECTIONS]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ValueError(f"unknown config section {unknown[0]!r}; the sections are: {', '.join(names)}.")
        base = RunConfig() if base is None else base
        return cls(**{s.name: _section_from(s, values.get(s.name, {}), getattr(base, s.name)) for s in SECTIONS})

    def with_overrides(self, items: Sequence[str]) -> RunConfig:
        """This configuration with ``SECTION.KEY=VALUE`` items applied (text parsed by type)."""
        return RunConfig.from_dict(parse_overrides(items), base=self)

    def differences(self, other: RunConfig) -> list[str]:
        """``"section.key: mine -> other's"`` for every key whose value differs."""
        mine, theirs = self.to_dict(), other.to_dict()
        lines = []
        for section in mine:
            for key in dict.fromkeys([*mine[section], *theirs[section]]):
                a, b = mine[section].get(key, "(absent)"), theirs[section].get(key, "(absent)")
                if a != b:
                    lines.append(f"{section}.{key}: {json.dumps(a)} -> {json.dumps(b)}")
        return lines

    def describe(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every key with its value, type, default and meaning (JSON that ``from_dict`` accepts)."""
        out = {}
        for section in SECTIONS:
            obj = getattr(self, section.name)
            entries = {}
            if section.tag:
                entries[section.tag] = {"value": section.registry.name_of(obj),
                                        "type": f"one of: {', '.join(section.registry)}",
                                        "default": section.registry.name_of(getattr(RunConfig(), section.name)),
                                        "doc": section.doc}
            entries.update(_describe_fields(obj))
            out[section.name] = entries
        return out


def _describe_fields(obj: Any) -> dict[str, dict[str, Any]]:
    out = {}
    for f in options(type(obj)):
        value, tp = getattr(obj, f.name), field_types(type(obj))[f.name]
        default = default_of(f)
        registry = kind_of(tp, KINDS)
        out[f.name] = {"value": registry.name_of(value) if registry is not None else encode(value, KINDS),
                       "type": describe(tp, KINDS),
                       "default": "(required)" if default is dataclasses.MISSING else encode(default, KINDS),
                       "doc": doc_of(f)}
        if registry is not None and _chooses_classes(registry) and _flattened(value):
            out.update(_describe_fields(value))
    return out


def parse_overrides(items: Sequence[str]) -> dict[str, dict[str, Text]]:
    """``["method.steps=200", ...]`` as ``{"method": {"steps": Text("200")}}``.

    Raises:
        ValueError: for an item that is not ``SECTION.KEY=VALUE`` or names no section.
    """
    names = [s.name for s in SECTIONS]
    values: dict[str, dict[str, Text]] = {}
    for item in items:
        key, eq, text = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not eq or not dot or not name:
            raise ValueError(f"`--set` expects SECTION.KEY=VALUE (e.g. method.steps=200), got {item!r}; "
                             f"the sections are: {', '.join(names)}.")
        if section not in names:
            raise ValueError(f"unknown config section {section!r} in {item!r}; the sections are: {', '.join(names)}.")
        values.setdefault(section, {})[name] = Text(text.strip())
    return values
