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
    """How a model is fine-tuned on a test task's support set, one step at a time.

    A subclass defines ``init(meta)`` (the state at the meta-learned initialisation;
    ``meta`` is one task's flat meta-parameters, ``meta.theta`` the flat ``(P,)``
    initialisation, with the learned rates and horizon where set), ``step(state,
    loss, x, y)`` (one step on the flat support loss ``loss(u, x, y)``; pure and jittable,
    as :func:`nrmse_curve` runs it inside ``lax.scan`` and ``vmap``) and ``params(state)``
    (the current flat parameters).

    Example:
        >>> class GradientDescent(AbstractFineTuning):
        ...     def init(self, meta):
        ...         return meta.theta
        ...     def step(self, state, loss, x, y):
        ...         return state - 0.1 * jax.grad(loss)(state, x, y)
        ...     def params(self, state):
        ...         return state
        >>> apply = lambda p, x: x @ p["w"]
        >>> x = jnp.stack([jnp.linspace(-1.0, 1.0, 6)[:, None]] * 2)  # 2 tasks, 6 points
        >>> tasks, params = amaml.Task(x, 2 * x, x, 2 * x), {"w": jnp.zeros((1, 1))}
        >>> nrmse_curve(GradientDescent(), amaml.losses.mse(apply), apply, params, tasks, steps=4, every=2).shape
        (3, 2)
    """

    @abc.abstractmethod
    def init(self, meta: FlatMeta) -> Any:
        """The fine-tuning state at the meta-learned initialisation ``meta.theta`` (with its
        learned rates and horizon, for the methods' own inner loop).

        Args:
            meta: one task's flat meta-parameters: ``theta`` ``(P,)``, the rates and horizon where
                learned; ``context_in`` is ``None`` (:func:`nrmse_curve` folds it into the loss).

        Returns:
            The state (any pytree), the ``state`` of the first :meth:`step`.
        """

    @abc.abstractmethod
    def step(self, state: Any, loss: FlatLoss, x: Array, y: Array) -> Any:
        """One fine-tuning step on the support loss ``loss(u, x, y)``.

        Args:
            state: the current state (from :meth:`init` or the previous step).
            loss: the flat support loss ``loss(u, x, y) -> scalar``, ``u`` of shape ``(P,)``.
            x, y: the task's support set, ``(n, ...)``.

        Returns:
            The next state, of the same structure (pure, jittable: it runs inside ``lax.scan``).
        """

    @abc.abstractmethod
    def params(self, state: Any) -> Float[Array, " P"]:
        """The current parameters.

        Args:
            state: a state of :meth:`init` or :meth:`step`.

        Returns:
            The fine-tuned flat parameters, ``(P,)``.
        """


