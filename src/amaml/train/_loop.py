"""The jitted meta-update with its randomness derived from the step number."""

from __future__ import annotations

from collections.abc import Callable

import jax
import optax
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from .._methods import AbstractMetaMethod
from .._train import meta_train_step
from ..tasks import AbstractMetaDataset


def make_update(
    method: AbstractMetaMethod,
    loss_fn: Callable[[PyTree, Array, Array], Float[Array, ""]],
    optimizer: optax.GradientTransformation,
    dataset: AbstractMetaDataset,
    key: PRNGKeyArray,
    meta_batch: int,
    shots: int,
    queries: int,
) -> Callable[[PyTree, optax.OptState, int], tuple[PyTree, optax.OptState, Float[Array, ""]]]:
    """``update(params, opt_state, step) -> (params, opt_state, meta_loss)``, jitted.

    The meta-batch of update ``step`` is drawn with ``jax.random.fold_in(key, step)``, so a
    run resumed from a checkpoint at step ``s`` sees exactly the batches an uninterrupted
    run would: the result depends on (params, opt_state, step) only.
    """

    def update(params, opt_state, step):
        tasks = dataset.sample(jax.random.fold_in(key, step), meta_batch, shots, queries)
        return meta_train_step(method, loss_fn, optimizer, params, opt_state, tasks)

    return jax.jit(update)
