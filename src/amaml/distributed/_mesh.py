"""Meta-batches spread over devices: a 1-D mesh over the task axis (jax.sharding).

The meta-gradient is a mean over tasks, ``g = (1/B) sum_b g_b(theta)``, and the tasks are
independent until that mean. Placing the task axis of a :class:`~amaml.Task` batch sharded
over a mesh of ``D`` devices and ``theta`` (and the optimiser state) replicated lets XLA
compute each device's ``B / D`` per-task gradients locally and reduce their mean with one
all-reduce; nothing here writes a collective by hand. The same code runs across several
processes (hosts) after ``jax.distributed.initialize``: the mesh then spans every
process's devices and each process feeds the rows of the batch that its devices hold.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jaxtyping import PyTree

from .. import _validate
from .._task import Task

AXIS = "tasks"


def task_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh named ``"tasks"`` over ``devices`` (default: every device of every process).

    Args:
        devices: the devices to spread a meta-batch over, in order; ``None`` takes
            ``jax.devices()``, which after ``jax.distributed.initialize`` includes the
            devices of all processes.

    Returns:
        A ``jax.sharding.Mesh`` of shape ``(D,)`` with the one axis ``"tasks"``.

    Raises:
        ValueError: when ``devices`` is empty, holds something other than jax devices, or
            repeats a device.

    Example:
        >>> mesh = task_mesh(jax.devices()[:1])
        >>> mesh.axis_names, mesh.size
        (('tasks',), 1)
    """
    devices = jax.devices() if devices is None else list(devices)
    if not devices or not all(isinstance(d, jax.Device) for d in devices):
        raise ValueError(f"`devices` must be a non-empty sequence of jax devices, got {devices!r}.")
    if len(set(devices)) != len(devices):
        raise ValueError(f"`devices` must not repeat a device, got {devices!r}.")
    return Mesh(np.array(devices), (AXIS,))


def check_meta_batch(meta_batch: int, mesh: Mesh) -> int:
    """``meta_batch`` itself, after checking that the mesh's devices divide it evenly.

    Args:
        meta_batch: the number of tasks ``B`` per meta-update.
        mesh: from :func:`task_mesh`, with ``D`` devices.

    Returns:
        ``meta_batch`` (an ``int``), a multiple of ``D``.

    Raises:
        TypeError, ValueError: when ``meta_batch`` is not a positive integer, or ``D`` does
            not divide it (the message suggests the next multiple).

    Example:
        >>> check_meta_batch(8, task_mesh(jax.devices()[:1]))
        8
    """
    _validate.positive_int("meta_batch", meta_batch)
    if meta_batch % mesh.size:
        raise ValueError(
            f"`meta_batch` ({meta_batch}) must be a multiple of the number of devices ({mesh.size}) "
            f"so that every device gets the same number of tasks; use a meta-batch of "
            f"{meta_batch + (-meta_batch) % mesh.size} or fewer devices."
        )
    return meta_batch


