"""Spreading meta-batches over devices and hosts with ``jax.sharding`` (see :mod:`._mesh`)."""

from ._mesh import check_meta_batch as check_meta_batch
from ._mesh import constrain_tasks as constrain_tasks
from ._mesh import jit_replicated as jit_replicated
from ._mesh import replicate as replicate
from ._mesh import shard_tasks as shard_tasks
from ._mesh import task_mesh as task_mesh

__all__ = ["check_meta_batch", "constrain_tasks", "jit_replicated", "replicate", "shard_tasks", "task_mesh"]
