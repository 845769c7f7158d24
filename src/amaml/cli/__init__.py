"""The ``amaml`` command: the only part of the package that prints or writes files.

Commands::

    amaml train [--config FILE.json] [--set KEY=VALUE ...] --run-dir DIR [--devices auto|N]
                [--coordinator HOST:PORT --num-processes N --process-id I | --cluster]
    amaml eval RUN_DIR [--modes adam,inner] [--adapt-steps 1000]
    amaml reproduce synthetic --budget {quick,standard,paper} [--out DIR]
    amaml reproduce cf --dataset movielens-100k [--budget standard] [--features onehot] [--out DIR]
    amaml data fetch {movielens-100k,movielens-1m,jester-1} [--dir DIR]
    amaml bench [--workloads paper,wide] [--steps 1,10,...] [--against torch] [--out DIR]
    amaml scaling [--devices 1,2,4,8] [--batch 16] [--method A-MAML] [--steps 100] [--out DIR]
    amaml list
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import shlex
import sys
from pathlib import Path

from .. import _registry, _validate
from .._divergence import DivergenceError
from . import _distributed
from ._config import DTYPES, FAMILIES, OPTIMIZERS, TrainConfig

log = logging.getLogger("amaml")


def _parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    values = {}
    if args.config:
        path = Path(args.config)
        if not path.exists():
            raise ValueError(f"`--config` file {path} does not exist.")
        try:
            values = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"`--config` file {path} is not valid JSON: {error}") from None
        if not isinstance(values, dict):
            raise ValueError(f"`--config` file {path} must hold a JSON object.")
    for item in args.set or []:
        if "=" not in item:
            raise ValueError(f"`--set` expects KEY=VALUE, got {item!r}.")
        key, value = item.split("=", 1)
        values[key.strip()] = _parse_value(value)
    return TrainConfig.from_dict(values)


def _enable_x64_if_needed(dtype: str) -> None:
    if dtype == "float64":
        import jax

        jax.config.update("jax_enable_x64", True)


def cmd_train(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    _enable_x64_if_needed(config.dtype)
    mesh = _distributed.setup(args)
    if mesh is not None:
        from ..distributed import check_meta_batch

        check_meta_batch(config.meta_batch, mesh)
    from ._run import train

    train(config, Path(args.run_dir), quiet=args.quiet, mesh=mesh)
    if _distributed.is_writer():
        print(f"trained {config.method} on {config.dataset or config.family}: {args.run_dir}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    config_path = run_dir / "config.json"
    if not config_path.exists():
        raise ValueError(f"`run_dir` {run_dir} has no config.json; is it a run directory?")
    _enable_x64_if_needed(json.loads(config_path.read_text()).get("dtype", "float64"))
    from ._run import evaluate

    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    result = evaluate(run_dir, modes, args.adapt_steps, args.every)
    for mode in modes:
        summary = result[mode]
        print(f"{mode}: nRMSE at step 0 {summary['mean'][0]:.4f} +- {summary['std'][0]:.4f}, "
              f"at step {summary['steps'][-1]} {summary['mean'][-1]:.4f} +- {summary['std'][-1]:.4f}")
    print(f"wrote {run_dir / 'eval.json'}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    experiments = {"synthetic": _cmd_reproduce_synthetic, "cf": _cmd_reproduce_cf}
    return _registry.lookup("experiment", args.experiment, experiments)(args)


def _cmd_reproduce_synthetic(args: argparse.Namespace) -> int:
    from ._reproduce import BUDGETS

    budget = _registry.lookup("budget", args.budget or "quick", BUDGETS)
    _enable_x64_if_needed(budget.dtype)
    from ._report import git_commit, write_report
    from ._reproduce import reproduce_synthetic

    commit = git_commit()  # of the code that runs, not of whatever is checked out at the end
    out = Path(args.out or f"results/synthetic/{budget.name}")
    results = reproduce_synthetic(budget, out, quiet=args.quiet)
    path = write_report(results, budget, out, args.command_line, commit)
    print(path.read_text())
    print(f"wrote {path} and the panel figures in {out}")
    return 0


def _cmd_reproduce_cf(args: argparse.Namespace) -> int:
    from ._config import FEATURES
    from ._data import DATASETS, load_ratings
    from ._reproduce_cf import CF_BUDGETS

    budget = _registry.lookup("budget", args.budget or "standard", CF_BUDGETS)
    if args.dataset is None:
        raise ValueError(f"`reproduce cf` needs --dataset, one of: {', '.join(DATASETS)}.")
    _registry.lookup("dataset", args.dataset, DATASETS)
    _registry.lookup("item features", args.features, FEATURES)
    data_dir = args.data_dir or f"data/{args.dataset}"
    load_ratings(args.dataset, data_dir)  # a missing or malformed file fails here, before any training
    _enable_x64_if_needed(budget.dtype)
    from ._report import git_commit
    from ._report_cf import write_cf_report
    from ._reproduce_cf import reproduce_cf

    commit = git_commit()
    out = Path(args.out or f"results/cf/{args.dataset}" + ("" if args.features == "onehot" else f"-{args.features}"))
    results = reproduce_cf(budget, args.dataset, data_dir, args.features, out, quiet=args.quiet)
    path = write_cf_report(results, budget, out, args.command_line, commit)
    print(path.read_text())
    print(f"wrote {path}, {out / 'results.json'} and {out / 'nrmse.png'}")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from ._data import DATASETS, fetch

    if args.action != "fetch":
        raise ValueError(f"unknown data action {args.action!r}; valid actions are: fetch.")
    _registry.lookup("dataset", args.name, DATASETS)
    directory = Path(args.dir or f"data/{args.name}")
    ratings, users, items = fetch(args.name, directory).summary()
    print(f"{args.name}: {ratings} ratings, {users} users, {items} items in {directory / DATASETS[args.name].filename}")
    return 0


@contextlib.contextmanager
def _point_progress(total: int, desc: str, quiet: bool):
    """A progress bar over measurement points; yields ``progress(text)``, called once per point."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="point", disable=quiet)

    def progress(text):
        bar.set_postfix_str(text, refresh=False)
        bar.update(1)

    try:
        yield progress
    finally:
        bar.close()


