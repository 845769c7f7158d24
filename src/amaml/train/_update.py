"""The jitted meta-update with its randomness derived from the step number."""

from __future__ import annotations

from collections.abc import Callable

import jax
import optax
from jax.sharding import Mesh
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from .. import distributed
from .._divergence import MAX_META_LOSS
from .._methods import AbstractMetaMethod
from .._task import Task
from ..tasks import AbstractMetaDataset
from ._step import MetaStep, meta_train_step


def meta_batch_at(
    dataset: AbstractMetaDataset, key: PRNGKeyArray, step, meta_batch: int, shots: int, queries: int
) -> Task:
    """The meta-batch of update ``step``: drawn with ``jax.random.fold_in(key, step)``.

    Args:
        dataset: the meta-dataset to draw training tasks from.
        key: the run's meta-batch key (:attr:`RunParts.train_key`).
        step: the meta-update's number (an integer, or an integer array under jit).
        meta_batch, shots, queries: tasks per meta-batch, and support and query examples
            per task.

    Returns:
        A :class:`amaml.Task` batch of ``meta_batch`` tasks; the same ``step`` always
        gives the same batch.

    Example:
        >>> from amaml.models import MLP
        >>> from amaml.tasks import Sinusoid
        >>> from amaml.train import FunctionTasks, RunConfig, build_parts
        >>> config = RunConfig(
        ...     tasks=FunctionTasks(Sinusoid(), n_train=4, n_test=2, shots=5, queries=5),
        ...     model=MLP((8,)),
        ...     method=amaml.MAML(2, 0.01),
        ... )
        >>> parts = build_parts(config)  # the run's dataset, loss, optimiser and key
        >>> a = meta_batch_at(parts.dataset, parts.train_key, 3, 2, 5, 5)
        >>> b = meta_batch_at(parts.dataset, parts.train_key, 3, 2, 5, 5)
        >>> a.support_x.shape, bool((a.support_x == b.support_x).all())
        ((2, 5, 1), True)
    """
    return dataset.sample(jax.random.fold_in(key, step), meta_batch, shots, queries)


def make_update(
    method: AbstractMetaMethod,
    loss_fn: Callable[[PyTree, Array, Array], Float[Array, ""]],
    optimizer: optax.GradientTransformation,
    dataset: AbstractMetaDataset,
    key: PRNGKeyArray,
    meta_batch: int,
    shots: int,
    queries: int,
    skip_diverged: bool = False,
    mesh: Mesh | None = None,
    max_meta_loss: float | None = MAX_META_LOSS,
) -> Callable[[PyTree, optax.OptState, int], MetaStep]:
    """``update(params, opt_state, step) -> MetaStep``, jitted.

    The meta-batch of update ``step`` is :func:`meta_batch_at`, so a run resumed from a
    checkpoint at step ``s`` sees exactly the batches an uninterrupted run would: the
    result depends on (params, opt_state, step) only. ``skip_diverged`` is passed to
    :func:`amaml.meta_train_step`, and so is ``max_meta_loss``.

    With a ``mesh`` (:func:`amaml.distributed.task_mesh`) the meta-batch's task axis is split
    over the mesh's devices and params, optimiser state and results are replicated; XLA
    reduces the mean meta-gradient. ``meta_batch`` must be a multiple of the device count.
    Every process computes the same batch from ``fold_in(key, step)``, so on several hosts
    each task is used exactly once. Pass params and optimiser state already placed with
    :func:`amaml.distributed.replicate`, or the first call compiles a second time.

    Args:
        method, loss_fn: as for :func:`amaml.meta_value_and_grad`.
        optimizer: the optax meta-optimiser.
        dataset, key, meta_batch, shots, queries: as for :func:`meta_batch_at`.
        skip_diverged, max_meta_loss: as for :func:`amaml.meta_train_step`.
        mesh: a task mesh to split each meta-batch over, or ``None`` (one device).

    Returns:
        The jitted ``update(params, opt_state, step)``, returning a :class:`amaml.MetaStep`.

    Raises:
        TypeError, ValueError: with a ``mesh``, when ``meta_batch`` is not a positive
            multiple of its device count (:func:`amaml.distributed.check_meta_batch`).

    Example:
        >>> import jax.numpy as jnp
        >>> from amaml.models import MLP
        >>> from amaml.tasks import Sinusoid
        >>> from amaml.train import FunctionTasks, RunConfig, build_parts
        >>> config = RunConfig(
        ...     tasks=FunctionTasks(Sinusoid(), n_train=4, n_test=2, shots=5, queries=5),
        ...     model=MLP((8,)),
        ...     method=amaml.MAML(2, 0.01),
        ... )
        >>> parts = build_parts(config)  # the run's dataset, loss, optimiser and key
        >>> update = make_update(parts.method, parts.loss_fn, parts.optimizer, parts.dataset, parts.train_key, 2, 5, 5)
        >>> params, opt_state = parts.initial_state()
        >>> result = update(params, opt_state, jnp.asarray(0))
        >>> result.meta_loss.shape, result.diverged.tolist()
        ((), [False, False])
        >>> again = update(params, opt_state, jnp.asarray(0))  # step 0's batch again: the same update
        >>> bool(again.meta_loss == result.meta_loss)
        True
    """
    if mesh is not None:
        distributed.check_meta_batch(meta_batch, mesh)

    def update(params, opt_state, step):
        tasks = meta_batch_at(dataset, key, step, meta_batch, shots, queries)
        if mesh is not None:
            tasks = distributed.constrain_tasks(tasks, mesh)
        return meta_train_step(
            method,
            loss_fn,
            optimizer,
            params,
            opt_state,
            tasks,
            skip_diverged=skip_diverged,
            max_meta_loss=max_meta_loss,
        )

    return jax.jit(update) if mesh is None else distributed.jit_replicated(update, mesh)
