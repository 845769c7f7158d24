"""A plain multilayer perceptron as ``(init, apply)``: the paper's task model.

:mod:`amaml` takes any model as ``apply(params, x)`` with a parameter pytree (equinox and
flax models plug in the same way); this one is here because the paper's experiments use it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from . import _validate

Params = list[dict[str, Array]]

__all__ = ["mlp_init", "mlp_apply"]


def mlp_init(key: PRNGKeyArray, sizes: Sequence[int], dtype=jnp.float32) -> Params:
    r"""Initialise an MLP with layer sizes ``sizes = (in, hidden..., out)``.

    Weights :math:`W \sim \mathcal N(0, 1/\mathrm{fan\_in})` (LeCun normal), biases zero.
    Returns a list of ``{"w": (fan_in, fan_out), "b": (fan_out,)}`` dicts.
    """
    if len(sizes) < 2:
        raise ValueError(f"`sizes` must list at least an input and an output size, got {tuple(sizes)}.")
    for size in sizes:
        _validate.positive_int("sizes", size)
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        {
            "w": jax.random.normal(k, (fan_in, fan_out), dtype) / jnp.sqrt(jnp.asarray(fan_in, dtype)),
            "b": jnp.zeros((fan_out,), dtype),
        }
        for k, fan_in, fan_out in zip(keys, sizes[:-1], sizes[1:])
    ]


def mlp_apply(
    params: Params, x: Float[Array, "n d_in"], activation: Callable[[Array], Array] = jnp.tanh
) -> Float[Array, "n d_out"]:
    """Apply the MLP: ``activation`` after every layer except the last."""
    for layer in params[:-1]:
        x = activation(x @ layer["w"] + layer["b"][None, :])
    return x @ params[-1]["w"] + params[-1]["b"][None, :]