def _names(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def cmd_bench(args: argparse.Namespace) -> int:
    import dataclasses

    from ._bench import TORCH_SCRIPT, WORKLOADS, run_bench, write_outputs
    from ._bench_worker import BENCH_METHODS
    from ._config import DTYPES
    from ._report import git_commit, header

    _registry.lookup("dtype", args.dtype, DTYPES)
    workloads = [_registry.lookup("workload", name, WORKLOADS) for name in _names(args.workloads)]
    if args.steps:
        steps = tuple(int(k) for k in _names(args.steps))
        if any(k < 1 for k in steps):
            raise ValueError(f"`--steps` must be positive integers, got {args.steps!r}.")
        workloads = [dataclasses.replace(w, steps=steps) for w in workloads]
    if args.methods:
        methods = tuple(_names(args.methods))
        for m in methods:
            _registry.lookup("benchmark method", m, dict.fromkeys(BENCH_METHODS))
        workloads = [dataclasses.replace(w, methods=methods) for w in workloads]
    if args.against not in (None, "torch"):
        raise ValueError(f"`--against` must be 'torch', got {args.against!r}.")
    if args.against == "torch":
        try:
            import torch  # noqa: F401
        except ImportError:
            raise ValueError("`--against torch` needs PyTorch: pip install -e '.[bench-torch]'.") from None
        if not TORCH_SCRIPT.exists():
            raise ValueError(f"`--against torch` needs the source checkout's {TORCH_SCRIPT}.")
    commit = git_commit()
    command = args.command_line
    total = sum(len(w.steps) * (len(w.methods) + (args.against == "torch")) for w in workloads)
    with _point_progress(total, "bench", args.quiet) as progress:
        result = run_bench(workloads, args.dtype, args.repeats, args.against == "torch", args.timeout,
                           args.memory_limit_gb, progress, args.unroll)
    out = Path(args.out)
    path = write_outputs(result, out, header("Time and memory per meta-update", command, commit), args.dtype)
    print(path.read_text())
    print(f"wrote {path}, {out / 'bench.json'} and the figures in {out}")
    return 0


def cmd_scaling(args: argparse.Namespace) -> int:
    from ._bench import WORKLOADS
    from ._bench_worker import BENCH_METHODS
    from ._report import git_commit, header
    from ._scaling import run_scaling, write_outputs

    _registry.lookup("dtype", args.dtype, DTYPES)
    _registry.lookup("workload", args.workload, WORKLOADS)
    _registry.lookup("benchmark method", args.method, dict.fromkeys(BENCH_METHODS))
    try:
        devices = [int(d) for d in _names(args.devices)]
    except ValueError:
        devices = []
    if not devices or any(d < 1 for d in devices):
        raise ValueError(f"`--devices` must be comma-separated positive integers, got {args.devices!r}.")
    for name in ("batch", "steps", "repeats"):
        _validate.positive_int(f"--{name}", getattr(args, name))
    uneven = [d for d in devices if args.batch % d]
    if uneven:
        raise ValueError(f"`--batch` ({args.batch}) must be a multiple of every device count; not of {uneven}.")
    commit = git_commit()
    with _point_progress(len(devices), "scaling", args.quiet) as progress:
        result = run_scaling(args.workload, args.method, args.steps, args.batch, devices, args.dtype, args.repeats,
                             args.timeout, progress)
    out = Path(args.out)
    path = write_outputs(result, out, header("Meta-updates per second against devices", args.command_line, commit))
    print(path.read_text())
    print(f"wrote {path}, {out / 'scaling.json'} and {out / 'scaling.png'}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from ._config import FEATURES
    from ._data import DATASETS
    from ._reproduce import BUDGETS
    from ._reproduce_cf import CF_BUDGETS

    print("methods:       " + ", ".join(_registry.METHODS))
    print("solvers:       " + ", ".join(_registry.SOLVERS))
    print("task families: " + ", ".join(FAMILIES))
    print("meta-optimizers: " + ", ".join(OPTIMIZERS) + "; dtypes: " + ", ".join(DTYPES))
    print("budgets:       " + ", ".join(f"{k} ({b.description})" for k, b in BUDGETS.items()))
    print("datasets:      " + ", ".join(DATASETS) + "; item features: " + ", ".join(FEATURES))
    print("cf budgets:    " + ", ".join(f"{k} ({b.description})" for k, b in CF_BUDGETS.items()))
    print("config keys:   " + ", ".join(json.loads(TrainConfig().to_json())))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="amaml", description="Meta-learning with adjoint methods.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="meta-train one configuration into a run directory (resumable)")
    p.add_argument("--config", help="JSON file of config keys (see `amaml list`)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one config key")
    p.add_argument("--run-dir", required=True, help="run directory (created, or resumed)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _distributed.add_arguments(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="nRMSE curves of a trained run on its held-out functions")
    p.add_argument("run_dir")
    p.add_argument("--modes", default="adam,inner", help="comma-separated: adam, inner")
    p.add_argument("--adapt-steps", type=int, default=1000)
    p.add_argument("--every", type=int, default=10)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("reproduce", help="run one of the paper's experiments and write a report")
    p.add_argument("experiment", help="synthetic or cf")
    p.add_argument("--budget", help="synthetic: quick (default), standard or paper; cf: quick or standard (default)")
    p.add_argument("--dataset", help="cf: movielens-100k, movielens-1m or jester-1")
    p.add_argument("--data-dir", help="cf: the directory holding the dataset's file (default data/DATASET)")
    p.add_argument("--features", default="onehot", help="cf: onehot (default) or svd")
    p.add_argument("--out", help="output directory (default results/synthetic/BUDGET or results/cf/DATASET)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_reproduce)

    p = sub.add_parser("data", help="fetch a rating dataset for `reproduce cf`")
    p.add_argument("action", help="fetch")
    p.add_argument("name", help="movielens-100k, movielens-1m or jester-1")
    p.add_argument("--dir", help="where to put its file (default data/NAME)")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("bench", help="time and memory per meta-update against the number of inner steps")
    p.add_argument("--workloads", default="paper,wide", help="comma-separated: paper, paper100, wide")
    p.add_argument("--steps", help="comma-separated K values (default: each workload's)")
    p.add_argument("--methods", help="comma-separated benchmark methods (default: each workload's)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--dtype", default="float32")
    p.add_argument("--against", help="torch: also time the PyTorch implementation in benchmarks/")
    p.add_argument("--out", default="results/bench/cpu")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement")
    p.add_argument("--memory-limit-gb", type=float, default=16.0)
    p.add_argument("--unroll", type=int, default=0, help="scan steps per loop iteration (0: by backend)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("scaling", help="meta-updates per second against the number of devices")
    p.add_argument("--devices", default="1,2,4,8", help="comma-separated device counts (simulated on CPU)")
    p.add_argument("--batch", type=int, default=16, help="meta-batch, fixed across device counts")
    p.add_argument("--method", default="A-MAML", help="a benchmark method (see `amaml bench`)")
    p.add_argument("--steps", type=int, default=100, help="inner steps K")
    p.add_argument("--workload", default="paper", help="paper, paper100 or wide (model and points per task)")
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--dtype", default="float32")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement")
    p.add_argument("--out", default="results/scaling/cpu")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_scaling)

    p = sub.add_parser("list", help="list methods, solvers, task families, budgets and config keys")
    p.set_defaults(func=cmd_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.command_line = "amaml " + " ".join(shlex.quote(a) for a in argv)  # for report headers
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    try:
        return args.func(args)
    except (ValueError, TypeError) as error:
        print(f"amaml: error: {error}", file=sys.stderr)
        return 2
    except DivergenceError as error:
        print(f"amaml: training diverged: {error}", file=sys.stderr)
        return 3
