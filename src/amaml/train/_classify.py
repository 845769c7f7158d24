"""Few-shot classification accuracy: adapt on each episode's support set, score its queries."""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PyTree

from .. import _validate
from .._meta import MetaParams
from .._methods import AbstractMetaMethod
from .._problem import prepare
from .._task import Task


def episode_accuracy(
    method: AbstractMetaMethod,
    loss_fn: Callable[..., Float[Array, ""]],
    params: PyTree | MetaParams,
    tasks: Task,
    predict: Callable[[PyTree, Array], Array],
    *,
    chunk: int = 100,
) -> np.ndarray:
    """Per episode: the query accuracy after ``method``'s own inner loop on the support set.

    Each episode is adapted with :func:`amaml.adapt` (the method's steps, step size and any
    learned rates, horizon and shared parameters), then ``predict(adapted, query_x)`` gives
    logits and the accuracy is the fraction of queries whose arg-max is the label. Episodes
    are processed ``chunk`` at a time (``vmap`` inside, a Python loop outside), so memory is
    that of ``chunk`` adaptations.

    Args:
        method, loss_fn, params: as for :func:`amaml.meta_value_and_grad`.
        tasks: the test episodes (a batch of :class:`amaml.Task`; integer labels).
        predict: ``predict(adapted, x) -> logits (n, ways)`` with everything else meta-learned.
        chunk: episodes per compiled call.

    Returns:
        ``(episodes,)`` accuracies in [0, 1].
    """
    _validate.positive_int("chunk", chunk)
    problem, meta, _ = prepare(loss_fn, params)

    def one(task: Task):
        adapted = problem.adapt(method, meta, task.support_x, task.support_y)
        hits = jnp.argmax(predict(adapted, task.query_x), axis=-1).astype(task.query_y.dtype) == task.query_y
        return jnp.mean(hits.astype(task.query_x.dtype))

    score = jax.jit(jax.vmap(one))
    count = tasks.support_x.shape[0]
    parts = [score(jax.tree.map(lambda a, s=s: a[s : s + chunk], tasks)) for s in range(0, count, chunk)]
    return np.concatenate([np.asarray(p) for p in parts])


def accuracy_summary(accuracies: np.ndarray) -> dict:
    """Mean accuracy in percent and the half-width of its 95% confidence interval (normal, 1.96 s/sqrt(n))."""
    accuracies = 100 * np.asarray(accuracies, dtype=float)
    n = accuracies.size
    half = 1.96 * accuracies.std(ddof=1) / math.sqrt(n) if n > 1 else float("nan")
    return {"mean": float(accuracies.mean()), "ci95": float(half), "episodes": int(n)}
