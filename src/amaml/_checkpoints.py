r"""How an adjoint method keeps its forward trajectory for the reverse sweep.

A reverse sweep visits the steps :math:`j = K-1, \dots, 0` and needs, at step :math:`j`,
the *nodes* at both ends of the step: the states :math:`u_j, u_{j+1}` and (for dense
output) the vector-field values :math:`f_j, f_{j+1}` (see :mod:`amaml._sweep`).

* ``checkpoints=None`` stores all :math:`K + 1` nodes: memory :math:`O(K P)`.
* ``checkpoints=c`` stores at most ``c`` segment-start states. During the sweep each
  segment of :math:`L = \lceil K / c \rceil` steps is recomputed from its start and swept.
  Memory :math:`O((c + L) P)`, minimal near :math:`c = \sqrt K`; the cost is one extra
  forward solve.
* ``checkpoints="auto"`` stores every node while the whole meta-batch's nodes take at most
  the method's ``memory_budget`` bytes (by default :func:`default_memory_budget`, a quarter
  of the memory the device reports). Beyond that it checkpoints recursively: a segment
  longer than ``b`` steps is split into at most ``b`` sub-segments whose start states are
  stored, and each sub-segment is recomputed and treated the same way during the sweep.
  With ``m`` levels of stored starts (:math:`b^{m+1} \gtrsim K`) memory is about
  :math:`m b` nodes and the cost is ``m`` extra forward solves; ``b`` and ``m`` are the
  pair with the fewest levels (one level before several) that fits the budget, or the one
  with the fewest nodes (about :math:`e \ln K`) when none does. Memory is therefore
  bounded, up to a logarithm, whatever ``K``.

Every recomputation runs the same operations on the same inputs as the forward pass, so
checkpointed and stored sweeps agree to rounding. :func:`plan` describes the choice.
"""

from __future__ import annotations

import math
import os
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

