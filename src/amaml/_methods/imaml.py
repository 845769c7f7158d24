"""iMAML: the implicit meta-gradient at the proximal inner solution."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar, final

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import _validate
from .._fields import option
from .._flow import FlatLoss, FlatMeta
from .._solvers import AbstractSolver, Euler
from .._task import Task
from ._base import AbstractMetaMethod, meta_loss_gradient, step_size_option, steps_option, unroll_option


def conjugate_gradient(
    matvec: Callable[[Float[Array, " P"]], Float[Array, " P"]], rhs: Float[Array, " P"], iterations: int
) -> Float[Array, " P"]:
    """``iterations`` steps of conjugate gradient for ``A x = rhs`` from ``x = 0``, A SPD.

    Exact in at most ``P`` iterations in exact arithmetic. Once the residual is exactly
    zero the iterate stops changing (no 0/0).
    """

    def body(state, _):
        x, r, p, rs = state
        ap = matvec(p)
        pap = jnp.vdot(p, ap)
        alpha = jnp.where(pap > 0, rs / jnp.where(pap > 0, pap, 1), 0)
        x = x + alpha * p
        r = r - alpha * ap
        rs_new = jnp.vdot(r, r)
        beta = jnp.where(rs > 0, rs_new / jnp.where(rs > 0, rs, 1), 0)
        return (x, r, r + beta * p, rs_new), None

    state = (jnp.zeros_like(rhs), rhs, rhs, jnp.vdot(rhs, rhs))
    (x, *_), _ = jax.lax.scan(body, state, None, length=iterations)
    return x


@final
@dataclasses.dataclass(frozen=True)
class IMAML(AbstractMetaMethod):
    r"""Implicit MAML (Rajeswaran et al., 2019).

    Inner loop: ``steps`` gradient-descent steps of size ``step_size`` on the proximal
    objective :math:`L_\mathrm{tr}(u) + \tfrac\lambda2\lVert u-\theta\rVert^2` from
    :math:`u_0=\theta`, approximating its minimiser :math:`u^\star(\theta)`. Meta-loss
    :math:`L_\mathrm{val}(u_K)`. At a minimiser, the implicit function theorem gives

    .. math::
        \nabla_\theta L_\mathrm{val}(u^\star) = (I + H(u^\star)/\lambda)^{-1}\,
        \nabla L_\mathrm{val}(u^\star),

    solved here at :math:`u_K` with ``cg_steps`` conjugate-gradient iterations (HVPs only).
    Accuracy: exact when the inner problem is solved to convergence and
    ``cg_steps >= P`` (in exact arithmetic); otherwise biased by both truncations.

    Meta-parameters (:class:`amaml.MetaParams`): shared parameters :math:`\phi` get the
    implicit gradient :math:`\partial L_\mathrm{val}/\partial\phi - M^\top v/\lambda` with
    :math:`M = \partial\nabla_u L/\partial\phi` at :math:`u_K` and :math:`v` the
    initialisation's gradient above. Rates and a horizon do not move the minimiser, so
    their implicit gradient is zero by construction: asking for them is an error.

    Args:
        steps, step_size: the inner gradient descent.
        prox: (keyword-only) :math:`\lambda > 0` (default 1, as in the paper's experiments).
        cg_steps: (keyword-only) conjugate-gradient iterations (default 5, as in the paper).
        unroll: (keyword-only) steps per scan iteration; ``None`` (default) picks by backend.

    Raises:
        TypeError, ValueError: naming the first invalid argument.

    Example:
        >>> import jax.numpy as jnp, amaml
        >>> method = amaml.IMAML(10, 0.1, prox=2.0, cg_steps=3)
        >>> method.inner_prox, method.meta_prox
        (2.0, 0.0)
        >>> loss = lambda p, x, y: 0.5 * jnp.mean((x @ p - y) ** 2)
        >>> x = jnp.linspace(-1.0, 1.0, 24).reshape(2, 4, 3)  # 2 tasks, 4 examples, 3 features
        >>> tasks = amaml.Task(x, jnp.ones((2, 4)), x, jnp.ones((2, 4)))
        >>> value, grad = amaml.meta_value_and_grad(method, loss, jnp.zeros(3), tasks)
        >>> value.shape, grad.shape
        ((), (3,))

    References:
        Rajeswaran, Finn, Kakade, Levine, "Meta-Learning with Implicit Gradients",
        NeurIPS 2019.
    """

    steps: int = steps_option()
    step_size: float = step_size_option()
    prox: float = option(1.0, doc="proximal weight lambda > 0 of the inner loss (1, as in the paper)")
    cg_steps: int = option(5, doc="conjugate-gradient iterations for the implicit gradient (5, as in the paper)")
    unroll: int | None = unroll_option()
    inner_solver: ClassVar[AbstractSolver] = Euler()
    meta_prox: ClassVar[float] = 0.0  # the proximal term is in the inner loss only
    learnable: ClassVar[frozenset[str]] = frozenset({"shared"})

    def __post_init__(self) -> None:
        self._check_common()
        _validate.positive_float("prox", self.prox)
        _validate.positive_int("cg_steps", self.cg_steps)

    @property
    def inner_prox(self) -> float:
        """The inner objective's proximal weight, ``prox``."""
        return self.prox

    def value_and_meta_grad(self, loss: FlatLoss, meta: FlatMeta, task: Task, tasks: int = 1):
        flow = self.flow(loss, meta, task.support_x, task.support_y)
        u_final = self.adapt(loss, meta, task.support_x, task.support_y)
        value, outer, _, context_out = meta_loss_gradient(loss, meta, task, u_final, 0.0)
        # (I + H / lambda) v: flow.hvp includes +lambda v, so divide (H + lambda I) v by lambda.
        grad = conjugate_gradient(lambda v: flow.hvp(u_final, v) / self.prox, outer, self.cg_steps)
        # du*/dphi = -(H + lambda I)^{-1} M, and (H + lambda I)^{-1} outer = grad / lambda.
        context_in = None if meta.context_in is None else flow.field_vjp(u_final, grad / self.prox, False)[1].context
        return value, FlatMeta(grad, context_in=context_in, context_out=context_out)
