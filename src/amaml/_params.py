"""Flattening a parameter pytree into one vector, without silent casts."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
from jaxtyping import Array, Float, PyTree

from ._flow import FlatLoss


def flatten(params: PyTree) -> tuple[Float[Array, " P"], Callable[[Array], PyTree]]:
    """Ravel ``params`` into a flat vector; every leaf must share one floating dtype."""
    leaves = jax.tree_util.tree_leaves(params)
    if not leaves:
        raise ValueError("`params` must contain at least one array.")
    dtypes = {jnp.result_type(leaf) for leaf in leaves}
    if len(dtypes) != 1 or not jnp.issubdtype(next(iter(dtypes)), jnp.floating):
        raise TypeError(
            "`params` must be a pytree of floating arrays that all share one dtype, got dtypes "
            f"{sorted(str(d) for d in dtypes)}."
        )
    return ravel_pytree(params)


def flat_loss(loss_fn: Callable, unravel: Callable[[Array], PyTree]) -> FlatLoss:
    """``loss_fn(params, x, y)`` as a function of the flat vector."""

    def loss(u, x, y):
        return loss_fn(unravel(u), x, y)

    return loss
