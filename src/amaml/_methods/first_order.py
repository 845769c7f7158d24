"""First-order methods: no second derivatives at all."""

from __future__ import annotations

import dataclasses
from typing import ClassVar, final

import jax.numpy as jnp

from .._flow import FlatLoss, FlatMeta
from .._solvers import AbstractSolver, Euler
from .._task import Task
from ._base import (
    ALL_FIELDS,
    AbstractMetaMethod,
    meta_loss_gradient,
    step_size_option,
    steps_option,
    unroll_option,
    zeros_or_none,
)


@final
@dataclasses.dataclass(frozen=True)
class FOMAML(AbstractMetaMethod):
    r"""First-order MAML: the gradient :math:`\nabla L_\mathrm{val}(u_K)` at the adapted point.

    Same inner loop and meta-loss as :class:`MAML`; the Jacobian
    :math:`\partial u_K / \partial\theta` is replaced by the identity, so the direction is
    biased by :math:`O(h K \lVert H\rVert)`. Cost: one gradient per inner step.

    Meta-parameters (:class:`amaml.MetaParams`), first-order meaning: every
    :math:`\partial u_{j+1}/\partial u_j` is the identity and no second derivative is
    taken. So with :math:`a = \nabla L_\mathrm{val}(u_K)` and :math:`u_K - \theta =
    -h\sum_j r \odot \nabla L(u_j)`: :math:`dJ/dr \approx a \odot (u_K - \theta) / r`,
    :math:`dJ/dT \approx a \cdot (u_K - \theta) / T`, and the shared parameters get only
    the explicit part :math:`\partial L_\mathrm{val}(u_K; \phi)/\partial\phi` (their
    effect through the inner loop is a second derivative).

    Args:
        steps: number of inner SGD steps ``K``.
        step_size: the inner learning rate ``h``.
        unroll: (keyword-only) steps per scan iteration; ``None`` (default) picks by backend.

    Raises:
        TypeError, ValueError: naming the first invalid argument.

    Example:
        The direction is the query gradient at the adapted parameters:

        >>> import jax, jax.numpy as jnp, amaml
        >>> loss = lambda p, x, y: 0.5 * jnp.mean((x @ p - y) ** 2)
        >>> x = jnp.linspace(-1.0, 1.0, 12).reshape(1, 4, 3)  # 1 task, 4 examples, 3 features
        >>> tasks = amaml.Task(x, jnp.ones((1, 4)), x, jnp.ones((1, 4)))
        >>> _, g = amaml.meta_value_and_grad(amaml.FOMAML(2, 0.1), loss, jnp.zeros(3), tasks)
        >>> u = amaml.adapt(amaml.FOMAML(2, 0.1), loss, jnp.zeros(3), x[0], jnp.ones(4))
        >>> bool(jnp.allclose(g, jax.grad(loss)(u, x[0], jnp.ones(4)), rtol=1e-5, atol=1e-7))
        True

    References:
        Finn, Abbeel, Levine, "Model-Agnostic Meta-Learning for Fast Adaptation of Deep
        Networks", ICML 2017 (its first-order approximation).
    """

    steps: int = steps_option()
    step_size: float = step_size_option()
    unroll: int | None = unroll_option()
    inner_solver: ClassVar[AbstractSolver] = Euler()
    inner_prox: ClassVar[float] = 0.0
    meta_prox: ClassVar[float] = 0.0
    learnable: ClassVar[frozenset[str]] = ALL_FIELDS

    def __post_init__(self) -> None:
        self._check_common()

    def value_and_meta_grad(self, loss: FlatLoss, meta: FlatMeta, task: Task, tasks: int = 1):
        u_final = self.adapt(loss, meta, task.support_x, task.support_y)
        value, adjoint, _, context = meta_loss_gradient(loss, meta, task, u_final, 0.0)
        moved = u_final - meta.theta
        rates = None if meta.rates is None else adjoint * moved / meta.rates
        horizon = None if meta.horizon is None else jnp.vdot(adjoint, moved) / meta.horizon
        return value, FlatMeta(adjoint, rates, horizon, zeros_or_none(meta.context_in), context)


@final
@dataclasses.dataclass(frozen=True)
class Reptile(AbstractMetaMethod):
    r"""Reptile (Nichol et al., 2018): move :math:`\theta` towards the adapted parameters.

    The inner loop is ``steps`` SGD steps on the support set. The returned direction is

    .. math::
        g = \frac{\theta - u_K}{K h} = \frac1K \sum_{j<K} \nabla L_\mathrm{tr}(u_j),

    the mean inner gradient along the path. Scaling by :math:`1/(Kh)` makes ``g`` a
    gradient-sized quantity whatever ``steps`` and ``step_size`` are (for ``steps=1`` it
    is :math:`\nabla L_\mathrm{tr}(\theta)`), so a meta-step ``theta - meta_lr * g`` is
    Reptile's ``theta + epsilon (u_K - theta)`` with ``epsilon = meta_lr / (K h)``. It is
    not the gradient of any meta-loss; the value returned beside it is
    :math:`L_\mathrm{val}(u_K)` for monitoring.

    Meta-parameters (:class:`amaml.MetaParams`): shared parameters, which the inner loop
    does not move, get the query-loss gradient :math:`\partial L_\mathrm{val}(u_K;
    \phi)/\partial\phi` (first-order ANIL's); rates and a horizon have no Reptile
    direction (it is not the gradient of a meta-loss), and asking for them is an error.

    Args:
        steps: number of inner SGD steps ``K``.
        step_size: the inner learning rate ``h``.
        unroll: (keyword-only) steps per scan iteration; ``None`` (default) picks by backend.

    Raises:
        TypeError, ValueError: naming the first invalid argument.

    Example:
        For ``steps=1`` the direction is the support gradient at :math:`\theta`:

        >>> import jax, jax.numpy as jnp, amaml
        >>> loss = lambda p, x, y: 0.5 * jnp.mean((x @ p - y) ** 2)
        >>> x = jnp.linspace(-1.0, 1.0, 12).reshape(1, 4, 3)  # 1 task, 4 examples, 3 features
        >>> tasks = amaml.Task(x, jnp.ones((1, 4)), x, jnp.ones((1, 4)))
        >>> _, g = amaml.meta_value_and_grad(amaml.Reptile(1, 0.1), loss, jnp.zeros(3), tasks)
        >>> bool(jnp.allclose(g, jax.grad(loss)(jnp.zeros(3), x[0], jnp.ones(4)), rtol=1e-5, atol=1e-7))
        True

    References:
        Nichol, Achiam, Schulman, "On First-Order Meta-Learning Algorithms",
        arXiv:1803.02999, 2018.
    """

    steps: int = steps_option()
    step_size: float = step_size_option()
    unroll: int | None = unroll_option()
    inner_solver: ClassVar[AbstractSolver] = Euler()
    inner_prox: ClassVar[float] = 0.0
    meta_prox: ClassVar[float] = 0.0
    learnable: ClassVar[frozenset[str]] = frozenset({"shared"})

    def __post_init__(self) -> None:
        self._check_common()

    def value_and_meta_grad(self, loss: FlatLoss, meta: FlatMeta, task: Task, tasks: int = 1):
        u_final = self.adapt(loss, meta, task.support_x, task.support_y)
        if meta.context_out is None:
            value, context = loss(u_final, task.query_x, task.query_y), None
        else:
            value, _, _, context = meta_loss_gradient(loss, meta, task, u_final, 0.0)
        direction = (meta.theta - u_final) / (self.steps * self.inner_step(meta))
        return value, FlatMeta(direction, context_in=zeros_or_none(meta.context_in), context_out=context)
