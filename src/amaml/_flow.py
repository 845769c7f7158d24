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

With meta-parameters inside the flow (:class:`amaml.MetaParams`), the field is
:math:`f(u; c, r) = -r \odot \nabla_u L_\mathrm{in}(u; c, \theta)`: elementwise rates
:math:`r > 0` and a context :math:`c` (the shared parameters, or the support features of a
:class:`amaml.FeatureLoss`) that the loss takes as ``loss(u, c, x, y)``. Every adjoint needs
the same vector-Jacobian product of :math:`f` (:meth:`GradientFlow.field_vjp`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree

from ._scan import time_scan
from ._solvers import AbstractSolver

FlatLoss = Callable[[Float[Array, " P"], Array, Array], Float[Array, ""]]
"""``loss(u, x, y) -> scalar`` on a flat parameter vector; with a context, ``loss(u, c, x, y)``."""


class FieldCotangent(NamedTuple):
    r"""The parameter part of :math:`(\partial f/\partial p)^\top v` for the flow's parameters ``p``.

    Attributes:
        centre: ``v`` itself; the proximal centre's cotangent is :math:`\lambda\, r \odot` its
            sum (kept unscaled so that the plain path rounds as it always did).
        rates: :math:`-v \odot \nabla_u L_\mathrm{in}(u)`, or ``None`` when not asked for.
        context: :math:`-(\partial \nabla_u L / \partial c)^\top (r \odot v)`, or ``None``
            without a context.
    """

    centre: Float[Array, " P"]
    rates: Float[Array, " P"] | None
    context: PyTree | None


@dataclasses.dataclass(frozen=True)
class GradientFlow:
    """The inner gradient flow of one task (see the module docstring for the maths).

    ``rates`` (flat, elementwise) and ``context`` are ``None`` for the plain flow.
    """

    loss: FlatLoss
    x: Array
    y: Array
    theta: Float[Array, " P"]
    prox: float = 0.0
    rates: Float[Array, " P"] | None = None
    context: PyTree | None = None

    def _loss(self, u: Float[Array, " P"], context: PyTree | None) -> Float[Array, ""]:
        if self.context is None:
            return self.loss(u, self.x, self.y)
        return self.loss(u, context, self.x, self.y)

    def train_loss(self, u: Float[Array, " P"]) -> Float[Array, ""]:
        return self._loss(u, self.context)

    def _scaled(self, v: Float[Array, " P"]) -> Float[Array, " P"]:
        return v if self.rates is None else self.rates * v

    def vector_field(self, u: Float[Array, " P"]) -> Float[Array, " P"]:
        """:math:`f(u) = -r \\odot (\\nabla L_\\mathrm{tr}(u) + \\lambda (u - \\theta))`."""
        grad = jax.grad(self.train_loss)(u)
        if self.prox:
            grad = grad + self.prox * (u - self.theta)
        return -self._scaled(grad)

    def hvp(self, u: Float[Array, " P"], v: Float[Array, " P"]) -> Float[Array, " P"]:
        """:math:`(H(u) + \\lambda I) v`, by forward-over-reverse differentiation."""
        _, hv = jax.jvp(jax.grad(self.train_loss), (u,), (v,))
        if self.prox:
            hv = hv + self.prox * v
        return hv

    def jacobian_transpose(self, u: Float[Array, " P"], v: Float[Array, " P"]) -> Float[Array, " P"]:
        """:math:`(\\partial f/\\partial u)^\\top v = -(H(u) + \\lambda I)(r \\odot v)`."""
        return -self.hvp(u, self._scaled(v))

    def field_vjp(
        self, u: Float[Array, " P"], v: Float[Array, " P"], rates: bool
    ) -> tuple[Float[Array, " P"], FieldCotangent]:
        """:math:`(\\partial f/\\partial u)^\\top v` and the parameters' part (:class:`FieldCotangent`).

        One linearisation of :math:`\\nabla_u L` at ``u`` gives all of them: forward-over-reverse
        without a context (as :meth:`hvp`), reverse-over-reverse with one (the context's
        cotangent needs the transpose of the mixed derivative). ``rates`` asks for the rate part.
        """
        w = self._scaled(v)
        if self.context is None:
            grad, hw = jax.jvp(jax.grad(self.train_loss), (u,), (w,))
            context = None
        else:
            grad, pullback = jax.vjp(jax.grad(self._loss), u, self.context)
            hw, context = pullback(w)
            context = jax.tree_util.tree_map(jnp.negative, context)
        if self.prox:
            hw = hw + self.prox * w
            grad = grad + self.prox * (u - self.theta)
        return -hw, FieldCotangent(v, -v * grad if rates else None, context)

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


def meta_objective(loss: FlatLoss, query_x: Array, query_y: Array, prox: float) -> Callable[..., Float[Array, ""]]:
    r"""``(u_T, theta, context=None) -> L_val(u_T) + (lambda/2) ||u_T - theta||^2``.

    The proximal term belongs to the meta-loss of the proximal variant (spec section 1);
    with ``prox = 0`` this is the validation loss alone. With a ``context`` the loss is
    called as ``loss(u_T, context, x, y)``.
    """

    def objective(u_final, theta, context=None):
        value = loss(u_final, query_x, query_y) if context is None else loss(u_final, context, query_x, query_y)
        if prox:
            value = value + 0.5 * prox * jnp.sum((u_final - theta) ** 2)
        return value

    return objective


class FlatMeta(NamedTuple):
    r"""One task's meta-parameters as the methods see them: flat, with the context resolved.

    ``None`` marks a field that is not meta-learned. A method's gradient of the meta-loss
    comes back in the same structure (the cotangent of every field that is set).

    Attributes:
        theta: the initialisation :math:`u(0)`, flat ``(P,)``.
        rates: elementwise rates :math:`r`, flat ``(P,)`` (per-leaf rates already broadcast).
        horizon: the horizon :math:`T`, a scalar; the inner step is then ``T / steps``.
        context_in: what the support loss takes as ``loss(u, c, x, y)``: the shared
            parameters, or the support features of a :class:`amaml.FeatureLoss`.
        context_out: the same for the query loss (the meta-loss).
    """

    theta: Float[Array, " P"]
    rates: Float[Array, " P"] | None = None
    horizon: Float[Array, ""] | None = None
    context_in: PyTree | None = None
    context_out: PyTree | None = None


def as_flat_meta(meta: FlatMeta | Float[Array, " P"]) -> FlatMeta:
    """A bare flat vector is the plain case: the initialisation alone."""
    return meta if isinstance(meta, FlatMeta) else FlatMeta(meta)
