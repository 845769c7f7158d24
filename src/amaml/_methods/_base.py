"""The meta-gradient method concept."""

from __future__ import annotations

import abc

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree

from .. import _validate
from .._fields import option
from .._flow import FlatLoss, FlatMeta, GradientFlow, as_flat_meta, integrate, meta_objective
from .._solvers import AbstractSolver
from .._task import Task

SOLVERS = "amaml.Euler(), amaml.Heun(), amaml.RK4()"


class AbstractMetaMethod(abc.ABC):
    r"""A way to compute the meta-gradient of one task; immutable and hashable.

    Every method adapts the meta-parameters :math:`\theta` to a task by ``steps`` steps of
    size ``step_size`` of some discretisation of the inner gradient flow
    :math:`u' = -\nabla L_\mathrm{tr}(u)` (possibly proximal), and defines a meta-loss
    :math:`J(\theta)` on the query set at the adapted parameters. Methods differ in the
    inner dynamics and in which (exact or approximate) gradient of :math:`J` they return.

    Sign convention: every gradient returned is the gradient of the meta-loss, i.e. a
    *descent* direction is its negative, as with ``jax.grad``.

    The concept follows equinox's abstract/final rule: this class has no fields and no
    ``__init__``; every concrete method is a ``@final`` frozen dataclass that provides each
    abstract attribute below (as a dataclass field, a ``ClassVar`` or its own property)
    and implements :meth:`value_and_meta_grad` on flat parameters (:class:`~amaml._flow.FlatMeta`).
    Nothing concrete here is overridden.

    Meta-parameters inside the flow (:class:`amaml.MetaParams`): rates :math:`r` scale the
    field elementwise, a horizon :math:`T` sets the step to ``T / steps``, and shared
    parameters enter the loss; every method runs its inner loop with them, and
    ``learnable`` says which of them its gradient covers.

    Abstract attributes:
        steps: number of inner steps ``K`` (positional, first).
        step_size: inner step ``h`` (positional, second).
        unroll: steps per scan iteration of the time loops; ``None`` picks by backend (1
            on CPU, 8 elsewhere). Changes speed and compile time, not the result (beyond
            rounding).
        inner_solver: the scheme of the inner loop (``Euler()`` is gradient descent).
        inner_prox: the proximal weight :math:`\lambda` of the inner objective.
        meta_prox: the proximal weight in the meta-loss
            :math:`L_\mathrm{val}(u_T) + \tfrac\lambda2\lVert u_T-\theta\rVert^2`.
        learnable: the :class:`amaml.MetaParams` fields beyond ``init`` (``"shared"``,
            ``"rates"``, ``"horizon"``) whose gradient the method returns.

    Example:
        >>> import amaml
        >>> method = amaml.MAML(5, 0.1)
        >>> isinstance(method, amaml.AbstractMetaMethod), round(method.horizon, 3)
        (True, 0.5)
        >>> sorted(amaml.Reptile(5, 0.1).learnable), method.inner_solver
        (['shared'], Euler())
    """

    steps: int
    step_size: float
    unroll: int | None
    inner_solver: AbstractSolver
    inner_prox: float
    meta_prox: float
    learnable: frozenset[str]

    def _check_common(self) -> None:
        """The checks of the shared options; each final ``__post_init__`` calls it first."""
        _validate.positive_int("steps", self.steps)
        _validate.positive_float("step_size", self.step_size)
        _validate.optional_positive_int("unroll", self.unroll)

    @property
    def horizon(self) -> float:
        """The inner time horizon ``T = steps * step_size`` (without a learned horizon)."""
        return self.steps * self.step_size

    def inner_step(self, meta: FlatMeta | Float[Array, " P"]):
        """The inner step: ``step_size``, or ``T / steps`` with a learned horizon ``T``.

        Args:
            meta: one task's flat meta-parameters, or a bare flat initialisation ``theta`` ``(P,)``
                (no horizon).

        Returns:
            ``step_size`` (a Python float) without a horizon, else ``meta.horizon / steps`` (a scalar array).
        """
        horizon = as_flat_meta(meta).horizon
        return self.step_size if horizon is None else horizon / self.steps

    def flow(self, loss: FlatLoss, meta: FlatMeta | Float[Array, " P"], x: Array, y: Array) -> GradientFlow:
        r"""The inner gradient flow of a task with support set ``(x, y)``.

        Args:
            loss: the flat task loss ``loss(u, x, y)`` (``loss(u, c, x, y)`` with a context).
            meta: one task's flat meta-parameters, or a bare flat initialisation ``theta`` ``(P,)``.
            x, y: the support set, shapes ``(n, ...)`` (no task axis).

        Returns:
            The flow :math:`u' = -r \odot (\nabla_u L_\mathrm{tr}(u; c_\mathrm{in}) + \lambda (u - \theta))`
            with :math:`\lambda` = ``inner_prox``, the proximal centre :math:`\theta` = ``meta.theta``,
            :math:`r` = ``meta.rates`` (none: 1) and :math:`c_\mathrm{in}` = ``meta.context_in``.
        """
        meta = as_flat_meta(meta)
        return GradientFlow(loss, x, y, meta.theta, self.inner_prox, meta.rates, meta.context_in)

    def adapt(self, loss: FlatLoss, meta: FlatMeta | Float[Array, " P"], x: Array, y: Array) -> Float[Array, " P"]:
        """Run the method's inner loop from ``theta`` on ``(x, y)``; returns ``u_K``.

        ``steps`` steps of ``inner_solver`` of size :meth:`inner_step` on :meth:`flow`, from
        ``u_0 = meta.theta``; memory does not grow with ``steps`` (no trajectory is kept).

        Args:
            loss, meta, x, y: as for :meth:`flow`.

        Returns:
            The adapted flat parameters ``u_K``, shape ``(P,)``.
        """
        flow = self.flow(loss, meta, x, y)
        return integrate(self.inner_solver, flow, self.steps, self.inner_step(meta), self.unroll)

    def value(self, loss: FlatLoss, meta: FlatMeta | Float[Array, " P"], task: Task) -> Float[Array, ""]:
        r"""The method's meta-loss of one task (no gradient).

        Args:
            loss, meta: as for :meth:`flow`.
            task: one task, unbatched (arrays ``(n_support, ...)`` and ``(n_query, ...)``).

        Returns:
            The scalar :math:`J = L_\mathrm{val}(u_K; c_\mathrm{out}) + \tfrac\lambda2\lVert u_K - \theta\rVert^2`
            on the query set at ``u_K`` = :meth:`adapt` on the support set, with :math:`\lambda` =
            ``meta_prox`` (0 except for the adjoint methods' ``prox``).
        """
        meta = as_flat_meta(meta)
        u_final = self.adapt(loss, meta, task.support_x, task.support_y)
        return meta_objective(loss, task.query_x, task.query_y, self.meta_prox)(u_final, meta.theta, meta.context_out)

    def value_and_grad(
        self, loss: FlatLoss, theta: Float[Array, " P"], task: Task
    ) -> tuple[Float[Array, ""], Float[Array, " P"]]:
        """The meta-loss of one (unbatched) task and the method's gradient of it (plain case).

        :meth:`value_and_meta_grad` with the initialisation alone (``FlatMeta(theta)``) and
        ``tasks = 1``.

        Args:
            loss: the flat task loss ``loss(u, x, y)``.
            theta: the flat initialisation, shape ``(P,)``.
            task: one task, unbatched.

        Returns:
            ``(J, g)``: the scalar meta-loss (as :meth:`value`) and the method's gradient of it with
            respect to ``theta``, shape ``(P,)`` (a descent direction is ``-g``).
        """
        value, grads = self.value_and_meta_grad(loss, FlatMeta(theta), task)
        return value, grads.theta

    @abc.abstractmethod
    def value_and_meta_grad(
        self, loss: FlatLoss, meta: FlatMeta, task: Task, tasks: int = 1
    ) -> tuple[Float[Array, ""], FlatMeta]:
        r"""The meta-loss of one (unbatched) task and the method's gradient of it, every field set in ``meta``.

        The meta-loss is :math:`J(\theta) = L_\mathrm{val}(u_K(\theta))` (plus
        :math:`\tfrac\lambda2\lVert u_K-\theta\rVert^2` with ``meta_prox`` :math:`\lambda`), ``u_K`` the
        method's inner loop (:meth:`adapt`) on the support set; the gradient is exact or approximate as
        the method's docstring says (Reptile's is a direction, not a gradient), and a descent direction
        is its negative. :func:`amaml.meta_value_and_grad` calls this once per task, under ``vmap``.

        Args:
            loss: the flat task loss ``loss(u, x, y)``, or ``loss(u, c, x, y)`` when ``meta`` has a context.
            meta: the task's flat meta-parameters; ``None`` fields are not meta-learned, and fields
                outside ``learnable`` are never set (the callers reject them first).
            task: one task, unbatched: ``support_x`` ``(n_support, ...)``, ``query_x`` ``(n_query, ...)``.
            tasks: the size of the meta-batch the task belongs to (the adjoint methods share their
                ``memory_budget`` over it; the others ignore it).

        Returns:
            ``(J, grads)``: the scalar meta-loss and a :class:`~amaml._flow.FlatMeta` of the gradient of
            every field set in ``meta`` (``theta`` and ``rates`` ``(P,)``, ``horizon`` a scalar,
            ``context_in`` and ``context_out`` shaped like the contexts), ``None`` elsewhere.
        """


