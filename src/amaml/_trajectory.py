r"""Forward trajectories and the reverse sweep over them, stored or checkpointed.

A reverse sweep visits the steps :math:`j = K-1, \dots, 0` and needs, at step :math:`j`,
the *nodes* at both ends of the step: the states :math:`u_j, u_{j+1}` and (for dense
output) the vector-field values :math:`f_j, f_{j+1}`.

* ``checkpoints=None`` stores all :math:`K + 1` nodes: memory :math:`O(K P)`.
* ``checkpoints=c`` stores at most ``c`` segment-start states. During the sweep each
  segment of :math:`L = \lceil K / c \rceil` steps is recomputed from its start and swept.
  Memory :math:`O((c + L) P)`, minimal near :math:`c = \sqrt K`; the cost is one extra
  forward solve. The recomputation runs the same operations on the same inputs as the
  forward pass, so results agree with the stored sweep to rounding.
* ``checkpoints="auto"`` stores everything while the stored nodes take at most
  :data:`AUTO_STORE_BYTES` per task, and otherwise uses :math:`\lceil\sqrt K\rceil`
  checkpoints, so extra memory is sublinear in :math:`K` for large models.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

AUTO_STORE_BYTES = 16 * 2**20
"""Per-task trajectory budget (bytes) under which ``checkpoints="auto"`` stores every node."""

Checkpoints = int | None | Literal["auto"]


class Node(NamedTuple):
    """A grid point of the forward solution: the state and, if kept, the field value."""

    u: Float[Array, " P"]
    f: Float[Array, " P"] | None


ForwardStep = Callable[[Float[Array, " P"]], tuple[Float[Array, " P"], Float[Array, " P"]]]
"""``u_j -> (u_{j+1}, f(u_j))``: one solver step returning the field at its start."""

BackwardStep = Callable[[Any, Node, Node], Any]
"""``(carry, node_j, node_{j+1}) -> carry``: one reverse step over ``[t_j, t_{j+1}]``."""


def hermite(left: Node, right: Node, h: float, s: float) -> Float[Array, " P"]:
    r"""Cubic Hermite interpolant of the state at :math:`t_j + s h`, :math:`s \in [0, 1]`.

    Uses both states and both derivatives; the interpolation error is :math:`O(h^4)`,
    which keeps a fourth-order backward sweep fourth order.
    """
    if s == 0.0:
        return left.u
    if s == 1.0:
        return right.u
    h00 = 2 * s**3 - 3 * s**2 + 1
    h10 = s**3 - 2 * s**2 + s
    h01 = -2 * s**3 + 3 * s**2
    h11 = s**3 - s**2
    return h00 * left.u + (h10 * h) * left.f + h01 * right.u + (h11 * h) * right.f


def resolve_checkpoints(checkpoints: Checkpoints, steps: int, nodes_bytes: int) -> int | None:
    """Turn the user's setting into ``None`` (store all) or a number of checkpoints.

    ``nodes_bytes`` is the memory of one stored node for one task.
    """
    if checkpoints == "auto":
        if (steps + 1) * nodes_bytes <= AUTO_STORE_BYTES:
            return None
        checkpoints = math.isqrt(steps - 1) + 1  # ceil(sqrt(steps))
    if checkpoints is None or checkpoints >= steps:
        return None
    return checkpoints


def _solve(forward_step: ForwardStep, u0, length: int, keep: bool, keep_field: bool):
    """Run ``length`` steps; optionally return the nodes at the start of each step."""

    def body(u, _):
        u_next, f = forward_step(u)
        if not keep:
            return u_next, None
        return u_next, Node(u, f if keep_field else None)

    return jax.lax.scan(body, u0, None, length=length)


def _sweep(backward_step: BackwardStep, carry, nodes: Node, right: Node):
    """Reverse sweep over stored nodes ending at ``right``; returns the carry at the start."""

    def body(state, left):
        inner, right_node = state
        return (backward_step(inner, left, right_node), left), None

    (carry, _), _ = jax.lax.scan(body, (carry, right), nodes, reverse=True)
    return carry


class Plan(NamedTuple):
    """A split of ``steps`` into a leading remainder segment and ``count`` equal segments."""

    remainder: int
    length: int
    count: int


def plan_segments(steps: int, checkpoints: int) -> Plan:
    length = -(-steps // checkpoints)
    count = steps // length
    return Plan(steps - count * length, length, count)


def forward_and_sweep(
    forward_step: ForwardStep,
    vector_field: Callable[[Float[Array, " P"]], Float[Array, " P"]],
    backward_step: BackwardStep,
    terminal: Callable[[Float[Array, " P"]], tuple[Any, Any]],
    u0: Float[Array, " P"],
    steps: int,
    checkpoints: int | None,
    keep_field: bool,
) -> tuple[Any, Any]:
    """Solve forward from ``u0``, then sweep backward from the terminal condition.

    Args:
        forward_step: one solver step (see :data:`ForwardStep`).
        vector_field: ``f(u)``; evaluated once at the final state when ``keep_field``.
        backward_step: one reverse step (see :data:`BackwardStep`).
        terminal: ``u_K -> (aux, carry_K)``; ``aux`` is returned unchanged.
        u0: the initial state.
        steps: ``K``.
        checkpoints: ``None`` to store every node, else the number of checkpoints (from
            :func:`resolve_checkpoints`).
        keep_field: whether nodes carry the vector-field value (dense output).

    Returns:
        ``(aux, carry_0)``.
    """

    def end_node(u):
        return Node(u, vector_field(u) if keep_field else None)

    if checkpoints is None:
        u_final, nodes = _solve(forward_step, u0, steps, True, keep_field)
        aux, carry = terminal(u_final)
        return aux, _sweep(backward_step, carry, nodes, end_node(u_final))

    plan = plan_segments(steps, checkpoints)
    u_first = _solve(forward_step, u0, plan.remainder, False, False)[0] if plan.remainder else u0

    def forward_segment(u, _):
        return _solve(forward_step, u, plan.length, False, False)[0], u

    u_final, starts = jax.lax.scan(forward_segment, u_first, None, length=plan.count)
    aux, carry = terminal(u_final)

    def backward_segment(state, start):
        inner, right = state
        _, nodes = _solve(forward_step, start, plan.length, True, keep_field)
        inner = _sweep(backward_step, inner, nodes, right)
        return (inner, jax.tree_util.tree_map(lambda leaf: leaf[0], nodes)), None

    (carry, right), _ = jax.lax.scan(
        backward_segment, (carry, end_node(u_final)), starts, reverse=True
    )
    if plan.remainder:
        _, nodes = _solve(forward_step, u0, plan.remainder, True, keep_field)
        carry = _sweep(backward_step, carry, nodes, right)
    return aux, carry


def node_bytes(theta: Float[Array, " P"], keep_field: bool) -> int:
    """Bytes of one stored node for one task."""
    return theta.size * jnp.dtype(theta.dtype).itemsize * (2 if keep_field else 1)
