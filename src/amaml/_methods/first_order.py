"""First-order methods: no second derivatives at all."""

from __future__ import annotations

import dataclasses
from typing import ClassVar, final

import jax
from jaxtyping import Array, Float

from .._flow import FlatLoss
from .._solvers import AbstractSolver, Euler
from .._task import Task
from ._base import AbstractMetaMethod, step_size_option, steps_option, unroll_option


@final
@dataclasses.dataclass(frozen=True)
class FOMAML(AbstractMetaMethod):
    r"""First-order MAML: the gradient :math:`\nabla L_\mathrm{val}(u_K)` at the adapted point.

    Same inner loop and meta-loss as :class:`MAML`; the Jacobian
    :math:`\partial u_K / \partial\theta` is replaced by the identity, so the direction is
    biased by :math:`O(h K \lVert H\rVert)`. Cost: one gradient per inner step.

    Args:
        steps: number of inner SGD steps ``K``.
        step_size: the inner learning rate ``h``.
        unroll: (keyword-only) steps per scan iteration; ``None`` (default) picks by backend.
    """

    steps: int = steps_option()
    step_size: float = step_size_option()
    unroll: int | None = unroll_option()
    inner_solver: ClassVar[AbstractSolver] = Euler()
    inner_prox: ClassVar[float] = 0.0
    meta_prox: ClassVar[float] = 0.0

    def __post_init__(self) -> None:
        self._check_common()

    def value_and_grad(self, loss: FlatLoss, theta: Float[Array, " P"], task: Task):
        u_final = self.adapt(loss, theta, task.support_x, task.support_y)
        return jax.value_and_grad(loss)(u_final, task.query_x, task.query_y)


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

    Args:
        steps: number of inner SGD steps ``K``.
        step_size: the inner learning rate ``h``.
        unroll: (keyword-only) steps per scan iteration; ``None`` (default) picks by backend.
    """

    steps: int = steps_option()
    step_size: float = step_size_option()
    unroll: int | None = unroll_option()
    inner_solver: ClassVar[AbstractSolver] = Euler()
    inner_prox: ClassVar[float] = 0.0
    meta_prox: ClassVar[float] = 0.0

    def __post_init__(self) -> None:
        self._check_common()

    def value_and_grad(self, loss: FlatLoss, theta: Float[Array, " P"], task: Task):
        u_final = self.adapt(loss, theta, task.support_x, task.support_y)
        value = loss(u_final, task.query_x, task.query_y)
        return value, (theta - u_final) / self.horizon