def task_sharding(mesh: Mesh) -> NamedSharding:
    """Arrays split along their leading (task) axis over the mesh."""
    return NamedSharding(mesh, PartitionSpec(AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
    """A full copy of an array on every device of the mesh."""
    return NamedSharding(mesh, PartitionSpec())


def _place(tree: PyTree, sharding: NamedSharding) -> PyTree:
    # Every process holds the full host value; each supplies the slices its devices own.
    def put(leaf):
        host = np.asarray(leaf)
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree_util.tree_map(put, tree)


def shard_tasks(tasks: Task, mesh: Mesh) -> Task:
    """Place a batch of ``B`` tasks with its task axis split over the mesh's ``D`` devices.

    Each device holds ``B / D`` consecutive tasks. Across processes, every process passes
    the same full batch (e.g. drawn from the same key) and contributes the rows its own
    devices hold, so no task is duplicated or missing.

    Args:
        tasks: a :class:`~amaml.Task` batch, arrays ``(B, n, ...)``, ``B`` a multiple of ``D``.
        mesh: from :func:`task_mesh`.

    Returns:
        The same :class:`~amaml.Task`, its four arrays global ``jax.Array`` objects sharded
        along the task axis (``PartitionSpec("tasks")``).

    Raises:
        TypeError: when ``tasks`` is not an :class:`~amaml.Task`.
        ValueError: when ``D`` does not divide ``B`` (:func:`check_meta_batch`).

    Example:
        >>> mesh = task_mesh(jax.devices()[:1])
        >>> tasks = Task(np.ones((4, 3, 2)), np.ones((4, 3, 1)), np.ones((4, 5, 2)), np.ones((4, 5, 1)))
        >>> sharded = shard_tasks(tasks, mesh)
        >>> sharded.support_x.shape, sharded.support_x.sharding.spec == PartitionSpec("tasks")
        ((4, 3, 2), True)
    """
    if not isinstance(tasks, Task):
        raise TypeError(f"`tasks` must be an amaml.Task (with a leading task axis), got {type(tasks).__name__}.")
    check_meta_batch(tasks.support_x.shape[0], mesh)
    return _place(tasks, task_sharding(mesh))


def replicate(tree: PyTree, mesh: Mesh) -> PyTree:
    """A full copy of every array of ``tree`` (params, optimiser state) on each mesh device.

    Across processes every process must pass the same values (the same initialisation or
    checkpoint); nothing checks this, as comparing would cost a collective.

    Args:
        tree: any pytree of arrays (host or device arrays, or anything ``np.asarray`` takes).
        mesh: from :func:`task_mesh`.

    Returns:
        ``tree`` with every leaf a global ``jax.Array`` replicated over the mesh.

    Example:
        >>> mesh = task_mesh(jax.devices()[:1])
        >>> params = replicate({"w": np.zeros(3)}, mesh)
        >>> params["w"].shape, params["w"].sharding.is_fully_replicated
        ((3,), True)
    """
    return _place(tree, replicated(mesh))


def constrain_tasks(tasks: Task, mesh: Mesh) -> Task:
    """Inside ``jax.jit``: ask XLA to split the task axis of ``tasks`` over the mesh.

    A sharding constraint (``jax.lax.with_sharding_constraint``), not a transfer: use it on
    a meta-batch drawn inside a jitted function (as :func:`amaml.train.make_update` does);
    outside jit, place host data with :func:`shard_tasks`.

    Args:
        tasks: a :class:`~amaml.Task` batch, arrays ``(B, n, ...)``, ``B`` a multiple of ``D``.
        mesh: from :func:`task_mesh`.

    Returns:
        ``tasks``, constrained to ``PartitionSpec("tasks")``.

    Example:
        >>> mesh = task_mesh(jax.devices()[:1])
        >>> tasks = Task(np.ones((4, 3, 2)), np.ones((4, 3, 1)), np.ones((4, 5, 2)), np.ones((4, 5, 1)))
        >>> total = jax.jit(lambda t: constrain_tasks(t, mesh).query_y.sum())
        >>> float(total(tasks))
        20.0
    """
    return jax.lax.with_sharding_constraint(tasks, task_sharding(mesh))


def jit_replicated(fn, mesh: Mesh):
    """``jax.jit(fn)`` with every argument and result replicated over the mesh.

    Args:
        fn: the function to compile; its arguments and results are pytrees of arrays.
        mesh: from :func:`task_mesh`.

    Returns:
        The jitted ``fn``, with ``in_shardings`` and ``out_shardings`` replicated.

    Example:
        >>> mesh = task_mesh(jax.devices()[:1])
        >>> mean = jit_replicated(lambda x: x.mean(), mesh)
        >>> float(mean(replicate(np.arange(4.0), mesh)))
        1.5
    """
    return jax.jit(fn, in_shardings=replicated(mesh), out_shardings=replicated(mesh))
