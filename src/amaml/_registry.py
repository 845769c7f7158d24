"""Names for the command line: the only place strings choose behaviour."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from ._methods import FOMAML, IMAML, MAML, AdjointMAML, DiscreteAdjoint, Reptile
from ._solvers import RK4, Euler, Heun

T = TypeVar("T")

METHODS: Mapping[str, type] = {
    "amaml": AdjointMAML,
    "discrete-adjoint": DiscreteAdjoint,
    "maml": MAML,
    "fomaml": FOMAML,
    "imaml": IMAML,
    "reptile": Reptile,
}
SOLVERS: Mapping[str, type] = {"euler": Euler, "heun": Heun, "rk4": RK4}


def lookup(kind: str, name: str, registry: Mapping[str, T]) -> T:
    """``registry[name]``, or a ``ValueError`` that lists the valid names."""
    try:
        return registry[name]
    except KeyError:
        valid = ", ".join(sorted(registry))
        raise ValueError(f"unknown {kind} {name!r}; valid names are: {valid}.") from None
