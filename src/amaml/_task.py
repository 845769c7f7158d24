"""The task container and the checks applied to a batch of tasks."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Shaped


class Task(NamedTuple):
    """One regression or classification task: a support set and a query set.

    ``Task`` is a pytree (a ``NamedTuple``), so it passes through ``jax.jit`` and
    ``jax.vmap``. A *batch* of tasks is a ``Task`` whose four arrays all carry a leading
    task axis of the same length ``B``; this is what :func:`amaml.meta_value_and_grad`
    takes.

    Attributes:
        support_x: inputs the inner loop trains on, shape ``(n_support, ...)``.
        support_y: their targets, shape ``(n_support, ...)`` (integer labels for
            classification).
        query_x: inputs the meta-loss is evaluated on, shape ``(n_query, ...)``; the
            feature dimensions must equal the support set's.
        query_y: their targets, shape ``(n_query, ...)``.

    Example:
        >>> import jax, jax.numpy as jnp, amaml
        >>> x = jnp.linspace(-1.0, 1.0, 24).reshape(2, 4, 3)  # 2 tasks, 4 examples, 3 features
        >>> tasks = amaml.Task(x, jnp.ones((2, 4)), x, jnp.ones((2, 4)))
        >>> tasks.support_x.shape, tasks.query_y.shape
        ((2, 4, 3), (2, 4))

        One task of the batch, and a batch of one task:

        >>> task = jax.tree_util.tree_map(lambda a: a[0], tasks)
        >>> jax.tree_util.tree_map(lambda a: a[None], task).support_x.shape
        (1, 4, 3)
    """

    support_x: Shaped[Array, "n_support ..."]
    support_y: Shaped[Array, "n_support ..."]
    query_x: Shaped[Array, "n_query ..."]
    query_y: Shaped[Array, "n_query ..."]


def _shape(name: str, value) -> tuple[int, ...]:
    shape = getattr(value, "shape", None)
    if shape is None:
        raise TypeError(f"`{name}` must be an array, got {type(value).__name__}.")
    return tuple(shape)


def check_set(x, y, x_name: str, y_name: str, batch_dims: int) -> None:
    """Check one (inputs, targets) pair; ``batch_dims`` leading axes are task axes."""
    x_shape, y_shape = _shape(x_name, x), _shape(y_name, y)
    if len(x_shape) < batch_dims + 1 or len(y_shape) < batch_dims + 1:
        raise ValueError(
            f"`{x_name}` and `{y_name}` must have {'a task axis and ' if batch_dims else ''}"
            f"an example axis; got shapes {x_shape} and {y_shape}."
        )
    if x_shape[: batch_dims + 1] != y_shape[: batch_dims + 1]:
        raise ValueError(
            f"`{x_name}` and `{y_name}` must have the same leading "
            f"{'(task, example)' if batch_dims else 'example'} dimensions; "
            f"got shapes {x_shape} and {y_shape}."
        )
    if x_shape[batch_dims] == 0:
        raise ValueError(f"`{x_name}` is empty: every task needs at least one example.")
    check_finite(x_name, x)
    check_finite(y_name, y)


def check_finite(name: str, value) -> None:
    """Concrete floating data must be finite; traced values (under jit) cannot be checked."""
    if isinstance(value, jax.core.Tracer) or not jnp.issubdtype(value.dtype, jnp.inexact):
        return
    bad = int(np.size(value) - np.count_nonzero(np.isfinite(np.asarray(value))))
    if bad:
        raise ValueError(f"`{name}` contains {bad} non-finite value(s) (NaN or inf); clean or drop them first.")


def check_tasks(tasks: Task, dtype) -> int:
    """Check a batch of tasks against parameters of ``dtype``; return the batch size.

    Raises:
        TypeError, ValueError: naming the argument. A single task passed without its task
            axis (arrays shaped ``(n, ...)``) gets an error that says so and how to add it.
    """
    if not isinstance(tasks, Task):
        raise TypeError(f"`tasks` must be an amaml.Task (with a leading task axis), got {type(tasks).__name__}.")
    try:
        return _check_batch(tasks, dtype)
    except (TypeError, ValueError) as error:
        if _is_single_task(tasks):
            raise ValueError(
                f"`tasks` is missing its task axis: it looks like one task (support_x {tuple(tasks.support_x.shape)}, "
                f"support_y {tuple(tasks.support_y.shape)}, query_x {tuple(tasks.query_x.shape)}, query_y "
                f"{tuple(tasks.query_y.shape)}), but a batch needs a leading task axis on every array. Add it "
                f"with `jax.tree_util.tree_map(lambda a: a[None], task)` (a batch of one task)."
            ) from error
        raise


def _is_single_task(tasks: Task) -> bool:
    """Whether the four arrays form one valid task (no task axis) and not a plausible batch.

    A batch needs ``y`` with task and example axes and (nearly always) ``x`` with a feature
    axis beyond them; arrays shaped like ``x (n, d)`` or ``y (n,)`` that form a valid task
    are taken to be one task whose task axis is missing.
    """
    ndims = [len(getattr(a, "shape", ())) for a in tasks]
    if not (min(ndims[1], ndims[3]) < 2 or max(ndims[0], ndims[2]) <= 2):
        return False
    try:
        check_set(tasks.support_x, tasks.support_y, "support_x", "support_y", 0)
        check_set(tasks.query_x, tasks.query_y, "query_x", "query_y", 0)
    except (TypeError, ValueError):
        return False
    return tasks.support_x.shape[1:] == tasks.query_x.shape[1:]


def _check_batch(tasks: Task, dtype) -> int:
    check_set(tasks.support_x, tasks.support_y, "tasks.support_x", "tasks.support_y", 1)
    check_set(tasks.query_x, tasks.query_y, "tasks.query_x", "tasks.query_y", 1)
    batch = tasks.support_x.shape[0]
    if tasks.query_x.shape[0] != batch:
        raise ValueError(
            f"`tasks` must have one leading task axis of the same length on every array; "
            f"support has {batch} tasks, query has {tasks.query_x.shape[0]}."
        )
    if tasks.support_x.shape[2:] != tasks.query_x.shape[2:]:
        raise ValueError(
            f"`tasks.support_x` and `tasks.query_x` must have the same feature shape; got "
            f"{tasks.support_x.shape[2:]} and {tasks.query_x.shape[2:]}."
        )
    for name in ("support_x", "query_x"):
        check_input_dtype(f"tasks.{name}", getattr(tasks, name), dtype)
    return batch


def check_input_dtype(name: str, x, dtype) -> None:
    """Floating inputs must match the parameters' dtype: no silent promotion."""
    if jnp.issubdtype(x.dtype, jnp.floating) and x.dtype != dtype:
        raise TypeError(
            f"`{name}` has dtype {x.dtype} but the parameters are {dtype}; cast one of them "
            f"so that they match (amaml never casts silently)."
        )
