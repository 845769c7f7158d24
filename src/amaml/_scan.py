"""``lax.scan`` over time steps, unrolled where loop iterations are expensive.

On GPUs every iteration of an XLA while loop costs a device-to-host copy of its
condition; unrolling several steps per iteration removes most of that latency, which
dominates for small models. On CPUs iterations are cheap and unrolling only lengthens
compilation. The unroll is always passed in (it is a method's ``unroll`` option), never
read from a global, so a jitted function depends only on its arguments.
"""

from __future__ import annotations

import jax


def unroll_factor(unroll: int | None, length: int) -> int:
    """Steps per loop iteration: ``unroll``, or by backend when ``None`` (1 on CPU, 8
    elsewhere); clipped to ``[1, length]``."""
    factor = unroll if unroll is not None else (1 if jax.default_backend() == "cpu" else 8)
    return max(1, min(int(factor), length))


def time_scan(body, init, xs=None, length: int | None = None, reverse: bool = False, *, unroll: int | None):
    """``jax.lax.scan`` over steps, with :func:`unroll_factor` steps per iteration.

    ``unroll`` is required (``None`` for the backend's default) so that no caller forgets it.
    """
    if length is None:
        length = len(jax.tree_util.tree_leaves(xs)[0])
    return jax.lax.scan(body, init, xs, length=length, reverse=reverse, unroll=unroll_factor(unroll, length))
