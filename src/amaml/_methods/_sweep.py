"""The base of both adjoint methods: a proximal flow, checkpoints, and the sweep."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from typing import Any

import jax
from jaxtyping import Array, Float

from .. import _validate
from .._flow import FlatLoss, GradientFlow, meta_objective
from .._task import Task
from .._trajectory import Checkpoints, Node, forward_and_sweep, node_bytes, resolve_checkpoints
from ._base import AbstractMetaMethod

BackwardStep = Callable[[GradientFlow, Any, Node, Node], Any]
"""``(flow, carry, node_j, node_{j+1}) -> carry`` over one step, from ``t_{j+1}`` to ``t_j``."""


@dataclasses.dataclass(frozen=True)
class AbstractAdjointMethod(AbstractMetaMethod):
    r"""A method that solves the inner flow forward and sweeps an adjoint backward.

    The inner objective and the meta-loss share the proximal weight ``prox``
    (:math:`\lambda`); ``checkpoints`` decides how the forward states are kept for the
    backward sweep (see :mod:`amaml._trajectory`).
    """

    prox: float = dataclasses.field(default=0.0, kw_only=True)
    checkpoints: Checkpoints = dataclasses.field(default="auto", kw_only=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        _validate.nonnegative_float("prox", self.prox)
        _validate.checkpoints("checkpoints", self.checkpoints)

    @property
    def inner_prox(self) -> float:
        return self.prox

    @property
    def meta_prox(self) -> float:
        return self.prox

    @property
    @abc.abstractmethod
    def keeps_vector_field(self) -> bool:
        """Whether the backward sweep needs ``f(u_j)`` at the nodes (dense output)."""

    def sweep(
        self,
        loss: FlatLoss,
        theta: Float[Array, " P"],
        task: Task,
        init_carry: Callable[[Float[Array, " P"], Float[Array, " P"]], Any],
        backward_step: BackwardStep,
    ) -> tuple[Float[Array, ""], Any]:
        """Solve forward, then sweep a reverse carry from ``t = T`` back to ``t = 0``.

        The terminal condition comes from differentiating the meta-loss ``J(u_K, theta)``:
        the carry starts at ``init_carry(dJ/du_K, dJ/dtheta)`` (``u_K`` fixed in the second).

        Returns:
            ``(J, carry at t = 0)``.
        """
        flow = self.flow(loss, theta, task.support_x, task.support_y)
        objective = meta_objective(loss, task.query_x, task.query_y, self.meta_prox)
        solver, h = self.inner_solver, self.step_size

        def forward_step(u):
            return solver.step(flow.stage_field, u, h)

        def terminal(u_final):
            value, (adjoint, explicit) = jax.value_and_grad(objective, argnums=(0, 1))(u_final, theta)
            return value, init_carry(adjoint, explicit)

        def step(carry, left, right):
            return backward_step(flow, carry, left, right)

        keep = self.keeps_vector_field
        scheme = resolve_checkpoints(self.checkpoints, self.steps, node_bytes(theta, keep))
        return forward_and_sweep(
            forward_step, flow.vector_field, step, terminal, theta, self.steps, scheme, keep
        )
