"""Test-time fine-tuning curves: nRMSE on a dense grid against adaptation steps."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from typing import Any, final

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, PyTree

from .. import _validate
from .._flow import FlatLoss, FlatMeta
from .._meta import MetaParams
from .._methods import AbstractMetaMethod
from .._problem import prepare
from .._task import Task

ApplyFn = Callable[[PyTree, Array], Array]


class AbstractFineTuning(abc.ABC):
    """How a model is fine-tuned on a test task's support set, one step at a time."""

    @abc.abstractmethod
    def init(self, meta: FlatMeta) -> Any:
        """The fine-tuning state at the meta-learned initialisation ``meta.theta`` (with its
        learned rates and horizon, for the methods' own inner loop)."""

    @abc.abstractmethod
    def step(self, state: Any, loss: FlatLoss, x: Array, y: Array) -> Any:
        """One fine-tuning step on the support loss ``loss(u, x, y)``."""

    @abc.abstractmethod
    def params(self, state: Any) -> Float[Array, " P"]:
        """The current parameters."""


@final
@dataclasses.dataclass(frozen=True)
class AdamFineTuning(AbstractFineTuning):
    """The paper's test-time protocol: Adam on the support loss (default lr 1e-3)."""

    learning_rate: float = 1e-3

    def __post_init__(self) -> None:
        _validate.positive_float("learning_rate", self.learning_rate)

    def init(self, meta):
        return meta.theta, optax.adam(self.learning_rate).init(meta.theta)

    def step(self, state, loss, x, y):
        u, opt_state = state
        # optax's bias correction raises a float to an integer step count: standard promotion,
        # as in meta_train_step, so that callers may run with strict promotion.
        with jax.numpy_dtype_promotion("standard"):
            updates, opt_state = optax.adam(self.learning_rate).update(jax.grad(loss)(u, x, y), opt_state, u)
        return optax.apply_updates(u, updates), opt_state

    def params(self, state):
        return state[0]


@final
@dataclasses.dataclass(frozen=True)
class InnerLoopFineTuning(AbstractFineTuning):
    """The method's own inner dynamics: its solver, step size and proximal term (and the
    learned rates and horizon's step, if any), continued for as many steps as asked (the
    proximal centre stays at the initialisation)."""

    method: AbstractMetaMethod

    def init(self, meta):
        return meta.theta, meta

    def step(self, state, loss, x, y):
        u, meta = state
        flow = self.method.flow(loss, meta, x, y)
        return self.method.inner_solver.step(flow.stage_field, u, self.method.inner_step(meta))[0], meta

    def params(self, state):
        return state[0]


def nrmse_curve(
    fine_tuning: AbstractFineTuning,
    loss_fn: Callable[..., Float[Array, ""]],
    apply_fn: ApplyFn,
    params: PyTree | MetaParams,
    tasks: Task,
    steps: int,
    every: int = 10,
) -> Float[Array, "records tasks"]:
    r"""nRMSE of every task after 0, ``every``, 2 ``every``, ... ``steps`` fine-tuning steps.

    For a task with standardised query targets :math:`y_j` (the dense grid) and predictions
    :math:`\hat y_j`, :math:`\mathrm{nRMSE} = \sqrt{\frac1G \sum_j (\hat y_j - y_j)^2}`: the
    RMSE in units of the training functions' target standard deviation. Fine-tuning uses
    the support set only; tasks are vectorised with ``vmap``.

    With a :class:`amaml.MetaParams` the head (``init``) is fine-tuned with the shared
    parameters fixed, and ``apply_fn(adapted_init, x)`` must predict with both.

    Returns:
        Array of shape ``(steps // every + 1, n_tasks)``.
    """
    _validate.positive_int("every", every)
    if steps % every:
        raise ValueError(f"`steps` ({steps}) must be a multiple of `every` ({every}).")
    problem, meta_params, _ = prepare(loss_fn, params)
    unravel = problem.unravel

    def one_task(task: Task):
        context_loss, meta, _ = problem.view(meta_params, task.support_x, None)
        loss, context = context_loss, meta.context_in
        if context is not None:  # the shared parameters (or support features) stay fixed
            meta = meta._replace(context_in=None)

            def loss(u, x, y):
                return context_loss(u, context, x, y)

        theta = meta.theta

        def nrmse(u):
            prediction = apply_fn(unravel(u), task.query_x)
            return jnp.sqrt(jnp.mean((prediction - task.query_y) ** 2))

        def record(state, _):
            state = jax.lax.fori_loop(
                0, every, lambda _, s: fine_tuning.step(s, loss, task.support_x, task.support_y), state
            )
            return state, nrmse(fine_tuning.params(state))

        state = fine_tuning.init(meta)
        _, later = jax.lax.scan(record, state, None, length=steps // every)
        return jnp.concatenate([nrmse(theta)[None], later])

    return jax.jit(jax.vmap(one_task, out_axes=1))(tasks)


def mean_nrmse(apply_fn: ApplyFn, params: PyTree, tasks: Task) -> Float[Array, ""]:
    """Mean over tasks of the nRMSE of ``params`` themselves (no adaptation) on the query sets."""
    predictions = jax.vmap(apply_fn, in_axes=(None, 0))(params, tasks.query_x)
    return jnp.mean(jnp.sqrt(jnp.mean((predictions - tasks.query_y) ** 2, axis=(1, 2))))
