"""The pure meta-training step: parameters and optimiser state in, new ones out."""

from __future__ import annotations

from collections.abc import Callable

import optax
from jaxtyping import Array, Float, PyTree

from ._api import meta_value_and_grad
from ._methods import AbstractMetaMethod
from ._task import Task


def meta_train_step(
    method: AbstractMetaMethod,
    loss_fn: Callable[[PyTree, Array, Array], Float[Array, ""]],
    optimizer: optax.GradientTransformation,
    params: PyTree,
    opt_state: optax.OptState,
    tasks: Task,
) -> tuple[PyTree, optax.OptState, Float[Array, ""]]:
    """One meta-update: ``theta <- theta + optimizer(meta-gradient)``.

    Pure and jittable; it never branches on the method's type. With ``optax.sgd(lr)`` this
    is :math:`\\theta \\leftarrow \\theta - \\mathrm{lr}\\, g` with ``g`` from
    :func:`meta_value_and_grad`.

    Returns:
        ``(new_params, new_opt_state, meta_loss)``; ``meta_loss`` is at the old params.
    """
    meta_loss, grad = meta_value_and_grad(method, loss_fn, params, tasks)
    updates, opt_state = optimizer.update(grad, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, meta_loss
