"""Several processes (hosts, or one per GPU under SLURM) training one run together.

``jax.distributed`` is started explicitly (coordinator address, process count and id) or
from a scheduler's environment (SLURM, Open MPI, Cloud TPU, ``JAX_COORDINATOR_ADDRESS``).
On CPU, processes exchange data through gloo over TCP.
"""

from __future__ import annotations

import logging

import jax
from jax.sharding import Mesh

from ._mesh import task_mesh

log = logging.getLogger("amaml")


def start_processes(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    from_environment: bool = False,
) -> None:
    """Start ``jax.distributed``; call before any JAX computation.

    Afterwards ``jax.devices()`` lists the devices of every process, so :func:`task_mesh`
    spans them all; every argument is checked before anything starts.

    Args:
        coordinator: ``HOST:PORT`` of process 0 (with ``num_processes`` and ``process_id``).
        num_processes: the number of processes.
        process_id: this process, ``0 ... num_processes - 1``.
        from_environment: read all three from the scheduler's environment instead.

    Raises:
        ValueError: when the arguments are incomplete or inconsistent, or the environment
            holds no coordinator.

    Example:
        >>> start_processes("10.0.0.1:1234", num_processes=2, process_id=0)  # waits for process 1  # doctest: +SKIP
        >>> start_processes("10.0.0.1", num_processes=2, process_id=0)  # checked before starting anything
        Traceback (most recent call last):
        ...
        ValueError: `coordinator` must be HOST:PORT with a port in 1 ... 65535, got '10.0.0.1'.
    """
    given = {"coordinator": coordinator, "num_processes": num_processes, "process_id": process_id}
    if from_environment:
        if any(v is not None for v in given.values()):
            raise ValueError("give either `from_environment` or coordinator/num_processes/process_id, not both.")
        try:
            jax.distributed.initialize()
        except ValueError as error:
            raise ValueError(
                f"jax.distributed found no coordinator, process count or id in the environment "
                f"({error}); give them explicitly."
            ) from None
    else:
        missing = [k for k, v in given.items() if v is None]
        if missing:
            raise ValueError(
                f"several processes need coordinator, num_processes and process_id together; "
                f"missing {', '.join(missing)}."
            )
        host, _, port = coordinator.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"`coordinator` must be HOST:PORT with a port in 1 ... 65535, got {coordinator!r}.")
        if num_processes < 1:
            raise ValueError(f"`num_processes` must be a positive integer, got {num_processes}.")
        if not 0 <= process_id < num_processes:
            raise ValueError(f"`process_id` must be in 0 ... {num_processes - 1}, got {process_id}.")
        jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes, process_id=process_id)
    log.info(
        "process %d of %d, %d local / %d global devices",
        jax.process_index(),
        jax.process_count(),
        jax.local_device_count(),
        jax.device_count(),
    )


def device_mesh(devices: int | None) -> Mesh | None:
    """The task mesh over the first ``devices`` devices (``None``: all), or ``None`` for one.

    Args:
        devices: how many of ``jax.devices()`` to use, or ``None`` for all of them (with
            several processes it must be all of them).

    Returns:
        A :func:`task_mesh` over ``jax.devices()[:devices]``, or ``None`` when that is a
        single device (nothing to split: the plain jitted update runs).

    Raises:
        ValueError: when more devices are asked for than JAX sees, or, with several
            processes, fewer than all of them.

    Example:
        >>> device_mesh(1) is None
        True
        >>> mesh = device_mesh(None)  # every device: None on a single one
        >>> mesh is None or mesh.size == jax.device_count()
        True
    """
    available = jax.devices()
    count = len(available) if devices is None else devices
    if count < 1:
        raise ValueError(f"`devices` must be a positive integer or None (all), got {devices!r}.")
    if count > len(available):
        raise ValueError(
            f"`devices` asks for {count} devices but jax sees {len(available)} ({available[0].platform}); "
            f"on CPU, simulate more with XLA_FLAGS=--xla_force_host_platform_device_count={count}."
        )
    if jax.process_count() > 1 and count != len(available):
        raise ValueError(f"with several processes `devices` must be all of them ({len(available)}), got {count}.")
    return None if count == 1 else task_mesh(available[:count])


def is_main_process() -> bool:
    """Whether this is process 0, the only one that writes a run's files.

    Returns:
        ``True`` in process 0 of ``jax.distributed`` (and in a single process), else ``False``.

    Example:
        >>> is_main_process()
        True
    """
    return jax.process_index() == 0


def check_same_step(step: int) -> None:
    """Every process must resume from the same checkpoint step (a shared run directory).

    With one process this does nothing; with several it is a collective (every process
    must call it).

    Args:
        step: the meta-update this process resumes from.

    Raises:
        ValueError: when they differ.

    Example:
        >>> check_same_step(100)  # one process: nothing to compare
    """
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        try:
            multihost_utils.assert_equal(step)
        except AssertionError:
            raise ValueError(
                f"the processes resumed from different checkpoint steps (this one: {step}); "
                "the run directory must be shared by all processes."
            ) from None