Checkpoints = int | None | Literal["auto"]


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
    def fit(cls, steps: int, branch: int, depth: int) -> Scheme:
        """The shortest leaf that covers ``steps`` with this branching."""
        return cls(branch, depth, -(-steps // branch**depth))


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


MEMORY_SHARE = 0.25
"""The share of the device's memory that ``checkpoints="auto"`` spends by default."""


def default_memory_budget(device: jax.Device | None = None) -> int:
    """The default ``memory_budget`` of ``checkpoints="auto"``: a quarter of a device's memory.

    An accelerator reports its allocator's limit (``memory_stats()["bytes_limit"]``); a CPU
    reports none, and the machine's physical memory is used. The other three quarters are
    left to the model's working memory (activations and the Hessian-vector products of one
    step, for every task) and to the rest of the program. The budget bounds the stored
    states of the whole meta-batch: with ``B`` tasks of ``P`` parameters, ``K`` steps are
    stored outright while :math:`B (K + 1) P` values fit.

    Args:
        device: the device whose memory to share; ``None``: ``jax.devices()[0]``.

    Returns:
        Bytes, an ``int``.

    Example:
        >>> import amaml
        >>> amaml.default_memory_budget() > 0
        True

    References:
        Griewank & Walther, "Algorithm 799: revolve" (2000), for the recursive schedule used
        when the budget is exceeded.
    """
    device = device or jax.devices()[0]
    stats = device.memory_stats() or {}
    total = stats.get("bytes_limit")
    if not total:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return int(MEMORY_SHARE * total)


def resolve_checkpoints(
    checkpoints: Checkpoints, steps: int, nodes_bytes: int, memory_budget: int | None, tasks: int = 1
) -> Scheme | None:
    """Turn the user's setting into ``None`` (store every node) or a :class:`Scheme`.

    ``nodes_bytes`` is the memory of one stored node for one task, ``tasks`` the size of the
    meta-batch and ``memory_budget`` the bytes that ``"auto"`` may spend on storing every
    task's nodes (``None``: :func:`default_memory_budget`). An integer ``c`` is one level of
    ``c`` stored segment starts.
    """
    if checkpoints == "auto":
        budget = default_memory_budget() if memory_budget is None else memory_budget
        budget_nodes = budget // max(1, nodes_bytes * tasks)
        if steps + 1 <= budget_nodes or steps < 4:
            return None
        return _auto_scheme(steps, budget_nodes)
    if checkpoints is None or checkpoints >= steps:
        return None
    return Scheme.fit(steps, checkpoints, 1)


def node_bytes(theta: Float[Array, " P"], keep_field: bool) -> int:
    """Bytes of one stored node for one task."""
    return theta.size * jnp.dtype(theta.dtype).itemsize * (2 if keep_field else 1)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class CheckpointPlan(NamedTuple):
    """What an adjoint method keeps of its forward trajectory, per task (see :func:`amaml.checkpoint_plan`).

    Attributes:
        steps: the number of inner steps ``K``.
        stored_nodes: nodes held at once during the backward sweep: ``K + 1`` when every
            state is stored, about ``levels * branch + leaf + 1`` when checkpointing. A node
            is a state, plus its vector-field value when the backward scheme needs dense
            output (RK4 backward).
        levels: levels of stored segment starts; 0 when every state is stored.
        branch: segment starts stored per level (0 when every state is stored).
        leaf: steps of the deepest segments, whose nodes are all held during their sweep
            (``K`` when every state is stored).
        padding: idle slots in front of the trajectory when ``K`` is not
            ``branch ** levels * leaf`` (skipped steps; 0 when none, and then no step is masked).
        extra_forward_solves: forward solves recomputed during the sweep (one per level), so
            ``extra_forward_solves * K`` extra solver steps per meta-gradient.
        node_bytes: bytes of one node for one task.
        bytes_per_task: ``stored_nodes * node_bytes``, the trajectory's memory per task (XLA
            adds the working memory of one step on top).
        tasks: the meta-batch size the plan was made for.
        bytes_total: ``bytes_per_task * tasks``, what ``memory_budget`` bounds.
        description: one line, e.g. ``"stores all 101 states"`` or ``"2 levels of 5 segment
            starts, leaf 4 (2 extra forward solves, 200 steps recomputed)"``.

    Example:
        >>> import jax.numpy as jnp, amaml
        >>> params = {"w": jnp.zeros(4, jnp.float32)}
        >>> plan = amaml.checkpoint_plan(amaml.DiscreteAdjoint(10, 0.1, checkpoints=None), params)
        >>> plan.stored_nodes, plan.levels, plan.node_bytes
        (11, 0, 16)
        >>> plan = amaml.checkpoint_plan(amaml.DiscreteAdjoint(10, 0.1, checkpoints=3), params, tasks=2)
        >>> plan.description, plan.bytes_total
        ('1 level of 3 segment starts, leaf 4 (1 extra forward solve, 10 steps recomputed, 2 padding)', 256)
    """

    steps: int
    stored_nodes: int
    levels: int
    branch: int
    leaf: int
    padding: int
    extra_forward_solves: int
    node_bytes: int
    bytes_per_task: int
    tasks: int
    bytes_total: int
    description: str


def plan(scheme: Scheme | None, steps: int, nodes_bytes: int, tasks: int = 1) -> CheckpointPlan:
    """The :class:`CheckpointPlan` of a resolved scheme (``None``: every node stored) for ``tasks`` tasks."""
    if scheme is None:
        nodes = steps + 1
        return CheckpointPlan(
            steps,
            nodes,
            0,
            0,
            steps,
            0,
            0,
            nodes_bytes,
            nodes * nodes_bytes,
            tasks,
            nodes * nodes_bytes * tasks,
            f"stores all {nodes} states",
        )
    padding = scheme.slots - steps
    text = (
        f"{_plural(scheme.depth, 'level')} of {scheme.branch} segment starts, leaf {scheme.leaf} "
        f"({_plural(scheme.depth, 'extra forward solve')}, {scheme.depth * steps} steps recomputed"
        + (f", {padding} padding" if padding else "")
        + ")"
    )
    return CheckpointPlan(
        steps,
        scheme.nodes,
        scheme.depth,
        scheme.branch,
        scheme.leaf,
        padding,
        scheme.depth,
        nodes_bytes,
        scheme.nodes * nodes_bytes,
        tasks,
        scheme.nodes * nodes_bytes * tasks,
        text,
    )
