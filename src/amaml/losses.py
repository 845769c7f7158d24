"""Loss constructors: turn a model ``apply_fn(params, x)`` into ``loss_fn(params, x, y)``.

Any function ``loss_fn(params, x, y) -> scalar`` works with :mod:`amaml`; these two are
the common cases. Both average over the example axis (the leading axis of ``x``), as does
:func:`accuracy`, a metric for classifiers (not differentiable).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PyTree, Shaped

ApplyFn = Callable[[PyTree, Shaped[Array, "n ..."]], Array]
LossFn = Callable[[PyTree, Shaped[Array, "n ..."], Array], Float[Array, ""]]

__all__ = ["mse", "cross_entropy", "accuracy"]


def mse(apply_fn: ApplyFn) -> LossFn:
    r"""Half mean squared error: :math:`L = \frac{1}{2n} \sum_{i} \lVert f(x_i) - y_i \rVert^2`.

    The ``1/2`` makes the gradient the plain residual and the Hessian of a linear model
    :math:`X^\top X / n`. Predictions and targets must have the same shape ``(n, ...)``;
    the sum runs over every non-example axis.

    Args:
        apply_fn: the model, ``apply_fn(params, x) -> predictions`` of shape ``(n, ...)``.

    Returns:
        ``loss_fn(params, x, y) -> scalar``, with floating targets ``y`` shaped like the predictions.

    Raises:
        ValueError: (raised by the returned ``loss_fn``) when the predictions' shape is not ``y``'s.
        TypeError: (raised by the returned ``loss_fn``) when ``y`` is not floating point.

    Example:
        >>> import jax.numpy as jnp, amaml
        >>> loss_fn = amaml.losses.mse(lambda params, x: x @ params)
        >>> float(loss_fn(jnp.ones((2, 1)), jnp.ones((3, 2)), jnp.zeros((3, 1))))  # (1/2) * 2 ** 2
        2.0
    """

    def loss_fn(params: PyTree, x: Shaped[Array, "n ..."], y: Float[Array, "n ..."]) -> Float[Array, ""]:
        prediction = apply_fn(params, x)
        if prediction.shape != y.shape:
            raise ValueError(
                f"mse: the model's predictions have shape {prediction.shape} but the targets "
                f"`y` have shape {y.shape}; they must match."
            )
        if not jnp.issubdtype(y.dtype, jnp.floating):
            raise TypeError(f"mse: the targets `y` must be floating point, got {y.dtype}.")
        return 0.5 * jnp.sum((prediction - y) ** 2) / y.shape[0]

    return loss_fn


def cross_entropy(apply_fn: ApplyFn) -> LossFn:
    r"""Mean softmax cross-entropy with integer labels.

    :math:`L = -\frac1n \sum_i \log \operatorname{softmax}(f(x_i))_{y_i}`, where
    ``apply_fn(params, x)`` returns logits of shape ``(n, classes)`` and ``y`` holds integer
    labels of shape ``(n,)``.

    Args:
        apply_fn: the model, ``apply_fn(params, x) -> logits`` of shape ``(n, classes)``.

    Returns:
        ``loss_fn(params, x, y) -> scalar``, with integer labels ``y`` of shape ``(n,)``.

    Raises:
        TypeError: (raised by the returned ``loss_fn``) when the labels are not integers.
        ValueError: (raised by the returned ``loss_fn``) when the logits are not ``(n, classes)``
            or the labels not ``(n,)``.

    Example:
        >>> import jax.numpy as jnp, amaml
        >>> loss_fn = amaml.losses.cross_entropy(lambda params, x: x)  # the inputs are the logits
        >>> round(float(loss_fn(None, jnp.zeros((3, 2)), jnp.array([0, 1, 0]))), 3)  # ln 2
        0.693
    """

    def loss_fn(params: PyTree, x: Shaped[Array, "n ..."], y: Int[Array, " n"]) -> Float[Array, ""]:
        logits = apply_fn(params, x)
        _check_labels("cross_entropy", logits, y)
        log_probs = jax.nn.log_softmax(logits, axis=-1)
        return -jnp.mean(jnp.take_along_axis(log_probs, y[:, None], axis=-1))

    return loss_fn


def accuracy(apply_fn: ApplyFn) -> Callable[[PyTree, Shaped[Array, "n ..."], Int[Array, " n"]], Float[Array, ""]]:
    r"""Classification accuracy with integer labels: the fraction of examples whose largest logit is the label.

    :math:`\mathrm{acc} = \frac1n \sum_i [\operatorname{argmax}_c f(x_i)_c = y_i]`, where
    ``apply_fn(params, x)`` returns logits of shape ``(n, classes)`` and ``y`` holds integer
    labels of shape ``(n,)``. Ties go to the lowest class index (``jnp.argmax``). The result
    is a scalar of the logits' dtype; it is piecewise constant, so not a loss to differentiate.

    Args:
        apply_fn: the model, ``apply_fn(params, x) -> logits`` of shape ``(n, classes)``.

    Returns:
        ``accuracy_fn(params, x, y) -> scalar`` in ``[0, 1]``, with integer labels ``y`` of shape ``(n,)``.

    Raises:
        TypeError: (raised by the returned ``accuracy_fn``) when the labels are not integers or
            the logits not floating point.
        ValueError: (raised by the returned ``accuracy_fn``) when the logits are not
            ``(n, classes)`` or the labels not ``(n,)``.

    Example:
        >>> acc = accuracy(lambda params, x: x)  # the inputs are the logits
        >>> float(acc(None, jnp.array([[2.0, 1.0], [0.0, 3.0]]), jnp.array([0, 0])))
        0.5
    """

    def accuracy_fn(params: PyTree, x: Shaped[Array, "n ..."], y: Int[Array, " n"]) -> Float[Array, ""]:
        logits = apply_fn(params, x)
        _check_labels("accuracy", logits, y)
        if not jnp.issubdtype(logits.dtype, jnp.floating):
            raise TypeError(f"accuracy: the model's logits must be floating point, got {logits.dtype}.")
        hits = jnp.argmax(logits, axis=-1).astype(y.dtype) == y
        return jnp.mean(hits.astype(logits.dtype))

    return accuracy_fn


def _check_labels(name: str, logits: Array, y: Array) -> None:
    """Integer labels ``(n,)`` for logits ``(n, classes)``: one clear error otherwise."""
    if not jnp.issubdtype(y.dtype, jnp.integer):
        raise TypeError(f"{name}: the labels `y` must be integers, got {y.dtype}.")
    if logits.ndim != 2 or logits.shape[0] != y.shape[0] or y.ndim != 1:
        raise ValueError(
            f"{name}: expected logits of shape (n, classes) and labels of shape (n,), got {logits.shape} and {y.shape}."
        )