def meta_loss_gradient(loss: FlatLoss, meta: FlatMeta, task: Task, u_final: Float[Array, " P"], prox: float):
    r"""The meta-loss at ``u_final`` and its partial derivatives, ``u_K`` held fixed in each.

    For :math:`J(u_K, \theta, c) = L_\mathrm{val}(u_K; c) + \tfrac\lambda2\lVert u_K - \theta\rVert^2`
    (``prox`` = :math:`\lambda`, ``c`` = ``meta.context_out``) returns
    ``(J, dJ/du_K, dJ/dtheta, dJ/dc)``, the last ``None`` without a context.
    """
    objective = meta_objective(loss, task.query_x, task.query_y, prox)
    if meta.context_out is None:
        value, (adjoint, explicit) = jax.value_and_grad(objective, argnums=(0, 1))(u_final, meta.theta)
        return value, adjoint, explicit, None
    value, (adjoint, explicit, context) = jax.value_and_grad(objective, argnums=(0, 1, 2))(
        u_final, meta.theta, meta.context_out
    )
    return value, adjoint, explicit, context


def zeros_or_none(tree: PyTree | None) -> PyTree | None:
    """Zeros shaped like ``tree`` (an accumulator's start, or a field with no first-order gradient), or ``None``."""
    return None if tree is None else jax.tree_util.tree_map(jnp.zeros_like, tree)


def add_or_none(total: PyTree | None, term: PyTree | None) -> PyTree | None:
    """``total + term`` leafwise; ``None`` stays ``None``."""
    return None if total is None else jax.tree_util.tree_map(jnp.add, total, term)


def steps_option():
    """The ``steps`` field, positional, shared wording."""
    return option(doc="number of inner steps K (positive integer)", kw_only=False)


def step_size_option():
    """The ``step_size`` field, positional, shared wording."""
    return option(doc="inner step size h > 0 (the inner learning rate, for Euler)", kw_only=False)


ALL_FIELDS = frozenset({"shared", "rates", "horizon"})
"""Every meta-parameter field beyond ``init``."""


def unroll_option():
    """The ``unroll`` field, keyword-only, shared wording."""
    return option(None, doc="steps per scan iteration of the time loops; None: by backend (1 on CPU, 8 elsewhere)")
