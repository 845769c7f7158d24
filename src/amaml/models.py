"""Models as ``(init, apply)``: the paper's task model, and the model concept of a run.

:mod:`amaml` takes any model as ``apply(params, x)`` with a parameter pytree (equinox and
flax models plug in the same way); the MLP here is the paper's. :class:`AbstractModel` is
what a run configuration (:mod:`amaml.train`) chooses: an object with ``init`` and ``apply``.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, final

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from . import _validate
from ._fields import option

Params = list[dict[str, Array]]

__all__ = ["AbstractModel", "MLP", "mlp_init", "mlp_apply", "mlp_features"]


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
    return _linear(params[-1], mlp_features(params[:-1], x, activation))


def mlp_features(
    body: Params, x: Float[Array, "n d_in"], activation: Callable[[Array], Array] = jnp.tanh
) -> Float[Array, "n d_hidden"]:
    """The hidden layers of an MLP (``params[:-1]``): its features, the input of the last layer."""
    for layer in body:
        x = activation(x @ layer["w"] + layer["b"][None, :])
    return x


def _linear(layer: dict[str, Array], x: Array) -> Array:
    return x @ layer["w"] + layer["b"][None, :]


class AbstractModel(abc.ABC):
    """A model family for a run: parameters from :meth:`init`, predictions from :meth:`apply`.

    ``apply`` is what :func:`amaml.losses.mse` and :func:`amaml.losses.cross_entropy` wrap;
    ``init`` gives the meta-learner's starting parameters. Final subclasses are frozen
    dataclasses whose fields are the model's options.

    For head-only adaptation (ANIL, COMLN) a model splits into a body, a feature map shared
    across tasks, and a head adapted per task: ``apply(params, x) ==
    head_apply(head, features(body, x))`` with ``body, head = split(params)``.
    """

    @abc.abstractmethod
    def init(self, key: PRNGKeyArray, input_dim: int, output_dim: int, dtype) -> Any:
        """Initial parameters (a pytree of ``dtype`` arrays) for inputs of width ``input_dim``."""

    @abc.abstractmethod
    def apply(self, params: Any, x: Array) -> Array:
        """Predictions for the examples ``x`` (leading axis: examples)."""

    @abc.abstractmethod
    def split(self, params: Any) -> tuple[Any, Any]:
        """``(body, head)``: the shared feature map's parameters and the head's."""

    @abc.abstractmethod
    def join(self, body: Any, head: Any) -> Any:
        """The inverse of :meth:`split`."""

    @abc.abstractmethod
    def features(self, body: Any, x: Array) -> Array:
        """The body's features of the examples ``x``."""

    @abc.abstractmethod
    def head_apply(self, head: Any, features: Array) -> Array:
        """The head's predictions from the features."""


@final
@dataclasses.dataclass(frozen=True)
class MLP(AbstractModel):
    """A tanh multilayer perceptron ``input -> hidden... -> output`` (:func:`mlp_init`, :func:`mlp_apply`).

    Args:
        hidden: the hidden layer widths (default ``(32, 32)``, the paper's 2 x 32; ``()`` is
            a linear model).

    Example:
        >>> model = MLP(hidden=(8,))
        >>> params = model.init(jax.random.key(0), 2, 1, jnp.float32)
        >>> model.apply(params, jnp.zeros((3, 2), jnp.float32)).shape
        (3, 1)
    """

    hidden: tuple[int, ...] = option((32, 32), doc="hidden layer widths, e.g. 32,32 (tanh after each)", kw_only=False)

    def __post_init__(self) -> None:
        if not isinstance(self.hidden, tuple):
            raise TypeError(f"`hidden` must be a tuple of positive integers, got {self.hidden!r}.")
        for size in self.hidden:
            _validate.positive_int("hidden", size)

    def init(self, key, input_dim, output_dim, dtype):
        return mlp_init(key, [input_dim, *self.hidden, output_dim], dtype)

    def apply(self, params, x):
        return mlp_apply(params, x)

    def split(self, params):
        """Body: the hidden layers (an empty list for a linear model); head: the last layer."""
        return params[:-1], params[-1]

    def join(self, body, head):
        return [*body, head]

    def features(self, body, x):
        return mlp_features(body, x)

    def head_apply(self, head, features):
        return _linear(head, features)
