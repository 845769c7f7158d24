r"""The forward solve and the reverse sweep over its nodes, stored or checkpointed.

A reverse sweep visits the steps :math:`j = K-1, \dots, 0` and needs, at step :math:`j`,
the *nodes* at both ends of the step (:class:`Node`): the states :math:`u_j, u_{j+1}` and
(for dense output) the vector-field values :math:`f_j, f_{j+1}`, from which
:func:`hermite` interpolates mid-step states. :func:`forward_and_sweep` runs both passes
under a checkpointing :class:`~amaml._checkpoints.Scheme` (or storing every node).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._checkpoints import Scheme
from ._scan import time_scan


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


def _solve(forward_step: ForwardStep, u0, length: int, keep: bool, keep_field: bool, unroll: int | None):
    """Run ``length`` steps; optionally return the nodes at the start of each step."""

    def body(u, _):
        u_next, f = forward_step(u)
        if not keep:
            return u_next, None
        return u_next, Node(u, f if keep_field else None)

    return time_scan(body, u0, length=length, unroll=unroll)


def _sweep(backward_step: BackwardStep, carry, nodes: Node, right: Node, unroll: int | None, active=None):
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

    (carry, _), _ = time_scan(body, (carry, right), (nodes, active), reverse=True, unroll=unroll)
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
    unroll: int | None,
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
            :func:`amaml._checkpoints.resolve_checkpoints`).
        keep_field: whether nodes carry the vector-field value (dense output).
        unroll: steps per scan iteration of the time loops (``None``: by backend).

    Returns:
        ``(aux, carry_0)``.
    """

    def end_node(u):
        return Node(u, vector_field(u) if keep_field else None)

    if scheme is None:
        u_final, nodes = _solve(forward_step, u0, steps, True, keep_field, unroll)
        aux, carry = terminal(u_final)
        return aux, _sweep(backward_step, carry, nodes, end_node(u_final), unroll)

    padding = scheme.slots - steps
    lengths = [scheme.branch ** (scheme.depth - k) * scheme.leaf for k in range(scheme.depth + 1)]

    def masked_step(u, index):
        if not padding:  # no idle slots: no branch in the loop body
            return forward_step(u)
        # Padding slots come first and do nothing; the index is the same for every task.
        return jax.lax.cond(index < padding, lambda v: (v, jnp.zeros_like(v)), forward_step, u)

    def run(u, first, length, keep):
        def body(v, index):
            v_next, f = masked_step(v, index)
            return v_next, (Node(v, f if keep_field else None) if keep else None)

        return time_scan(body, u, first + jnp.arange(length), unroll=unroll)

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
            active = first + jnp.arange(scheme.leaf) >= padding if padding else None
            carry = _sweep(backward_step, carry, nodes, right, unroll, active)
            return carry, jax.tree_util.tree_map(lambda x: x[0], nodes)
        _, starts = split_forward(u, first, level)
        return sweep_level(level, starts, carry, right)

    u_final, starts = split_forward(u0, 0, 0)
    aux, carry = terminal(u_final)
    return aux, sweep_level(0, starts, carry, end_node(u_final))[0]
