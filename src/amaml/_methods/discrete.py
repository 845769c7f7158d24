"""The exact discrete adjoint (discretise, then optimise)."""

from __future__ import annotations

import dataclasses
import warnings
from typing import ClassVar, final

import jax.numpy as jnp

from .. import _validate
from .._checkpoints import Checkpoints
from .._fields import option
from .._flow import FlatLoss, FlatMeta, GradientFlow
from .._solvers import AbstractSolver, Euler
from .._sweep import Node
from .._task import Task
from ._adjoint_base import (
    AbstractAdjointMethod,
    checkpoints_option,
    memory_budget_option,
    prox_option,
)
from ._base import ALL_FIELDS, SOLVERS, add_or_none, step_size_option, steps_option, unroll_option, zeros_or_none


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

    Meta-parameters inside the flow (:class:`amaml.MetaParams`): the stage cotangent
    :math:`\kappa_i` is the cotangent of the stage value :math:`k_i = f(Y_i)`, so the same
    sweep sums the exact cotangents of every parameter of the field over steps and stages:
    :math:`\bar r = -\sum \kappa_i \odot \nabla_u L_\mathrm{in}(Y_i)`,
    :math:`\bar\phi = -\sum (\partial\nabla_u L/\partial\phi)^\top (r \odot \kappa_i)`
    (plus the meta-loss's explicit part), and, since a step depends on :math:`h` and
    :math:`r` only through :math:`h r`, :math:`dJ/dT = (r \cdot \bar r) / T` with
    :math:`h = T/K`. All exact: with ``Euler()`` these are MAML's gradients of every field.

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
        >>> import jax.numpy as jnp, amaml
        >>> amaml.DiscreteAdjoint(50, 0.01, forward=amaml.RK4()).inner_solver
        RK4()

        With ``Euler()`` (the default) it is MAML's gradient, to rounding:

        >>> loss = lambda p, x, y: 0.5 * jnp.mean((x @ p - y) ** 2)
        >>> x = jnp.linspace(-1.0, 1.0, 24).reshape(2, 4, 3)  # 2 tasks, 4 examples, 3 features
        >>> tasks = amaml.Task(x, jnp.ones((2, 4)), x, jnp.ones((2, 4)))
        >>> _, g = amaml.meta_value_and_grad(amaml.DiscreteAdjoint(3, 0.1), loss, jnp.zeros(3), tasks)
        >>> _, g_maml = amaml.meta_value_and_grad(amaml.MAML(3, 0.1), loss, jnp.zeros(3), tasks)
        >>> bool(jnp.allclose(g, g_maml, rtol=1e-4, atol=1e-6))
        True

    References:
        Finn, Abbeel, Levine, "Model-Agnostic Meta-Learning for Fast Adaptation of Deep
        Networks", ICML 2017 (the gradient it computes, with ``Euler()``). Hager, "Runge-Kutta
        methods in optimal control and the transformed adjoint system", Numerische Mathematik
        87 (2000), and Griewank & Walther, "Evaluating Derivatives", 2nd ed., SIAM 2008
        (the discrete adjoint of a Runge-Kutta scheme: discretise, then optimise).
    """

    steps: int = steps_option()
    step_size: float = step_size_option()
    forward: AbstractSolver = option(
        Euler(), doc="forward scheme, differentiated exactly: Euler() (MAML), Heun() or RK4()"
    )
    prox: float = prox_option()
    checkpoints: Checkpoints = checkpoints_option()
    memory_budget: int | None = memory_budget_option()
    unroll: int | None = unroll_option()
    solver: dataclasses.InitVar[AbstractSolver | None] = dataclasses.field(default=None, kw_only=True)
    learnable: ClassVar[frozenset[str]] = ALL_FIELDS
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

    def value_and_meta_grad(self, loss: FlatLoss, meta: FlatMeta, task: Task, tasks: int = 1):
        h = self.inner_step(meta)
        # dJ/dT comes from the rates' cotangent (h and r enter only as h r), so a learned
        # horizon needs it too.
        rates = meta.rates is not None or meta.horizon is not None

        def init_carry(adjoint, explicit):
            return adjoint, explicit, jnp.zeros_like(adjoint) if rates else None, zeros_or_none(meta.context_in)

        def backward_step(flow: GradientFlow, carry, left: Node, right: Node):
            adjoint, explicit, rates_sum, context_sum = carry
            adjoint, parts = self.forward.step_vjp(
                flow.stage_field, lambda stage, kappa: flow.field_vjp(stage, kappa, rates), left.u, adjoint, h
            )
            # The field depends on theta through +lambda r (u - theta): d f / d theta = lambda r.
            centre = parts.centre if meta.rates is None else meta.rates * parts.centre
            rates_sum = add_or_none(rates_sum, parts.rates)
            return adjoint, explicit + self.prox * centre, rates_sum, add_or_none(context_sum, parts.context)

        end, (a0, explicit, rates_sum, context_sum) = self.sweep(loss, meta, task, init_carry, backward_step, tasks)
        horizon_grad = None
        if meta.horizon is not None:
            scaled = rates_sum if meta.rates is None else meta.rates * rates_sum
            horizon_grad = jnp.sum(scaled) / meta.horizon
        rates_grad = rates_sum if meta.rates is not None else None
        return end.value, FlatMeta(a0 + explicit, rates_grad, horizon_grad, context_sum, end.context)
