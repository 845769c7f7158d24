"""The pure meta-training step: parameters and optimiser state in, new ones out."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Bool, Float, PyTree

from .._api import per_task_value_and_grad
from .._divergence import MAX_META_LOSS, task_diverged
from .._meta import MetaParams, keep_positive
from .._methods import AbstractMetaMethod
from .._task import Task


class MetaStep(NamedTuple):
    """The result of :func:`meta_train_step`.

    Attributes:
        params, opt_state: after the update (unchanged if the update was withheld).
        meta_loss: mean meta-loss at the old params over the tasks that entered the mean.
        diverged: per task, whether its meta-loss or meta-gradient was non-finite or its
            meta-loss exceeded ``max_meta_loss``, ``(B,)``.

    Example:
        >>> import amaml
        >>> amaml.MetaStep._fields
        ('params', 'opt_state', 'meta_loss', 'diverged')

        See :func:`meta_train_step` for one made by a meta-update.
    """

    params: PyTree
    opt_state: optax.OptState
    meta_loss: Float[Array, ""]
    diverged: Bool[Array, " B"]


def meta_train_step(
    method: AbstractMetaMethod,
    loss_fn: Callable[..., Float[Array, ""]],
    optimizer: optax.GradientTransformation,
    params: PyTree,
    opt_state: optax.OptState,
    tasks: Task,
    *,
    skip_diverged: bool = False,
    max_meta_loss: float | None = MAX_META_LOSS,
) -> MetaStep:
    """One meta-update: ``theta <- theta + optimizer(meta-gradient)``, guarded against NaN.

    Pure and jittable; it never branches on the method's type. With ``optax.sgd(lr)`` this
    is :math:`\\theta \\leftarrow \\theta - \\mathrm{lr}\\, g` with ``g`` the mean of the
    tasks' meta-gradients as in :func:`meta_value_and_grad`.

    A non-finite meta-loss or meta-gradient of any task, or a meta-loss whose magnitude
    exceeds ``max_meta_loss`` (an exploding but still finite inner loop), never reaches
    ``theta``. By
    default such a step is withheld (params and optimiser state come back unchanged) and
    ``diverged`` says which tasks failed; pass it to :func:`raise_if_diverged` outside jit
    to get a :class:`DivergenceError` with the task, the step and a step-size suggestion.
    With ``skip_diverged=True`` the diverged tasks are dropped and the update uses the
    mean over the others (withheld only if every task diverged); count them with
    ``diverged.sum()``.

    A :class:`MetaParams` is updated like any pytree, every field set by its own gradient;
    afterwards rates and horizon are projected onto ``[eps, inf)`` (``eps`` the dtype's
    machine epsilon) so that the inner flow keeps descending.

    Args:
        method, loss_fn, params, tasks: as for :func:`meta_value_and_grad`.
        optimizer, opt_state: an optax transformation and its state.
        skip_diverged: (keyword-only) drop diverged tasks instead of withholding the step.
        max_meta_loss: (keyword-only) a task whose meta-loss magnitude exceeds it counts as
            diverged (default ``1e10``); ``None`` disables the check (finiteness only). Pass
            the same value to :func:`raise_if_diverged`.

    Returns:
        A :class:`MetaStep`.

    Raises:
        TypeError, ValueError: for invalid arguments, before any computation (as
            :func:`meta_value_and_grad`). A diverged task raises nothing here: see ``diverged``.

    Example:
        >>> import jax, jax.numpy as jnp, amaml, optax
        >>> loss = lambda p, x, y: 0.5 * jnp.mean((x @ p - y) ** 2)
        >>> x = jnp.linspace(-1.0, 1.0, 24).reshape(2, 4, 3)  # 2 tasks, 4 examples, 3 features
        >>> tasks = amaml.Task(x, jnp.ones((2, 4)), x, jnp.ones((2, 4)))
        >>> method, optimizer, params = amaml.MAML(2, 0.1), optax.sgd(0.1), jnp.zeros(3)
        >>> step = amaml.meta_train_step(method, loss, optimizer, params, optimizer.init(params), tasks)
        >>> step.params.shape, step.meta_loss.shape, step.diverged.tolist()
        ((3,), (), [False, False])

        Jitted, with the method and the loss closed over:

        >>> train = jax.jit(lambda p, s, t: amaml.meta_train_step(method, loss, optimizer, p, s, t))
        >>> bool(train(step.params, step.opt_state, tasks).meta_loss < step.meta_loss)
        True
    """
    values, grads, unravel = per_task_value_and_grad(method, loss_fn, params, tasks)
    diverged = task_diverged(values, grads, max_meta_loss)
    healthy = ~diverged
    if skip_diverged:
        count = jnp.sum(healthy)
        weights = healthy.astype(values.dtype) / jnp.maximum(count, 1).astype(values.dtype)
        meta_loss = jnp.where(count > 0, jnp.sum(jnp.where(healthy, values, 0) * weights), jnp.nan)
        grad = jnp.sum(jnp.where(healthy[:, None], grads, 0) * weights[:, None], axis=0)
        apply = count > 0
    else:
        meta_loss, grad, apply = jnp.mean(values), jnp.mean(grads, axis=0), jnp.all(healthy)
    # optax's own arithmetic may promote (adam's bias correction raises a float to an int32
    # step count), so it runs under standard promotion even when the caller asks for strict;
    # amaml's arithmetic above and below stays strict-clean.
    with jax.numpy_dtype_promotion("standard"):
        updates, new_state = optimizer.update(unravel(grad), opt_state, params)
    new_params = optax.apply_updates(params, updates)
    if isinstance(new_params, MetaParams):
        new_params = keep_positive(new_params)

    def keep_if_withheld(new, old):
        return jax.tree_util.tree_map(lambda a, b: jnp.where(apply, a, b), new, old)

    return MetaStep(keep_if_withheld(new_params, params), keep_if_withheld(new_state, opt_state), meta_loss, diverged)
