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
from typing import Any, final

from .._methods import AbstractMetaMethod, AdjointMAML
from ..models import MLP, AbstractModel
from ._codec import Text
from ._registries import METHODS, MODELS, OPTIMIZERS, TASK_SOURCES
from ._section import Section, describe_fields, section_dict, section_from
from ._sections import SGD, AbstractOptimizer, MetaTraining, RunSettings
from ._sources import AbstractTaskSource, FunctionTasks

SECTIONS = (
    Section("tasks", "source", TASK_SOURCES, None, "where tasks come from: functions (synthetic), ratings or omniglot"),
    Section("model", "name", MODELS, None, "the task model"),
    Section("method", "name", METHODS, None, "the meta-gradient method"),
    Section("optimizer", "name", OPTIMIZERS, None, "the meta-optimiser"),
    Section("meta", None, None, MetaTraining, "meta-training: meta-batch, meta-updates, divergence"),
    Section("run", None, None, RunSettings, "seed, dtype and bookkeeping"),
)


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
        kinds = {
            "tasks": AbstractTaskSource,
            "model": AbstractModel,
            "method": AbstractMetaMethod,
            "optimizer": AbstractOptimizer,
            "meta": MetaTraining,
            "run": RunSettings,
        }
        for name, kind in kinds.items():
            if not isinstance(getattr(self, name), kind):
                raise TypeError(f"`{name}` must be a {kind.__name__}, got {getattr(self, name)!r}.")

    def check(self) -> None:
        """Checks that need more than each section alone (sizes across sections, data files).

        The task source's own check (:meth:`AbstractTaskSource.check`, with ``meta.batch``), then that
        the method learns every field ``meta`` asks for (``method.learnable``).

        Raises:
            ValueError: naming the keys involved.
        """
        self.tasks.check(self.meta.batch)
        missing = sorted(self.meta.learned_fields - self.method.learnable)
        if missing:
            keys = {
                "shared": "meta.adapt=head",
                "rates": f"meta.rates={self.meta.rates}",
                "horizon": "meta.horizon=learned",
            }
            raise ValueError(
                f"{', '.join(keys[m] for m in missing)} needs a method that learns it; {type(self.method).__name__} "
                f"learns only {', '.join(sorted(self.method.learnable)) or 'the initialisation'} "
                f"(use method.name=amaml, discrete-adjoint, maml or fomaml)."
            )

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The configuration as JSON-ready nested dicts (``from_dict`` reads them back).

        Returns:
            ``{section: {key: value}}`` for the six sections, each chosen class named by its tag key.
        """
        return {s.name: section_dict(getattr(self, s.name), s) for s in SECTIONS}

    def to_json(self) -> str:
        """The configuration as the JSON text of ``config.json``.

        Returns:
            ``json.dumps(to_dict(), indent=1)``.
        """
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], base: RunConfig | None = None) -> RunConfig:
        """``base`` (default: the defaults) with the keys of ``values`` set.

        ``values`` maps section names to ``{key: value}``; values are JSON values or
        command-line :class:`~amaml.train._codec.Text`, parsed by each key's declared type.
        Choosing another class for a section keeps the keys of ``base`` that were set to
        other than their defaults, where they apply.

        Args:
            values: ``{section: {key: value}}`` (a section or key left out keeps ``base``'s).
            base: the configuration the values are applied to; ``None``: ``RunConfig()``.

        Returns:
            The new configuration (``base`` itself is unchanged).

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
        return cls(**{s.name: section_from(s, values.get(s.name, {}), getattr(base, s.name)) for s in SECTIONS})

    def with_overrides(self, items: Sequence[str]) -> RunConfig:
        """This configuration with ``SECTION.KEY=VALUE`` items applied (text parsed by type).

        Args:
            items: the overrides, e.g. ``["method.steps=200", "model.hidden=64,64"]``, applied in order.

        Returns:
            A new configuration; ``self`` is unchanged.

        Raises:
            ValueError, TypeError: for an item that is not ``SECTION.KEY=VALUE``, or as for :meth:`from_dict`.
        """
        return RunConfig.from_dict(parse_overrides(items), base=self)

    def differences(self, other: RunConfig) -> list[str]:
        """``"section.key: mine -> other's"`` for every key whose value differs.

        Args:
            other: the configuration to compare with.

        Returns:
            One line per differing key, in section order, values as JSON (``"(absent)"`` for a key of
            one side only); empty when the two agree.
        """
        mine, theirs = self.to_dict(), other.to_dict()
        lines = []
        for section in mine:
            for key in dict.fromkeys([*mine[section], *theirs[section]]):
                a, b = mine[section].get(key, "(absent)"), theirs[section].get(key, "(absent)")
                if a != b:
                    lines.append(f"{section}.{key}: {json.dumps(a)} -> {json.dumps(b)}")
        return lines

    def describe(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every key with its value, type, default and meaning (JSON that ``from_dict`` accepts).

        Returns:
            ``{section: {key: {"value", "type", "default", "doc"}}}``; a section's tag key (``source``,
            ``name``) lists the registered choices as its type.
        """
        out = {}
        for section in SECTIONS:
            obj = getattr(self, section.name)
            entries = {}
            if section.tag:
                entries[section.tag] = {
                    "value": section.registry.name_of(obj),
                    "type": f"one of: {', '.join(section.registry)}",
                    "default": section.registry.name_of(getattr(RunConfig(), section.name)),
                    "doc": section.doc,
                }
            entries.update(describe_fields(obj))
            out[section.name] = entries
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
            raise ValueError(
                f"`--set` expects SECTION.KEY=VALUE (e.g. method.steps=200), got {item!r}; "
                f"the sections are: {', '.join(names)}."
            )
        if section not in names:
            raise ValueError(f"unknown config section {section!r} in {item!r}; the sections are: {', '.join(names)}.")
        values.setdefault(section, {})[name] = Text(text.strip())
    return values
