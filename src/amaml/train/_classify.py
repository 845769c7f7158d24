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
        ``(episodes,)`` accuracies in [0, 1], a NumPy array.

    Raises:
        TypeError, ValueError: when ``chunk`` is not a positive integer.

    Example:
        >>> predict = lambda p, x: x @ p["w"]
        >>> x, y = jnp.stack([jnp.eye(2)] * 3), jnp.stack([jnp.arange(2)] * 3)  # 3 two-way episodes
        >>> tasks = amaml.Task(x, y, x, y)
        >>> loss = amaml.losses.cross_entropy(predict)
        >>> episode_accuracy(amaml.MAML(5, 1.0), loss, {"w": jnp.zeros((2, 2))}, tasks, predict, chunk=2).tolist()
        [1.0, 1.0, 1.0]
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
    r"""Mean accuracy in percent and the half-width of its 95% confidence interval (normal, 1.96 s/sqrt(n)).

    With :math:`n` episodes of accuracy :math:`a_i` (in percent), the interval is
    :math:`\bar a \pm 1.96\, s / \sqrt n`, :math:`s` the sample standard deviation
    (``ddof=1``): the normal approximation, as reported for few-shot benchmarks.

    Args:
        accuracies: per-episode accuracies in [0, 1], e.g. from :func:`episode_accuracy`.

    Returns:
        ``{"mean": percent, "ci95": half-width in percent, "episodes": n}``; ``ci95`` is
        NaN for a single episode.

    Example:
        >>> summary = accuracy_summary(np.array([1.0, 0.5, 0.75, 0.75]))
        >>> summary["mean"], round(summary["ci95"], 2), summary["episodes"]
        (75.0, 20.0, 4)
    """
    accuracies = 100 * np.asarray(accuracies, dtype=float)
    n = accuracies.size
    half = 1.96 * accuracies.std(ddof=1) / math.sqrt(n) if n > 1 else float("nan")
    return {"mean": float(accuracies.mean()), "ci95": float(half), "episodes": int(n)}
