"""Registries: the one place where a name chooses a class, at the configuration boundary.

Library code passes objects (``amaml.AdjointMAML(100, 0.01)``, ``amaml.RK4()``); strings
appear only where a person types them, in a configuration file or on the command line.
Each kind of object (methods, solvers, task sources, models, optimisers, ...) has one
:class:`Registry`, so each name is written once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """An immutable mapping from names to the classes (or fixed objects) of one kind.

    Args:
        kind: what the names choose, for error messages (``"method"``).
        entries: ``name -> class`` (instantiated with its options) or ``name -> object``
            (a fixed choice with no options, such as a dataset's source).

    Example:
        >>> solvers = Registry("solver", {"euler": int})
        >>> solvers.lookup("euler")
        <class 'int'>
    """

    def __init__(self, kind: str, entries: Mapping[str, T]):
        self.kind = kind
        self._entries = dict(entries)

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, name: Any) -> T:
        """``self[name]``, or a ``ValueError`` that names the kind and lists the valid names."""
        if isinstance(name, str) and name in self._entries:
            return self._entries[name]
        raise ValueError(f"unknown {self.kind} {name!r}; valid names are: {', '.join(self._entries)}.")

    def name_of(self, value: Any) -> str:
        """The name under which ``value`` (an instance of a registered class, or a registered object) is known."""
        for name, entry in self._entries.items():
            if (
                entry is value
                or (isinstance(entry, type) and type(value) is entry)
                or (not isinstance(entry, type) and entry == value)
            ):
                return name
        raise ValueError(f"{value!r} is not a registered {self.kind}; registered: {', '.join(self._entries)}.")
