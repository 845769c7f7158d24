"""The exact discrete adjoint (discretise, then optimise)."""

from __future__ import annotations

import dataclasses
from typing import final

from jaxtyping import Array, Float

from .. import _validate
from .._flow import FlatLoss, GradientFlow
from .._solvers import AbstractSolver, Euler
from .._task import Task
from .._trajectory import Node
from ._base import SOLVERS
from ._sweep import AbstractAdjointMethod


@final
@dataclasses.dataclass(frozen=True)
class DiscreteAdjoint(AbstractAdjointMethod):
    r"""The exact gradient of the discretised inner solution, by a reverse sweep of HVPs.

    The forward pass is ``steps`` steps of ``solver`` on the (proximal) gradient flow, as in
    :class:`AdjointMAML`. The backward pass applies the exact transpose of each step
    (:meth:`AbstractSolver.step_transpose`): for the step map :math:`\Phi` and cotangent
    :math:`\bar u_{j+1}`, :math:`\bar u_j = (\partial\Phi/\partial u_j)^\top \bar u_{j+1}`,
    using Hessian-vector products at the recomputed stage states, and
    :math:`\bar\theta \mathrel{+}= \lambda \sum_i \kappa_i` for the proximal centre.
    The result is :math:`\nabla_\theta J` exactly (to rounding) for
    :math:`J = L_\mathrm{val}(u_K) + \tfrac\lambda2\lVert u_K-\theta\rVert^2`.

    With ``solver=Euler()`` and ``prox=0`` the forward pass is ``K`` steps of gradient
    descent and this *is* second-order MAML's gradient, computed without a graph across
    steps: memory is that of the stored (or checkpointed) states only.

    Args:
        steps: number of inner steps ``K``.
        step_size: inner step ``h``.
        solver: ``Euler()`` (default), ``Heun()`` or ``RK4()``.
        prox: (keyword-only) proximal weight :math:`\lambda \ge 0`.
        checkpoints: (keyword-only) as for :class:`AdjointMAML`.
    """

    solver: AbstractSolver = Euler()

    def __post_init__(self) -> None:
        super().__post_init__()
        _validate.instance_of("solver", self.solver, AbstractSolver, SOLVERS)

    @property
    def inner_solver(self) -> AbstractSolver:
        return self.solver

    @property
    def keeps_vector_field(self) -> bool:
        return False  # stage states are recomputed from u_j; no dense output needed

    def value_and_grad(self, loss: FlatLoss, theta: Float[Array, " P"], task: Task):
        h = self.step_size

        def init_carry(adjoint, explicit):
            return adjoint, explicit

        def backward_step(flow: GradientFlow, carry, left: Node, right: Node):
            adjoint, explicit = carry
            adjoint, kappa_sum = self.solver.step_transpose(
                flow.stage_field, flow.jacobian_transpose, left.u, adjoint, h
            )
            # The field depends on theta through +lambda (u - theta): d f / d theta = lambda I.
            return adjoint, explicit + self.prox * kappa_sum

        value, (a0, explicit) = self.sweep(loss, theta, task, init_carry, backward_step)
        return value, a0 + explicit
