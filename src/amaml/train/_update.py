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
    """The meta-batch of update ``step``: drawn with ``jax.random.fold_in(key, step)``."""
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
