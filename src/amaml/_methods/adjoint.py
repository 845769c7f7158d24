"""A-MAML: the continuous adjoint (optimise, then discretise)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar, final

import jax.numpy as jnp

from .. import _validate
from .._checkpoints import Checkpoints
from .._fields import option
from .._flow import FlatLoss, FlatMeta, GradientFlow
from .._solvers import RK4, AbstractSolver
from .._sweep import Node, hermite
from .._task import Task
from ._adjoint_base import (
    AbstractAdjointMethod,
    checkpoints_option,
    memory_budget_option,
    prox_option,
)
from ._base import ALL_FIELDS, SOLVERS, step_size_option, steps_option, unroll_option, zeros_or_none


@final
@dataclasses.dataclass(frozen=True)
class AdjointMAML(AbstractAdjointMethod):
    r"""A-MAML: the meta-gradient from the continuous adjoint of the inner gradient flow.

    Forward: :math:`u' = -\nabla L_\mathrm{tr}(u) - \lambda(u - \theta)`, :math:`u(0) = \theta`,
    solved on :math:`[0, T]`, :math:`T = K h`, with ``forward``. Backward, the adjoint ODE

    .. math::
        a' = (H(u(t)) + \lambda I)\, a, \qquad
        a(T) = \nabla L_\mathrm{val}(u_K) + \lambda (u_K - \theta),

    solved from :math:`T` to 0 with ``backward`` along the stored or recomputed forward
    states (cubic Hermite interpolation where a stage falls between grid points), together
    with :math:`q = \int_0^T a\,dt`. The gradient of the meta-loss
    :math:`J = L_\mathrm{val}(u_K) + \tfrac\lambda2 \lVert u_K - \theta\rVert^2` is returned as

    .. math::
        \nabla_\theta J \approx a(0) + \lambda q - \lambda (u_K - \theta).

    Only Hessian-vector products are used; no graph spans the steps.

    Meta-parameters inside the flow (:class:`amaml.MetaParams`): with rates :math:`r` the
    field is :math:`f = -r \odot \nabla_u L_\mathrm{in}(u; \phi)`, the adjoint
    :math:`a' = (H + \lambda I)(r \odot a)`, and the same sweep integrates

    .. math::
        \frac{dJ}{dr} = -\int_0^T a \odot \nabla_u L_\mathrm{in}(u)\,dt, \qquad
        \frac{dJ}{d\phi} = \frac{\partial J}{\partial \phi}
            - \int_0^T \Big(\frac{\partial \nabla_u L}{\partial \phi}\Big)^{\!\top} (r \odot a)\,dt,

    while :math:`dJ/dT = a(T) \cdot f(u(T))` needs no sweep at all (for an autonomous flow
    :math:`a \cdot f` is constant in time). All are :math:`O(h^p)` approximations, like the
    initialisation's gradient.

    Accuracy: this is optimise-then-discretise. It approximates the gradient of the
    *continuous* objective to :math:`O(h^p)`, :math:`p` the smaller order of the two
    schemes; it is *not* the exact gradient of the computed forward solution (that is
    :class:`DiscreteAdjoint`), and at equal ``steps`` it differs from MAML's gradient by
    :math:`O(h)`. :func:`amaml.check_meta_grad` measures both errors.

    Args:
        steps: number of inner steps ``K``.
        step_size: inner step ``h``.
        forward: (keyword-only) forward scheme: ``Euler()``, ``Heun()`` or ``RK4()`` (default).
        backward: (keyword-only) backward scheme: ``Euler()``, ``Heun()`` or ``RK4()``
            (default). The default matches the forward scheme's order *and* its stability
            region: with ``RK4()`` forward and ``Heun()`` backward, steps with
            :math:`2 < h\lambda_{\max} < 2.79` are stable forward but the adjoint blows up.
        prox: (keyword-only) proximal weight :math:`\lambda \ge 0`; 0 (default) is pure A-MAML.
        checkpoints: (keyword-only) ``None`` stores all ``K + 1`` states; an integer ``c``
            stores at most ``c`` states and recomputes each segment in the backward sweep;
            ``"auto"`` (default) stores all states while the whole meta-batch's states take
            at most ``memory_budget`` bytes, and beyond that checkpoints recursively (the
            fewest levels of segment starts that fit, each level one extra forward solve),
            so memory stays nearly flat in ``K``. :func:`amaml.checkpoint_plan` says what
            it chose.
        memory_budget: (keyword-only) bytes the meta-batch's stored states may take under
            ``checkpoints="auto"``; ``None`` (default): a quarter of the memory the device
            reports (the physical memory on CPU).
        unroll: (keyword-only) steps per scan iteration; ``None`` (default) picks by backend.

    Raises:
        TypeError, ValueError: naming the first invalid argument.

    Example:
        >>> import jax.numpy as jnp, amaml
        >>> method = amaml.AdjointMAML(200, 0.01)  # RK4 forward and backward
        >>> method.inner_solver, round(method.horizon, 3)
        (RK4(), 2.0)

        Against the exact gradient of the same RK4 forward solve, the difference is
        :math:`O(h^4)`:

        >>> loss = lambda p, x, y: 0.5 * jnp.mean((x @ p - y) ** 2)
        >>> x = jnp.linspace(-1.0, 1.0, 24).reshape(2, 4, 3)  # 2 tasks, 4 examples, 3 features
        >>> tasks = amaml.Task(x, jnp.ones((2, 4)), x, jnp.ones((2, 4)))
        >>> _, g = amaml.meta_value_and_grad(amaml.AdjointMAML(5, 0.1), loss, jnp.zeros(3), tasks)
        >>> _, exact = amaml.meta_value_and_grad(amaml.DiscreteAdjoint(5, 0.1, forward=amaml.RK4()), loss,
        ...                                      jnp.zeros(3), tasks)
        >>> g.shape, bool(jnp.allclose(g, exact, atol=1e-4))
        ((3,), True)

    References:
        Li et al., "Meta-Learning with Adjoint Methods", AISTATS 2023 (A-MAML).
    """

    steps: int = steps_option()
    step_size: float = step_size_option()
    forward: AbstractSolver = option(RK4(), doc="forward scheme of the inner gradient flow: Euler(), Heun() or RK4()")
    backward: AbstractSolver = option(RK4(), doc="scheme of the backward adjoint sweep: Euler(), Heun() or RK4()")
    prox: float = prox_option()
    checkpoints: Checkpoints = checkpoints_option()
    memory_budget: int | None = memory_budget_option()
    unroll: int | None = unroll_option()
    learnable: ClassVar[frozenset[str]] = ALL_FIELDS

    def __post_init__(self) -> None:
        self._check_adjoint()
        _validate.instance_of("backward", self.backward, AbstractSolver, SOLVERS)

    @property
    def keeps_vector_field(self) -> bool:
        return self.backward.needs_dense_output

    def value_and_meta_grad(self, loss: FlatLoss, meta: FlatMeta, task: Task, tasks: int = 1):
        h = self.inner_step(meta)
        rates = meta.rates is not None

        def init_carry(adjoint, explicit):
            # z = (a, q = int a dt, dJ/dr, dJ/dc_in); the last two only when learned.
            return (
                adjoint,
                jnp.zeros_like(adjoint),
                zeros_or_none(meta.rates),
                zeros_or_none(meta.context_in),
            ), explicit

        def backward_step(flow: GradientFlow, carry, left: Node, right: Node):
            # Reversed time s = T - t: dz/ds = (-(H + lambda I)(r a), a, -a grad L_in, -M^T (r a)).
            # A stage at fraction c of the reversed step sits at t_{j+1} - c h, which is
            # fraction 1 - c of the forward step [t_j, t_{j+1}].
            def field(c, z):
                u = hermite(left, right, h, 1.0 - c)
                adjoint, parts = flow.field_vjp(u, z[0], rates)
                return (adjoint, parts.centre, parts.rates, parts.context)

            return self.backward.step(field, carry[0], h)[0], carry[1]

        end, ((a0, q0, rates_grad, context_grad), explicit) = self.sweep(
            loss, meta, task, init_carry, backward_step, tasks
        )
        centre = q0 if meta.rates is None else meta.rates * q0
        grads = FlatMeta(a0 + explicit + self.prox * centre, rates_grad, end.slope, context_grad, end.context)
        return end.value, grads