@final
@dataclasses.dataclass(frozen=True)
class AdamFineTuning(AbstractFineTuning):
    """The paper's test-time protocol: Adam on the support loss (default lr 1e-3).

    optax's Adam with its default moments (0.9, 0.999, eps 1e-8), started afresh at the
    meta-learned initialisation of every task.

    Args:
        learning_rate: Adam's step size, positive.

    Raises:
        TypeError, ValueError: when ``learning_rate`` is not a positive finite number.

    Example:
        >>> apply = lambda p, x: x @ p["w"]
        >>> x = jnp.stack([jnp.linspace(-1.0, 1.0, 6)[:, None]] * 2)  # 2 tasks, 6 points
        >>> tasks, params = amaml.Task(x, 2 * x, x, 2 * x), {"w": jnp.zeros((1, 1))}
        >>> curve = nrmse_curve(AdamFineTuning(0.1), amaml.losses.mse(apply), apply, params, tasks, steps=4, every=2)
        >>> curve.shape, bool((curve[-1] < curve[0]).all())
        ((3, 2), True)
    """

    learning_rate: float = 1e-3

    def __post_init__(self) -> None:
        _validate.positive_float("learning_rate", self.learning_rate)

    def init(self, meta):
        """``(theta, Adam's state)``, Adam started afresh; learned rates and horizon are not used.

        Args:
            meta: one task's flat meta-parameters; only ``meta.theta`` ``(P,)`` is read.

        Returns:
            ``(u, opt_state)`` with ``u = meta.theta`` and optax's initial Adam state for it.
        """
        return meta.theta, optax.adam(self.learning_rate).init(meta.theta)

    def step(self, state, loss, x, y):
        """One Adam step on the gradient of the support loss.

        Args:
            state: ``(u, opt_state)``.
            loss: the flat support loss ``loss(u, x, y)``.
            x, y: the task's support set, ``(n, ...)``.

        Returns:
            ``(u + update, opt_state)`` with Adam's update of ``jax.grad(loss)(u, x, y)``.
        """
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
    proximal centre stays at the initialisation).

    Args:
        method: the meta-gradient method whose inner loop fine-tunes (e.g. the run's own).

    Example:
        >>> apply = lambda p, x: x @ p["w"]
        >>> x = jnp.stack([jnp.linspace(-1.0, 1.0, 6)[:, None]] * 2)  # 2 tasks, 6 points
        >>> tasks, params = amaml.Task(x, 2 * x, x, 2 * x), {"w": jnp.zeros((1, 1))}
        >>> tuning = InnerLoopFineTuning(amaml.MAML(5, 0.1))
        >>> curve = nrmse_curve(tuning, amaml.losses.mse(apply), apply, params, tasks, steps=10, every=5)
        >>> curve.shape, bool((curve[-1] < curve[0]).all())
        ((3, 2), True)
    """

    method: AbstractMetaMethod

    def init(self, meta):
        """``(theta, meta)``: the meta-parameters ride along for the rates, the step and the proximal centre.

        Args:
            meta: one task's flat meta-parameters: ``theta`` ``(P,)``, the rates and horizon where learned.

        Returns:
            ``(u, meta)`` with ``u = meta.theta``.
        """
        return meta.theta, meta

    def step(self, state, loss, x, y):
        """One step of the method's inner loop: its solver, step (:meth:`amaml.AbstractMetaMethod.inner_step`) and flow.

        Args:
            state: ``(u, meta)``.
            loss: the flat support loss ``loss(u, x, y)``.
            x, y: the task's support set, ``(n, ...)``.

        Returns:
            ``(u_next, meta)``: one ``inner_solver`` step of the method's flow on ``(x, y)`` (proximal
            centre ``meta.theta``, rates ``meta.rates``), ``meta`` unchanged.
        """
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

    Args:
        fine_tuning: how to fine-tune (:class:`AdamFineTuning`, :class:`InnerLoopFineTuning`
            or another :class:`AbstractFineTuning`).
        loss_fn, params: as for :func:`amaml.meta_value_and_grad`; ``params`` the
            meta-learned initialisation.
        apply_fn: ``apply_fn(params, x) -> predictions`` shaped like the query targets.
        tasks: the test tasks (a batch of :class:`amaml.Task`, standardised targets).
        steps: fine-tuning steps in all, a multiple of ``every``.
        every: steps between records.

    Returns:
        Array of shape ``(steps // every + 1, n_tasks)``; row 0 is the nRMSE at the
        initialisation itself.

    Raises:
        TypeError, ValueError: when ``every`` is not a positive integer or does not divide
            ``steps``.

    Example:
        >>> apply = lambda p, x: x @ p["w"]
        >>> x = jnp.stack([jnp.linspace(-1.0, 1.0, 6)[:, None]] * 2)  # 2 tasks, 6 points
        >>> tasks, params = amaml.Task(x, 2 * x, x, 2 * x), {"w": jnp.zeros((1, 1))}
        >>> curve = nrmse_curve(AdamFineTuning(0.1), amaml.losses.mse(apply), apply, params, tasks, steps=6, every=3)
        >>> curve.shape, round(float(curve[0, 0]), 3)  # at the initialisation: the RMS of y = 2x
        ((3, 2), 1.366)
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
