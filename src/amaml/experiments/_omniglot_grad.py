"""How far the continuous adjoint's gradient is from MAML's at few-shot step sizes (Conv4, Omniglot)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .._api import meta_value_and_grad
from .._check import reference_method
from .._methods import AdjointMAML, DiscreteAdjoint
from ..losses import cross_entropy
from ..models import Conv4


def adjoint_gradient_errors(
    tasks,
    steps: tuple[int, ...] = (1, 2, 3, 4, 5),
    step_size: float = 0.4,
    *,
    model: Conv4 | None = None,
    seed: int = 0,
) -> list[dict]:
    """For each K: A-MAML's (RK4/RK4) relative gradient error against MAML's exact gradient
    (:class:`DiscreteAdjoint` with Euler, equal to MAML's) and against the fine exact adjoint of
    the continuous flow that :func:`amaml.check_meta_grad` uses as its reference (an RK4 solve
    with 8 times the steps), in the dtype of ``tasks`` (use float64).

    Args:
        tasks: a few episodes (a batch of :class:`amaml.Task`, images ``(n, H, W, 1)``).
        steps: the K to try at ``step_size`` (the paper's few-shot regime: h = 0.4, K = 1 to 5).
        model: the network (default ``Conv4()``).
        seed: its initialisation.

    Returns:
        One ``{"steps", "step_size", "vs_maml", "vs_continuous"}`` per K.
    """
    ways = int(jnp.max(tasks.support_y)) + 1
    model = Conv4() if model is None else model
    params = model.init(jax.random.key(seed), 1, ways, tasks.support_x.dtype)
    loss = cross_entropy(model.apply)

    def grad(method):
        value_and_grad = jax.jit(lambda p, t: meta_value_and_grad(method, loss, p, t))
        return np.asarray(ravel_pytree(value_and_grad(params, tasks)[1])[0])

    def relative(a, b):
        return float(np.linalg.norm(a - b) / np.linalg.norm(b))

    rows = []
    for k in steps:
        method = AdjointMAML(k, step_size)
        adjoint, exact, fine = grad(method), grad(DiscreteAdjoint(k, step_size)), grad(reference_method(method, 8))
        rows.append(
            {
                "steps": k,
                "step_size": step_size,
                "vs_maml": relative(adjoint, exact),
                "vs_continuous": relative(adjoint, fine),
            }
        )
    return rows
