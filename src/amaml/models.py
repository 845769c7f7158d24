"""Models as ``(init, apply)``: the paper's task model, the few-shot Conv4, and the model concept of a run.

:mod:`amaml` takes any model as ``apply(params, x)`` with a parameter pytree (equinox and flax models plug in the
same way); the MLP here is the paper's, :class:`Conv4` the standard few-shot image classifier (MAML on Omniglot and
miniImageNet). :class:`AbstractModel` is what a run configuration (:mod:`amaml.train`) chooses: ``init`` and ``apply``.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, final

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from . import _conv4, _validate
from ._fields import option

Params = list[dict[str, Array]]

__all__ = ["AbstractModel", "MLP", "Conv4", "mlp_init", "mlp_apply", "mlp_features"]


def mlp_init(key: PRNGKeyArray, sizes: Sequence[int], dtype=jnp.float32) -> Params:
    r"""Initialise an MLP with layer sizes ``sizes = (in, hidden..., out)``.

    Weights :math:`W \sim \mathcal N(0, 1/\mathrm{fan\_in})` (LeCun normal), biases zero.

    Args:
        key: the PRNG key of the weights.
        sizes: the layer widths, input first and output last (at least two positive integers).
        dtype: the floating dtype of every leaf (default float32).

    Returns:
        A list of ``{"w": (fan_in, fan_out), "b": (fan_out,)}`` dicts, one per layer.

    Raises:
        ValueError: for fewer than two sizes or a size below 1.
        TypeError: for a size that is not an integer.

    Example:
        >>> params = mlp_init(jax.random.key(0), [2, 8, 1])
        >>> [(layer["w"].shape, layer["b"].shape) for layer in params]
        [((2, 8), (8,)), ((8, 1), (1,))]
        >>> params[0]["w"].dtype
        dtype('float32')
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
    """Apply the MLP: ``activation`` after every layer except the last.

    Args:
        params: the layers, as made by :func:`mlp_init`.
        x: the inputs, shape ``(n, d_in)``, of the parameters' dtype.
        activation: the elementwise nonlinearity (default ``jnp.tanh``).

    Returns:
        The predictions, shape ``(n, d_out)``.

    Example:
        >>> params = mlp_init(jax.random.key(0), [2, 8, 1])
        >>> mlp_apply(params, jnp.zeros((5, 2), jnp.float32)).shape
        (5, 1)
    """
    return _linear(params[-1], mlp_features(params[:-1], x, activation))


def mlp_features(
    body: Params, x: Float[Array, "n d_in"], activation: Callable[[Array], Array] = jnp.tanh
) -> Float[Array, "n d_hidden"]:
    """The hidden layers of an MLP (``params[:-1]``): its features, the input of the last layer.

    ``mlp_apply(params, x)`` is the last layer applied to ``mlp_features(params[:-1], x)``;
    this is the body of head-only adaptation (ANIL) with :class:`amaml.FeatureLoss`.

    Args:
        body: the hidden layers, ``params[:-1]`` of :func:`mlp_init` (an empty list: ``x`` itself).
        x: the inputs, shape ``(n, d_in)``, of the parameters' dtype.
        activation: the elementwise nonlinearity (default ``jnp.tanh``).

    Returns:
        The features, shape ``(n, d_hidden)`` (the width of the last hidden layer).

    Example:
        >>> params = mlp_init(jax.random.key(0), [2, 8, 1])
        >>> mlp_features(params[:-1], jnp.zeros((5, 2), jnp.float32)).shape
        (5, 8)
    """
    for layer in body:
        x = activation(x @ layer["w"] + layer["b"][None, :])
    return x


def _linear(layer: dict[str, Array], x: Array) -> Array:
    return x @ layer["w"] + layer["b"][None, :]


class AbstractModel(abc.ABC):
    """A model family for a run: parameters from :meth:`init`, predictions from :meth:`apply`.

    ``apply`` is what :func:`amaml.losses.mse` and :func:`amaml.losses.cross_entropy` wrap; ``init`` gives the
    meta-learner's starting parameters. Final subclasses are frozen dataclasses whose fields are the model's options.
    For head-only adaptation (ANIL, COMLN) a model splits into a body, a feature map shared across tasks, and a head
    adapted per task: ``apply(params, x) == head_apply(head, features(body, x))`` with ``body, head = split(params)``.

    Example:
        >>> model = MLP(hidden=(8,))
        >>> isinstance(model, AbstractModel)
        True
        >>> params, x = model.init(jax.random.key(0), 2, 1, jnp.float32), jnp.ones((3, 2), jnp.float32)
        >>> body, head = model.split(params)
        >>> bool(jnp.allclose(model.head_apply(head, model.features(body, x)), model.apply(params, x)))
        True
    """

    @abc.abstractmethod
    def init(self, key: PRNGKeyArray, input_dim: int, output_dim: int, dtype) -> Any:
        """Initial parameters (a pytree of ``dtype`` arrays) for inputs of width ``input_dim``.

        Args:
            key, dtype: the PRNG key of the initialisation, and the floating dtype of every leaf.
            input_dim, output_dim: the width of an input (its channels, for images) and of a prediction.

        Returns:
            The parameters, the pytree :meth:`apply` takes."""

    @abc.abstractmethod
    def apply(self, params: Any, x: Array) -> Array:
        """Predictions for the examples ``x`` (leading axis: examples).

        Args:
            params, x: the parameters (as from :meth:`init`) and the examples, ``(n, ...)``.

        Returns:
            The predictions, ``(n, output_dim)``."""

    @abc.abstractmethod
    def split(self, params: Any) -> tuple[Any, Any]:
        """``(body, head)``: the shared feature map's parameters and the head's.

        Args:
            params: the parameters, as from :meth:`init`.

        Returns:
            ``(body, head)``, two pytrees; :meth:`join` puts them back together."""

    @abc.abstractmethod
    def join(self, body: Any, head: Any) -> Any:
        """The inverse of :meth:`split`.

        Args:
            body, head: the two parts, as from :meth:`split`.

        Returns:
            The parameters ``params`` whose ``split(params)`` is ``(body, head)``."""

    @abc.abstractmethod
    def features(self, body: Any, x: Array) -> Array:
        """The body's features of the examples ``x``.

        Args:
            body, x: the body's parameters (as from :meth:`split`) and the examples, ``(n, ...)``.

        Returns:
            The features, ``(n, width)``, what :meth:`head_apply` takes."""

    @abc.abstractmethod
    def head_apply(self, head: Any, features: Array) -> Array:
        """The head's predictions from the features.

        Args:
            head, features: the head's parameters (as from :meth:`split`) and the features ``(n, width)``.

        Returns:
            The predictions, ``(n, output_dim)``."""


