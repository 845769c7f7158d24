r"""Forward trajectories and the reverse sweep over them, stored or checkpointed.

A reverse sweep visits the steps :math:`j = K-1, \dots, 0` and needs, at step :math:`j`,
the *nodes* at both ends of the step: the states :math:`u_j, u_{j+1}` and (for dense
output) the vector-field values :math:`f_j, f_{j+1}`.

* ``checkpoints=None`` stores all :math:`K + 1` nodes: memory :math:`O(K P)`.
* ``checkpoints=c`` stores at most ``c`` segment-start states. During the sweep each
  segment of :math:`L = \lceil K / c \rceil` steps is recomputed from its start and swept.
  Memory :math:`O((c + L) P)`, minimal near :math:`c = \sqrt K`; the cost is one extra
  forward solve.
* ``checkpoints="auto"`` stores every node while they take at most
  :data:`AUTO_STORE_BYTES` per task. Beyond that it checkpoints recursively: a segment
  longer than ``b`` steps is split into at most ``b`` sub-segments whose start states are
  stored, and each sub-segment is recomputed and treated the same way during the sweep.
  With ``m`` levels (:math:`b^m \ge K`) memory is about :math:`m b` nodes and the cost is
  ``m - 1`` extra forward solves; ``b`` and ``m`` are the cheapest pair that fits the
  budget, or minimise the memory (about :math:`e \ln K` nodes) when none does. Memory is
  therefore bounded, up to a logarithm, whatever ``K``.

Every recomputation runs the same operations on the same inputs as the forward pass, so
checkpointed and stored sweeps agree to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._scan import time_scan

AUTO_STORE_BYTES = 16 * 2**20
"""Per-task trajectory budget (bytes) of ``checkpoints="auto"``."""

Checkpoints = int | None | Literal["auto"]


class Node(NamedTuple):
    """A grid point of the forward solution: the state and, if kept, the field value."""

    u: Float[Array, " P"]
    f: Float[Array, " P"] | None


class Scheme(NamedTuple):
    """Recursive checkpointing with uniform segments.

    The trajectory is laid out on ``branch ** depth * leaf >= K`` slots; the first
    ``slots - K`` are padding steps that do nothing (skipped with ``lax.cond``, whose
    predicate depends on the step index only, so it stays a branch under ``vmap``).
    Level ``k`` splits a segment of ``branch ** (depth - k) * leaf`` slots into ``branch``
    parts and stores their start states; the deepest level stores all ``leaf + 1`` nodes.
    Each level is traced once, so compile time grows with ``depth``, not with ``K``.
    """

    branch: int
    depth: int
    leaf: int

    @property
    def slots(self) -> int:
        return self.branch**self.depth * self.leaf

    @property
    def nodes(self) -> int:
        """States held at once during the sweep, about ``depth * branch + leaf``."""
        return self.depth * self.branch + self.leaf + 1

    @classmethod
    def fit(cls, steps: int, branch: int, depth: int) -> "Scheme":
        """The shortest leaf that covers ``steps`` with this branching."""
        return cls(branch, depth, -(-steps // branch**depth))


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


def _auto_scheme(steps: int, budget_nodes: int) -> Scheme:
    """The fewest levels whose nodes fit the budget, else the scheme with the fewest nodes."""
    candidates = []
    for depth in range(1, max(1, math.ceil(math.log2(steps)))):
        branch = max(2, math.ceil(steps ** (1.0 / (depth + 1)) - 1e-9))
        scheme = Scheme.fit(steps, branch, depth)
        if scheme.nodes <= budget_nodes:
            return scheme
        candidates.append((scheme.nodes, depth, scheme))
    return min(candidates)[2]


def resolve_checkpoints(checkpoints: Checkpoints, steps: int, nodes_bytes: int) -> Scheme | None:
    """Turn the user's setting into ``None`` (store every node) or a :class:`Scheme`.

    ``nodes_bytes`` is the memory of one stored node for one task. An integer ``c`` is one
    level of ``c`` stored segment starts.
    """
    if checkpoints == "auto":
        budget_nodes = AUTO_STORE_BYTES // max(1, nodes_bytes)
        if steps + 1 <= budget_nodes or steps < 4:
            return None
        return _auto_scheme(steps, budget_nodes)
    if checkpoints is None or checkpoints >= steps:
        return None
    return Scheme.fit(steps, checkpoints, 1)


def _solve(forward_step: ForwardStep, u0, length: int, keep: bool, keep_field: bool):
    """Run ``length`` steps; optionally return the nodes at the start of each step."""

    def body(u, _):
        u_next, f = forward_step(u)
        if not keep:
            return u_next, None
        return u_next, Node(u, f if keep_field else None)

    return time_scan(body, u0, length=length)


def _sweep(backward_step: BackwardStep, carry, nodes: Node, right: Node, active=None):
    """Reverse sweep over stored nodes ending at ``right``; returns the carry at the start.

    ``active`` (bool per step, optional) marks the steps to apply; others leave the carry.
    """

    def body(state, xs):
        inner, right_node = state
        left, on = xs
        if on is not None:
            inner = jax.lax.cond(on, lambda c: backward_step(c, left, right_node), lambda c: c, inner)
        else:
            inner = backward_step(inner, left, right_node)
        return (inner, left), None

    (carry, _), _ = time_scan(body, (carry, right), (nodes, active), reverse=True)
    return carry


def forward_and_sweep(
    forward_step: ForwardStep,
    vector_field: Callable[[Float[Array, " P"]], Float[Array, " P"]],
    backward_step: BackwardStep,
    terminal: Callable[[Float[Array, " P"]], tuple[Any, Any]],
    u0: Float[Array, " P"],
    steps: int,
    scheme: Scheme | None,
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
        scheme: ``None`` to store every node, else how to checkpoint (from
            :func:`resolve_checkpoints`).
        keep_field: whether nodes carry the vector-field value (dense output).

    Returns:
        ``(aux, carry_0)``.
    """

    def end_node(u):
        return Node(u, vector_field(u) if keep_field else None)

    if scheme is None:
        u_final, nodes = _solve(forward_step, u0, steps, True, keep_field)
        aux, carry = terminal(u_final)
        return aux, _sweep(backward_step, carry, nodes, end_node(u_final))

    padding = scheme.slots - steps
    lengths = [scheme.branch ** (scheme.depth - k) * scheme.leaf for k in range(scheme.depth + 1)]

    def masked_step(u, index):
        # Padding slots come first and do nothing; the index is the same for every task.
        return jax.lax.cond(index < padding, lambda v: (v, jnp.zeros_like(v)), forward_step, u)

    def run(u, first, length, keep):
        def body(v, index):
            v_next, f = masked_step(v, index)
            return v_next, (Node(v, f if keep_field else None) if keep else None)

        return time_scan(body, u, first + jnp.arange(length))

    def split_forward(u, first, level):
        """Run one segment of ``level``, keeping the starts (state, index) of its parts."""
        part = lengths[level + 1]

        def body(v, k):
            start = first + k * part
            return run(v, start, part, False)[0], (v, start)

        return jax.lax.scan(body, u, jnp.arange(scheme.branch))

    def sweep_level(level, starts, carry, right):
        """Sweep the parts of a segment of ``level`` from their stored starts."""

        def body(state, start):
            return sweep_segment(level + 1, *start, *state), None

        (carry, right), _ = jax.lax.scan(body, (carry, right), starts, reverse=True)
        return carry, right

    def sweep_segment(level, u, first, carry, right):
        if level == scheme.depth:
            _, nodes = run(u, first, scheme.leaf, True)
            active = first + jnp.arange(scheme.leaf) >= padding
            carry = _sweep(backward_step, carry, nodes, right, active)
            return carry, jax.tree_util.tree_map(lambda x: x[0], nodes)
        _, starts = split_forward(u, first, level)
        return sweep_level(level, starts, carry, right)

    u_final, starts = split_forward(u0, 0, 0)
    aux, carry = terminal(u_final)
    return aux, sweep_level(0, starts, carry, end_node(u_final))[0]


def node_bytes(theta: Float[Array, " P"], keep_field: bool) -> int:
    """Bytes of one stored node for one task."""
    return theta.size * jnp.dtype(theta.dtype).itemsize * (2 if keep_field else 1)
