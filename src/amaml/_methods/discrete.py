"""The exact discrete adjoint (discretise, then optimise)."""

from __future__ import annotations

import dataclasses
import warnings
from typing import ClassVar, final

from jaxtyping import Array, Float

from .. import _validate
from .._checkpoints import Checkpoints
from .._fields import option
from .._flow import FlatLoss, GradientFlow
from .._solvers import AbstractSolver, Euler
from .._sweep import Node
from .._task import Task
from ._adjoint_base import AbstractAdjointMethod, checkpoints_option, memory_budget_option, prox_option
from ._base import SOLVERS, step_size_option, steps_option, unroll_option


@final
@dataclasses.dataclass(frozen=True)
class DiscreteAdjoint(AbstractAdjointMethod):
    r"""The exact gradient of the discretised inner solution, by a reverse sweep of HVPs.

    The forward pass is ``steps`` steps of ``forward`` on the (proximal) gradient flow, as in
    :class:`AdjointMAML`. The backward pass applies the exact transpose of each step
    (:meth:`AbstractSolver.step_transpose`): for the step map :math:`\Phi` and cotangent
    :math:`\bar u_{j+1}`, :math:`\bar u_j = (\partial\Phi/\partial u_j)^\top \bar u_{j+1}`,
    using Hessian-vector products at the recomputed stage states, and
    :math:`\bar\theta \mathrel{+}= \lambda \sum_i \kappa_i` for the proximal centre.
    The result is :math:`\nabla_\theta J` exactly (to rounding) for
    :math:`J = L_\mathrm{val}(u_K) + \tfrac\lambda2\lVert u_K-\theta\rVert^2`.

    With ``forward=Euler()`` and ``prox=0`` the forward pass is ``K`` steps of gradient
    descent and this *is* second-order MAML's gradient, computed without a graph across
    steps: memory is that of the stored (or checkpointed) states only.

    Args:
        steps: number of inner steps ``K``.
        step_size: inner step ``h``.
        forward: (keyword-only) the forward scheme: ``Euler()`` (default), ``Heun()`` or ``RK4()``.
        prox: (keyword-only) proximal weight :math:`\lambda \ge 0`.
        checkpoints, memory_budget, unroll: (keyword-only) as for :class:`AdjointMAML`.
        solver: (keyword-only, deprecated) the old name of ``forward``; warns.

    Raises:
        TypeError, ValueError: naming the first invalid argument.

    Example:
        >>> import amaml
        >>> amaml.DiscreteAdjoint(50, 0.01, forward=amaml.RK4()).inner_solver
        RK4()
    """

    steps: int = steps_option()
    step_size: float = step_size_option()
    forward: AbstractSolver = option(
        Euler(), doc="forward scheme, differentiated exactly: Euler() (MAML), Heun() or RK4()"
    )
    prox: float = prox_option()
    checkpoints: Checkpoints = checkpoints_option()
    memory_budget: int = memory_budget_option()
    unroll: int | None = unroll_option()
    solver: dataclasses.InitVar[AbstractSolver | None] = dataclasses.field(default=None, kw_only=True)
    keeps_vector_field: ClassVar[bool] = False  # stage states are recomputed from u_j; no dense output

    def __post_init__(self, solver: AbstractSolver | None) -> None:
        if solver is not None:
            warnings.warn(
                "DiscreteAdjoint(solver=...) is deprecated: the forward scheme is now called "
                "`forward`, as in AdjointMAML; pass forward=... instead.",
                DeprecationWarning,
                stacklevel=3,
            )
            _validate.instance_of("solver", solver, AbstractSolver, SOLVERS)
            if self.forward != Euler():
                raise TypeError("pass the forward scheme once: `forward=` (`solver=` is its deprecated old name).")
            object.__setattr__(self, "forward", solver)
        self._check_adjoint()

    def value_and_grad(self, loss: FlatLoss, theta: Float[Array, " P"], task: Task):
        h = self.step_size

        def init_carry(adjoint, explicit):
            return adjoint, explicit

        def backward_step(flow: GradientFlow, carry, left: Node, right: Node):
            adjoint, explicit = carry
            adjoint, kappa_sum = self.forward.step_transpose(
                flow.stage_field, flow.jacobian_transpose, left.u, adjoint, h
            )
            # The field depends on theta through +lambda (u - theta): d f / d theta = lambda I.
            return adjoint, explicit + self.prox * kappa_sum

        value, (a0, explicit) = self.sweep(loss, theta, task, init_carry, backward_step)
        return value, a0 + explicit
