"""`amaml train` across devices and hosts: the flags, handed to :mod:`amaml.distributed`."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("devices and hosts")
    group.add_argument(
        "--devices", default="1", help="devices to split each meta-batch over: a count, or 'auto' for all (default 1)"
    )
    group.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0 (multi-host)")
    group.add_argument("--num-processes", type=int, metavar="N", help="number of processes (multi-host)")
    group.add_argument("--process-id", type=int, metavar="I", help="this process, 0 ... N-1 (multi-host)")
    group.add_argument(
        "--cluster",
        action="store_true",
        help="multi-host, with the coordinator, process count and id from the environment (SLURM, ...)",
    )


def requested_devices(text: str) -> int | None:
    """``--devices``: ``None`` for all, else a positive count."""
    if text == "auto":
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"`--devices` must be 'auto' or a positive integer, got {text!r}.")
    return int(text)


def setup(args: argparse.Namespace):
    """Start jax.distributed if the flags ask for it; return the task mesh, or None for one device."""
    from .. import distributed

    devices = requested_devices(args.devices)
    explicit = (args.coordinator, args.num_processes, args.process_id)
    if args.cluster and any(v is not None for v in explicit):
        raise ValueError(
            "`--cluster` reads the coordinator, process count and id from the environment; "
            "give either it or --coordinator/--num-processes/--process-id, not both."
        )
    try:
        if args.cluster:
            distributed.start_processes(from_environment=True)
        elif any(v is not None for v in explicit):
            distributed.start_processes(*explicit)
        return distributed.device_mesh(devices)
    except ValueError as error:  # name the flags, not the Python arguments
        text = str(error)
        for word, flag in (
            ("`devices`", "`--devices`"),
            ("coordinator", "--coordinator"),
            ("num_processes", "--num-processes"),
            ("process_id", "--process-id"),
            ("give them explicitly", "use --coordinator/--num-processes/--process-id"),
        ):
            text = text.replace(word, flag)
        raise ValueError(text) from None
