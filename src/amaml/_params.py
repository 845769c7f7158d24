"""Flattening a parameter pytree into one vector, without silent casts."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PyTree

from ._flow import FlatLoss

EQUINOX_HINT = (
    "For an equinox Module, split off the arrays: `params, static = eqx.partition(model, eqx.is_array)`, "
    "pass `params`, and rebuild the model inside apply_fn with `eqx.combine(params, static)` "
    "(closing over `static`)."
)


def check_array_leaves(params: PyTree, name: str = "params") -> None:
    """Every leaf of ``params`` must be an array (or a Python float): no functions, strings, ints.

    Raises:
        TypeError: naming the first offending leaf's path and type, with the equinox hint.
    """
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        is_array = hasattr(leaf, "dtype") and hasattr(leaf, "shape")
        if not (is_array or (isinstance(leaf, float) and not isinstance(leaf, bool))):
            where = name + jax.tree_util.keystr(path)
            raise TypeError(
                f"`{name}` must be a pytree of floating arrays, but the leaf at {where} is a "
                f"{type(leaf).__name__} ({leaf!r:.60}), not an array. {EQUINOX_HINT}"
            )


def flatten(params: PyTree, name: str = "params") -> tuple[Float[Array, " P"], Callable[[Array], PyTree]]:
    """Ravel ``params`` into a flat vector; every leaf must be an array of one floating dtype.

    Raises:
        ValueError: if ``params`` has no leaves.
        TypeError: for a non-array leaf (a function, string, int...: see :func:`check_array_leaves`)
            or for leaves of mixed or non-floating dtypes.
    """
    leaves = jax.tree_util.tree_leaves(params)
    check_array_leaves(params, name)
    if not leaves:
        raise ValueError(f"`{name}` must contain at least one array.")
    dtypes = {jnp.result_type(leaf) for leaf in leaves}
    if len(dtypes) != 1 or not jnp.issubdtype(next(iter(dtypes)), jnp.floating):
        raise TypeError(
            f"`{name}` must be a pytree of floating arrays that all share one dtype, got dtypes "
            f"{sorted(str(d) for d in dtypes)}."
        )
    return ravel_pytree(params)


def flat_loss(loss_fn: Callable, unravel: Callable[[Array], PyTree]) -> FlatLoss:
    """``loss_fn(params, x, y)`` as a function of the flat vector."""

    def loss(u, x, y):
        return loss_fn(unravel(u), x, y)

    return loss
