r"""The inner problem of one task as a gradient flow, and its derivatives.

For a task with support set :math:`(x, y)`, flat parameters :math:`u \in \mathbb{R}^P`,
meta-parameters :math:`\theta` and proximal weight :math:`\lambda \ge 0`, the inner
objective is

.. math::
    L_\mathrm{in}(u; \theta) = L_\mathrm{tr}(u) + \tfrac{\lambda}{2} \lVert u - \theta \rVert^2

and the gradient flow is :math:`u' = f(u) = -\nabla_u L_\mathrm{in}(u; \theta)`.
Its Jacobian is :math:`\partial f/\partial u = -(H(u) + \lambda I)` with :math:`H` the
Hessian of :math:`L_\mathrm{tr}`; it is symmetric, so Jacobian-transpose products are
Hessian-vector products.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._scan import time_scan
from ._solvers import AbstractSolver

FlatLoss = Callable[[Float[Array, " P"], Array, Array], Float[Array, ""]]
"""``loss(u, x, y) -> scalar`` on a flat parameter vector."""


@dataclasses.dataclass(frozen=True)
class GradientFlow:
    """The inner gradient flow of one task (see the module docstring for the maths)."""

    loss: FlatLoss
    x: Array
    y: Array
    theta: Float[Array, " P"]
    prox: float = 0.0

    def train_loss(self, u: Float[Array, " P"]) -> Float[Array, ""]:
        return self.loss(u, self.x, self.y)

    def vector_field(self, u: Float[Array, " P"]) -> Float[Array, " P"]:
        """:math:`f(u) = -\\nabla L_\\mathrm{tr}(u) - \\lambda (u - \\theta)`."""
        grad = jax.grad(self.train_loss)(u)
        if self.prox:
            grad = grad + self.prox * (u - self.theta)
        return -grad

    def hvp(self, u: Float[Array, " P"], v: Float[Array, " P"]) -> Float[Array, " P"]:
        """:math:`(H(u) + \\lambda I) v`, by forward-over-reverse differentiation."""
        _, hv = jax.jvp(jax.grad(self.train_loss), (u,), (v,))
        if self.prox:
            hv = hv + self.prox * v
        return hv

    def jacobian_transpose(self, u: Float[Array, " P"], v: Float[Array, " P"]) -> Float[Array, " P"]:
        """:math:`(\\partial f/\\partial u)^\\top v = -(H(u) + \\lambda I) v`."""
        return -self.hvp(u, v)

    def stage_field(self, _c: float, u: Float[Array, " P"]) -> Float[Array, " P"]:
        """The autonomous field in the solver's ``field(c, y)`` form."""
        return self.vector_field(u)


def integrate(
    solver: AbstractSolver, flow: GradientFlow, steps: int, step_size: float, unroll: int | None
) -> Float[Array, " P"]:
    """Integrate the flow from ``theta`` for ``steps`` steps; O(1) memory, no trajectory.

    ``unroll`` is the steps per scan iteration (``None``: by backend, see :mod:`amaml._scan`).
    """

    def body(u, _):
        return solver.step(flow.stage_field, u, step_size)[0], None

    u_final, _ = time_scan(body, flow.theta, length=steps, unroll=unroll)
    return u_final


def meta_objective(
    loss: FlatLoss, query_x: Array, query_y: Array, prox: float
) -> Callable[[Float[Array, " P"], Float[Array, " P"]], Float[Array, ""]]:
    r"""``(u_T, theta) -> L_val(u_T) + (lambda/2) ||u_T - theta||^2``.

    The proximal term belongs to the meta-loss of the proximal variant (spec section 1);
    with ``prox = 0`` this is the validation loss alone.
    """

    def objective(u_final, theta):
        value = loss(u_final, query_x, query_y)
        if prox:
            value = value + 0.5 * prox * jnp.sum((u_final - theta) ** 2)
        return value

    return objective