@final
@dataclasses.dataclass(frozen=True)
class MLP(AbstractModel):
    """A tanh multilayer perceptron ``input -> hidden... -> output`` (:func:`mlp_init`, :func:`mlp_apply`).

    Args:
        hidden: the hidden layer widths, the body of :meth:`split` (the head: the last layer), default ``(32, 32)``,
            the paper's 2 x 32; ``()`` is a linear model, with an empty list for its body.

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
        return params[:-1], params[-1]

    def join(self, body, head):
        return [*body, head]

    def features(self, body, x):
        return mlp_features(body, x)

    def head_apply(self, head, features):
        return _linear(head, features)


@final
@dataclasses.dataclass(frozen=True)
class Conv4(AbstractModel):
    r"""The standard few-shot convolutional network (Vinyals et al. 2016; MAML's Omniglot model).

    ``blocks`` blocks of [3 x 3 convolution with ``filters`` filters, stride 2, padding SAME -> batch normalisation
    -> ReLU] and the mean over the last spatial map are the body (:meth:`features`: ``(n, filters)``), a linear layer
    to ``output_dim`` logits the head. Inputs are images ``(n, H, W, C)`` (NHWC); each block maps ``H`` to
    ``ceil(H / 2)`` (Omniglot: 28 -> 14 -> 7 -> 4 -> 2). Parameters (:meth:`init`, ``input_dim = C``) are ``{"blocks":
    [{"w": (3, 3, C_in, filters), "b": (filters,), "scale": (filters,), "offset": (filters,)}, ...], "head": {"w":
    (filters, output_dim), "b": (output_dim,)}}`` (:meth:`split`: body, head), ``9 C f + 3 f + (blocks - 1)(9 f^2 +
    3 f) + f o + o`` of them (``f = filters``, ``o = output_dim``; 112,261 for Omniglot 5-way, ``C = 1``, the
    defaults): convolutions He normal, :math:`\mathcal N(0, 2 / (9 C_{in}))` (the 3 x 3 x ``C_in`` fan-in, for the
    ReLU), the head LeCun normal, :math:`\mathcal N(0, 1/\mathrm{filters})`, biases and offsets 0, scales 1.

    **Batch normalisation is transductive**, as in MAML: every call normalises with its own batch's statistics, per
    channel, :math:`\hat z = \gamma (z - \mu) / \sqrt{\sigma^2 + 10^{-5}} + \beta` with the mean :math:`\mu` and the
    biased variance :math:`\sigma^2` over ``(n, H, W)``, a learned scale :math:`\gamma` (``"scale"``, initially 1)
    and offset :math:`\beta` (``"offset"``, initially 0). There are no running averages: the inner loop normalises
    with the support set's statistics and the meta-loss with the query set's, so **a prediction depends on the whole
    batch it is computed with**, not on its example alone (evaluate a query set in one call, and compare methods on
    equal batches). The convolution's bias ``"b"`` cancels (zero gradient up to rounding); kept for the usual layout.

    Convolutions are image patches times a matrix (equal to ``lax.conv_general_dilated`` to rounding): on CPU, XLA
    runs a convolution's weight gradient inside ``lax.scan`` tens of times slower than outside; patches avoid that.

    Args:
        filters: filters per convolution (default 64; the features have this width).
        blocks: number of convolution blocks (default 4).

    Example:
        >>> model = Conv4(filters=8, blocks=1)
        >>> params = model.init(jax.random.key(0), 1, 5, jnp.float32)  # 1 input channel, 5 classes
        >>> model.apply(params, jnp.zeros((3, 8, 8, 1), jnp.float32)).shape  # 3 images of 8 x 8
        (3, 5)
    """

    filters: int = option(64, doc="filters per 3x3 convolution (the width of the pooled features)")
    blocks: int = option(4, doc="number of [conv stride 2 -> batch norm -> ReLU] blocks")

    def __post_init__(self) -> None:
        _validate.positive_int("filters", self.filters)
        _validate.positive_int("blocks", self.blocks)

    def init(self, key, input_dim, output_dim, dtype):
        return _conv4.init(key, input_dim, output_dim, self.filters, self.blocks, dtype)

    def apply(self, params, x):
        body, head = self.split(params)
        return self.head_apply(head, self.features(body, x))

    def split(self, params):
        return params["blocks"], params["head"]

    def join(self, body, head):
        return {"blocks": body, "head": head}

    def features(self, body, x):
        return _conv4.features(body, x)

    def head_apply(self, head, features):
        return _linear(head, features)
