"""``lax.scan`` over time steps, unrolled where loop iterations are expensive.

On GPUs every iteration of an XLA while loop costs a device-to-host copy of its
condition; unrolling several steps per iteration removes most of that latency, which
dominates for small models. On CPUs iterations are cheap and unrolling only lengthens
compilation. ``UNROLL`` overrides the choice (the benchmark worker sets it to compare).
"""

from __future__ import annotations

import jax

UNROLL: int | None = None
"""Steps per loop iteration; ``None`` picks by backend (1 on CPU, 8 elsewhere)."""


def unroll_factor(length: int) -> int:
    factor = UNROLL if UNROLL is not None else (1 if jax.default_backend() == "cpu" else 8)
    return max(1, min(int(factor), length))


def time_scan(body, init, xs=None, length: int | None = None, reverse: bool = False):
    """``jax.lax.scan`` over steps, with :func:`unroll_factor` steps per iteration."""
    if length is None:
        length = len(jax.tree_util.tree_leaves(xs)[0])
    return jax.lax.scan(body, init, xs, length=length, reverse=reverse, unroll=unroll_factor(length))
