"""The ``amaml`` command: parses flags, calls :mod:`amaml.train` and :mod:`amaml.experiments`, prints.

Commands::

    amaml train --run-dir DIR [--config FILE.json] [--set SECTION.KEY=VALUE ...] [--devices auto|N]
                [--coordinator HOST:PORT --num-processes N --process-id I | --cluster]
    amaml config show [--run-dir DIR] [--config FILE.json] [--set SECTION.KEY=VALUE ...] [--values]
    amaml eval RUN_DIR [--modes adam,inner] [--adapt-steps 1000] [--every 10] [--out FILE] [--overwrite]
    amaml reproduce synthetic --budget {quick,standard,paper} [--out DIR]
    amaml reproduce cf --dataset movielens-100k [--budget standard] [--features onehot] [--out DIR]
    amaml reproduce inner-loop --budget {quick,standard} [--out DIR]
    amaml reproduce omniglot --budget {quick,standard,paper} [--data-dir DIR] [--out DIR]
    amaml reproduce omniglot-horizon --budget {quick,standard,paper} [--data-dir DIR] [--out DIR]
    amaml reproduce omniglot-updates --budget {quick,standard,paper} [--data-dir DIR] [--out DIR]
    amaml data fetch {movielens-100k,movielens-1m,jester-1,omniglot} [--dir DIR]
    amaml bench [--workloads paper,wide] [--steps 1,10,...] [--against torch,diffrax] [--out DIR]
    amaml scaling [--devices 1,2,4,8] [--batch 16] [--method A-MAML] [--steps 100] [--out DIR]
    amaml throughput [--batches 5,...,1000] [--torch-batches B,..|none] [--widths 32,...,1024] [--out DIR]
    amaml list

Exit codes: 0 done, 2 bad input (one line naming the argument), 3 training diverged (with
a diagnosis), 130 interrupted by Ctrl-C (after a checkpoint; the line says how to resume).
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys

from . import _commands, _distributed

log = logging.getLogger("amaml")


def _config_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="JSON file of config sections (the output of `amaml config show`)")
    parser.add_argument(
        "--set",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="set one key, e.g. method.steps=200, model.hidden=64,64, method.name=maml",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="amaml", description="Meta-learning with adjoint methods.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="meta-train into a run directory: new, resumed or extended")
    p.add_argument("--run-dir", required=True, help="run directory: created, or resumed with no other flags")
    _config_flags(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _distributed.add_arguments(p)
    p.set_defaults(func=_commands.cmd_train)

    p = sub.add_parser("config", help="show a resolved configuration with every key's type, default and meaning")
    p.add_argument("action", help="show")
    p.add_argument("--run-dir", help="start from this run's configuration instead of the defaults")
    _config_flags(p)
    p.add_argument("--values", action="store_true", help="values only (plain JSON for --config)")
    p.set_defaults(func=_commands.cmd_config)

    p = sub.add_parser("eval", help="nRMSE curves of a trained run on its held-out test tasks")
    p.add_argument("run_dir")
    p.add_argument("--modes", default="adam,inner", help="comma-separated: adam, inner")
    p.add_argument("--adapt-steps", type=int, default=1000)
    p.add_argument("--every", type=int, default=10)
    p.add_argument("--out", help="where to write the result (default RUN_DIR/eval.json)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing result file")
    p.set_defaults(func=_commands.cmd_eval)

    p = sub.add_parser("reproduce", help="run one of the paper's experiments and write a report")
    p.add_argument("experiment", help="synthetic, cf, inner-loop, omniglot, omniglot-horizon or omniglot-updates")
    p.add_argument("--budget", help="quick, standard or paper (default quick; cf: quick|standard, default standard)")
    p.add_argument("--dataset", help="cf: movielens-100k, movielens-1m or jester-1")
    p.add_argument("--data-dir", help="the data's directory (default data/DATASET, data/omniglot)")
    p.add_argument("--features", default="onehot", help="cf: onehot (default) or svd")
    p.add_argument("--out", help="output directory (default results/synthetic/BUDGET or results/cf/DATASET)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_commands.cmd_reproduce)

    p = sub.add_parser("data", help="fetch a rating dataset (for `reproduce cf`) or omniglot")
    p.add_argument("action", help="fetch")
    p.add_argument("name", help="movielens-100k, movielens-1m, jester-1 or omniglot")
    p.add_argument("--dir", help="where to put its file (default data/NAME)")
    p.set_defaults(func=_commands.cmd_data)

    p = sub.add_parser("bench", help="time and memory per meta-update against the number of inner steps")
    p.add_argument(
        "--workloads",
        default="paper,wide",
        help="comma-separated: paper, paper100, wide, conv4-omniglot-20w5s, conv4-omniglot-20w5s-b16",
    )
    p.add_argument("--steps", help="comma-separated K values (default: each workload's)")
    p.add_argument("--methods", help="comma-separated benchmark methods (default: each workload's)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--dtype", default="float32")
    p.add_argument("--against", help="comma-separated: torch (benchmarks/), diffrax; same gradient checked")
    p.add_argument("--out", default="results/bench/cpu")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement")
    p.add_argument("--memory-limit-gb", type=float, default=16.0)
    p.add_argument("--unroll", type=int, default=0, help="scan steps per loop iteration (0: by backend)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_commands.cmd_bench)

    p = sub.add_parser("scaling", help="meta-updates per second against the number of devices")
    p.add_argument("--devices", default="1,2,4,8", help="comma-separated device counts (simulated on CPU)")
    p.add_argument("--batch", type=int, default=16, help="meta-batch, fixed across device counts")
    p.add_argument("--method", default="A-MAML", help="a benchmark method (see `amaml list`)")
    p.add_argument("--steps", type=int, default=100, help="inner steps K")
    p.add_argument("--workload", default="paper", help="paper, paper100 or wide (model and points per task)")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--dtype", default="float32")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement")
    p.add_argument("--out", default="results/scaling/cpu")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_commands.cmd_scaling)

    p = sub.add_parser("throughput", help="meta-updates and tasks per second against meta-batch size and width")
    p.add_argument("--batches", default="5,10,50,100,500,1000", help="comma-separated meta-batch sizes")
    p.add_argument("--torch-batches", help="the batches that also time PyTorch (default: all; none: no PyTorch)")
    p.add_argument("--widths", default="32,64,128,256,512,1024", help="comma-separated MLP widths")
    p.add_argument("--width-batch", type=int, default=5, help="the meta-batch of the width sweep")
    p.add_argument("--steps", type=int, default=50, help="inner steps K")
    p.add_argument("--methods", help="comma-separated benchmark methods (default: A-MAML rk4/euler stored)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement")
    p.add_argument("--out", default="results/throughput/cpu")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_commands.cmd_throughput)

    p = sub.add_parser("list", help="list every name a configuration or command accepts")
    p.set_defaults(func=_commands.cmd_list)
    return parser


def _resume_hint(args: argparse.Namespace) -> str:
    if args.command == "train":
        return f"amaml train --run-dir {shlex.quote(str(args.run_dir))}"
    return args.command_line


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (see the module docstring)."""
    from .._divergence import DivergenceError
    from ..train import RunDirectoryInUse, RunInterrupted

    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.command_line = "amaml " + " ".join(shlex.quote(a) for a in argv)  # for report headers
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    try:
        return args.func(args)
    except (ValueError, TypeError, RunDirectoryInUse) as error:
        print(f"amaml: error: {error}", file=sys.stderr)
        return 2
    except DivergenceError as error:
        print(f"amaml: training diverged: {error}", file=sys.stderr)
        return 3
    except RunInterrupted as stop:
        where = f"checkpoint {stop.checkpoint}" if stop.checkpoint else "no checkpoint yet"
        print(
            f"\namaml: interrupted after meta-update {stop.step} of {stop.total}; {where}; "
            f"resume with: {_resume_hint(args)}",
            file=sys.stderr,
        )
        return 130
    except KeyboardInterrupt:
        print("\namaml: interrupted", file=sys.stderr)
        return 130
