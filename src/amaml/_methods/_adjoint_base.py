"""The base of both adjoint methods: a proximal flow, checkpoints, and the sweep."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree

from .. import _validate
from .._checkpoints import CheckpointPlan, Checkpoints, node_bytes, plan, resolve_checkpoints
from .._fields import option
from .._flow import FlatLoss, FlatMeta, GradientFlow
from .._solvers import AbstractSolver
from .._sweep import Node, forward_and_sweep
from .._task import Task
from ._base import SOLVERS, AbstractMetaMethod, meta_loss_gradient

BackwardStep = Callable[[GradientFlow, Any, Node, Node], Any]
"""``(flow, carry, node_j, node_{j+1}) -> carry`` over one step, from ``t_{j+1}`` to ``t_j``."""


class Terminal(NamedTuple):
    """What the sweep learns at ``t = T`` besides the initial carry.

    Attributes:
        value: the meta-loss :math:`J`.
        context: :math:`\\partial J/\\partial c_\\mathrm{out}` (the query loss's context), or ``None``.
        slope: :math:`a(T) \\cdot f(u(T))`, the continuous :math:`dJ/dT`, when a horizon is learned.
    """

    value: Float[Array, ""]
    context: PyTree | None
    slope: Float[Array, ""] | None


class AbstractAdjointMethod(AbstractMetaMethod):
    r"""A method that solves the inner flow forward and sweeps an adjoint backward.

    No fields: the final classes declare them. The inner objective and the meta-loss share
    the proximal weight ``prox`` (:math:`\lambda`), the inner loop is the ``forward``
    scheme, and ``checkpoints`` with ``memory_budget`` decides how the forward states are
    kept for the backward sweep (see :mod:`amaml._checkpoints` and
    :func:`amaml.checkpoint_plan`).

    Abstract attributes (beyond :class:`AbstractMetaMethod`'s):
        forward: the forward scheme, which is the inner solver.
        prox: proximal weight :math:`\lambda \ge 0` of both the inner loss and the meta-loss.
        checkpoints: ``None``, an integer, or ``"auto"`` (see :mod:`amaml._checkpoints`).
        memory_budget: bytes the whole meta-batch's stored states may take under
            ``checkpoints="auto"`` before it checkpoints; ``None``: a quarter of the device's
            memory (:func:`amaml._checkpoints.default_memory_budget`).
        keeps_vector_field: whether the backward sweep needs ``f(u_j)`` at the nodes
            (dense output).
    """

    forward: AbstractSolver
    prox: float
    checkpoints: Checkpoints
    memory_budget: int | None
    keeps_vector_field: bool

    def _check_adjoint(self) -> None:
        """The checks of the shared adjoint options; each final ``__post_init__`` calls it."""
        self._check_common()
        _validate.instance_of("forward", self.forward, AbstractSolver, SOLVERS)
        _validate.nonnegative_float("prox", self.prox)
        _validate.checkpoints("checkpoints", self.checkpoints)
        _validate.optional_positive_int("memory_budget", self.memory_budget)

    @property
    def inner_solver(self) -> AbstractSolver:
        """The forward scheme."""
        return self.forward

    @property
    def inner_prox(self) -> float:
        return self.prox

    @property
    def meta_prox(self) -> float:
        return self.prox

    def checkpoint_plan(self, theta: Float[Array, " P"], tasks: int = 1) -> CheckpointPlan:
        """What the sweep keeps of the forward trajectory for flat parameters ``theta`` and ``tasks`` tasks."""
        return plan(self._scheme(theta, tasks), self.steps, node_bytes(theta, self.keeps_vector_field), tasks)

    def _scheme(self, theta: Float[Array, " P"], tasks: int):
        """The resolved checkpointing scheme (``None``: every node stored); one place for the plan and the sweep."""
        nbytes = node_bytes(theta, self.keeps_vector_field)
        return resolve_checkpoints(self.checkpoints, self.steps, nbytes, self.memory_budget, tasks)

    def sweep(
        self,
        loss: FlatLoss,
        meta: FlatMeta,
        task: Task,
        init_carry: Callable[[Float[Array, " P"], Float[Array, " P"]], Any],
        backward_step: BackwardStep,
        tasks: int = 1,
    ) -> tuple[Terminal, Any]:
        """Solve forward, then sweep a reverse carry from ``t = T`` back to ``t = 0``.

        ``tasks`` is the size of the meta-batch this task is swept in, which shares
        ``memory_budget``.

        The terminal condition comes from differentiating the meta-loss ``J(u_K, theta)``:
        the carry starts at ``init_carry(dJ/du_K, dJ/dtheta)`` (``u_K`` fixed in the second).

        Returns:
            ``(Terminal, carry at t = 0)``.
        """
        theta = meta.theta
        flow = self.flow(loss, meta, task.support_x, task.support_y)
        solver, h = self.inner_solver, self.inner_step(meta)

        def forward_step(u):
            return solver.step(flow.stage_field, u, h)

        def terminal(u_final):
            value, adjoint, explicit, context = meta_loss_gradient(loss, meta, task, u_final, self.meta_prox)
            slope = None if meta.horizon is None else jnp.vdot(adjoint, flow.vector_field(u_final))
            return Terminal(value, context, slope), init_carry(adjoint, explicit)

        def step(carry, left, right):
            return backward_step(flow, carry, left, right)

        return forward_and_sweep(
            forward_step,
            flow.vector_field,
            step,
            terminal,
            theta,
            self.steps,
            self._scheme(theta, tasks),
            self.keeps_vector_field,
            self.unroll,
        )


def prox_option():
    return option(0.0, doc="proximal weight lambda >= 0 of the inner loss and the meta-loss; 0: none")


def checkpoints_option():
    return option(
        "auto",
        doc="stored states: None (all K+1), an integer c (at most c, one extra solve), "
        'or "auto" (all within memory_budget, else recursive)',
    )


def memory_budget_option():
    return option(
        None,
        doc='bytes the whole meta-batch may spend storing states under checkpoints="auto"; '
        "None: a quarter of the device's memory",
    )
