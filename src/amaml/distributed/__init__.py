"""Spreading meta-batches over devices and hosts with ``jax.sharding`` (see :mod:`._mesh`)."""

from ._mesh import check_meta_batch as check_meta_batch
from ._mesh import constrain_tasks as constrain_tasks
from ._mesh import jit_replicated as jit_replicated
from ._mesh import replicate as replicate
from ._mesh import shard_tasks as shard_tasks
from ._mesh import task_mesh as task_mesh
from ._processes import check_same_step as check_same_step
from ._processes import device_mesh as device_mesh
from ._processes import is_main_process as is_main_process
from ._processes import start_processes as start_processes

__all__ = [
    "check_meta_batch",
    "check_same_step",
    "constrain_tasks",
    "device_mesh",
    "is_main_process",
    "jit_replicated",
    "replicate",
    "shard_tasks",
    "start_processes",
    "task_mesh",
]
