"""`amaml train` across devices and hosts: flags, `jax.distributed`, the device mesh.

One process per host (or per GPU under SLURM) runs the same command. ``--coordinator``,
``--num-processes`` and ``--process-id`` start ``jax.distributed`` explicitly; ``--cluster``
lets jax read them from the scheduler's environment (SLURM, Open MPI, Cloud TPU, or
``JAX_COORDINATOR_ADDRESS``). On CPU, processes exchange data through gloo over TCP.
"""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger("amaml")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("devices and hosts")
    group.add_argument("--devices", default="1",
                       help="devices to split each meta-batch over: a count, or 'auto' for all (default 1)")
    group.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0 (multi-host)")
    group.add_argument("--num-processes", type=int, metavar="N", help="number of processes (multi-host)")
    group.add_argument("--process-id", type=int, metavar="I", help="this process, 0 ... N-1 (multi-host)")
    group.add_argument("--cluster", action="store_true",
                       help="multi-host, with the coordinator, process count and id from the environment (SLURM, ...)")


def _requested_devices(text: str) -> int | None:
    if text == "auto":
        return None
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"`--devices` must be 'auto' or a positive integer, got {text!r}.")
    return count


def _explicit(args: argparse.Namespace) -> dict | None:
    """The explicit jax.distributed arguments, checked; None when none is given."""
    given = {"--coordinator": args.coordinator, "--num-processes": args.num_processes, "--process-id": args.process_id}
    if all(v is None for v in given.values()):
        return None
    missing = [k for k, v in given.items() if v is None]
    if missing:
        raise ValueError(f"multi-host training needs --coordinator, --num-processes and --process-id together; "
                         f"missing {', '.join(missing)}.")
    if args.cluster:
        raise ValueError("`--cluster` reads the coordinator, process count and id from the environment; "
                         "give either it or --coordinator/--num-processes/--process-id, not both.")
    host, _, port = args.coordinator.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"`--coordinator` must be HOST:PORT with a port in 1 ... 65535, got {args.coordinator!r}.")
    if args.num_processes < 1:
        raise ValueError(f"`--num-processes` must be a positive integer, got {args.num_processes}.")
    if not 0 <= args.process_id < args.num_processes:
        raise ValueError(f"`--process-id` must be in 0 ... {args.num_processes - 1} "
                         f"(--num-processes {args.num_processes}), got {args.process_id}.")
    return {"coordinator_address": args.coordinator, "num_processes": args.num_processes,
            "process_id": args.process_id}


def setup(args: argparse.Namespace):
    """Start jax.distributed if asked, and return the task mesh, or None for one device.

    Call before any jax computation. Raises ValueError on inconsistent flags.
    """
    requested = _requested_devices(args.devices)
    explicit = _explicit(args)
    import jax

    if explicit is not None or args.cluster:
        try:
            jax.distributed.initialize(**(explicit or {}))
        except ValueError as error:  # --cluster outside a scheduler jax recognises
            raise ValueError(f"`--cluster`: jax.distributed found no coordinator, process count or id in the "
                             f"environment ({error}); use --coordinator/--num-processes/--process-id.") from None
        log.info("process %d of %d, %d local / %d global devices", jax.process_index(), jax.process_count(),
                 jax.local_device_count(), jax.device_count())
    available = jax.devices()
    count = len(available) if requested is None else requested
    if count > len(available):
        raise ValueError(
            f"`--devices` asks for {count} devices but jax sees {len(available)} ({available[0].platform}); "
            f"on CPU, simulate more with XLA_FLAGS=--xla_force_host_platform_device_count={count}.")
    if jax.process_count() > 1 and count != len(available):
        raise ValueError(f"with several processes `--devices` must be 'auto' or the global device count "
                         f"({len(available)}), got {count}.")
    if count == 1:
        return None
    from ..distributed import task_mesh

    return task_mesh(available[:count])


def is_writer() -> bool:
    """Only process 0 writes the run directory."""
    import jax

    return jax.process_index() == 0


def check_same_start(step: int) -> None:
    """All processes must resume from the same checkpoint step (a shared run directory)."""
    import jax

    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        try:
            multihost_utils.assert_equal(step)
        except AssertionError:
            raise ValueError(f"the processes resumed from different checkpoint steps (this one: {step}); "
                             "the run directory must be shared by all processes.") from None
