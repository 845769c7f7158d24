"""The commands: each parses its flags into library calls and prints what they return."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from . import _distributed
from ._progress import RunProgress, point_progress


def _names(text: str, ints: str = "") -> list:  # integers when `ints` names the flag (for the error)
    items = [t.strip() for t in text.split(",") if t.strip()]
    try:
        return [int(t) for t in items] if ints else items
    except ValueError:
        raise ValueError(f"`{ints}` must be comma-separated positive integers, got {text!r}.") from None


def _enable_x64_if_needed(dtype: str) -> None:
    if dtype == "float64":
        import jax

        jax.config.update("jax_enable_x64", True)


def _given_values(args: argparse.Namespace) -> dict:
    """The sections given by ``--config FILE`` with the ``--set`` items applied over them."""
    from ..train._config import parse_overrides

    values: dict = {}
    if getattr(args, "config", None):
        path = Path(args.config)
        if not path.is_file():
            raise ValueError(f"`--config` file {path} does not exist.")
        try:
            values = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"`--config` file {path} is not valid JSON: {error}") from None
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            raise ValueError(f"`--config` file {path} must hold a JSON object of sections (see `amaml config show`).")
    for section, items in parse_overrides(args.set or []).items():
        values[section] = {**values.get(section, {}), **items}
    return values


def resolve_config(args: argparse.Namespace):
    """The configuration the flags ask for: the run directory's own (``None``: resume it
    unchanged) with ``--config`` and ``--set`` applied, or the defaults with them."""
    from ..train import RunConfig
    from ..train._parts import read_config

    stored = read_config(Path(args.run_dir)) if getattr(args, "run_dir", None) else None
    values = _given_values(args)
    if not values and stored is not None:
        return None, stored
    return RunConfig.from_dict(values, base=stored), stored


def cmd_train(args: argparse.Namespace) -> int:
    config, stored = resolve_config(args)
    _enable_x64_if_needed((config or stored).run.dtype)
    mesh = _distributed.setup(args)
    from .. import distributed, train

    if mesh is not None:
        distributed.check_meta_batch((config or stored).meta.batch, mesh)
    result = train.run(config, args.run_dir, progress=RunProgress(args.quiet), mesh=mesh)
    if distributed.is_main_process():
        print(f"run directory {args.run_dir}: {result.step} meta-updates ({result.trained} now)")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    if args.action != "show":
        raise ValueError(f"unknown config action {args.action!r}; valid actions are: show.")
    config, stored = resolve_config(args)
    config = config or stored
    print(json.dumps(config.describe() if not args.values else config.to_dict(), indent=1))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from ..train import MODES
    from ..train._eval_run import check_eval_settings
    from ..train._parts import read_config

    modes = check_eval_settings(tuple(_names(args.modes)), args.adapt_steps, args.every)
    config = read_config(Path(args.run_dir))
    if config is None:
        raise ValueError(f"`run_dir` {args.run_dir} has no config.json; is it a run directory?")
    out = Path(args.out) if args.out else Path(args.run_dir) / "eval.json"
    if out.exists() and not args.overwrite:
        raise ValueError(f"{out} already exists; pass --overwrite to replace it, or --out FILE.")
    _enable_x64_if_needed(config.run.dtype)
    from ..train import evaluate_run

    result = evaluate_run(args.run_dir, modes, args.adapt_steps, args.every, out=out, overwrite=True)
    for mode in modes:
        s = result[mode]
        line = (
            f"{mode}: nRMSE at step 0 {s['mean'][0]:.4f} +- {s['std'][0]:.4f}, "
            f"at step {s['steps'][-1]} {s['mean'][-1]:.4f} +- {s['std'][-1]:.4f}"
        )
        if "at_horizon" in s:
            h = s["at_horizon"]
            line += f"; at the method's own horizon ({h['steps']} steps) {h['mean']:.4f} +- {h['std']:.4f}"
        print(line)
    print(f"wrote {out} ({', '.join(m for m in MODES if m in modes)}; {result['n_test']} test tasks)")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .._registry import Registry
    from ..experiments import REPRODUCTIONS, reproduce_and_report

    if Registry("experiment", {**REPRODUCTIONS, "cf": None}).lookup(args.experiment) is None:
        return _reproduce_cf(args)
    spec = REPRODUCTIONS[args.experiment]
    budget = spec.budgets.lookup(args.budget or "quick")
    _enable_x64_if_needed("float64" if spec.float64 or (spec.float64 is None and budget.dtype == "float64") else "")
    out = Path(args.out or f"{spec.results}/{budget.name}")
    reproduce, write = spec.bound(args.data_dir)
    path = reproduce_and_report(reproduce, write, budget, out, args.command_line, RunProgress(args.quiet, leave=False))
    print(path.read_text())
    print(f"wrote {path} and {spec.figures} in {out}")
    return 0


def _reproduce_cf(args: argparse.Namespace) -> int:
    from ..data import DATASETS
    from ..experiments import CF_BUDGETS
    from ..train import FEATURES, RatingTasks

    budget = CF_BUDGETS.lookup(args.budget or "standard")
    if args.dataset is None:
        raise ValueError(f"`reproduce cf` needs --dataset, one of: {', '.join(DATASETS)}.")
    features = FEATURES.lookup(args.features)()
    data_dir = args.data_dir or f"data/{args.dataset}"
    # the task source's own check: a missing data file is reported before any work
    RatingTasks(DATASETS.lookup(args.dataset), data_dir=data_dir).check(budget.meta_batch)
    _enable_x64_if_needed(budget.dtype)
    from ..experiments import git_commit, reproduce_cf, write_cf_report

    commit = git_commit()
    out = Path(args.out or f"results/cf/{args.dataset}" + ("" if args.features == "onehot" else f"-{args.features}"))
    results = reproduce_cf(budget, args.dataset, data_dir, features, out, progress=RunProgress(args.quiet, leave=False))
    path = write_cf_report(results, budget, out, args.command_line, commit)
    print(path.read_text())
    print(f"wrote {path}, {out / 'results.json'} and {out / 'nrmse.png'}")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from ..data import DATASETS, fetch

    if args.action != "fetch":
        raise ValueError(f"unknown data action {args.action!r}; valid actions are: fetch.")
    if args.name == "omniglot":
        from ..data import fetch_omniglot

        print(f"omniglot: the two official zips, checked, in {fetch_omniglot(Path(args.dir or 'data/omniglot'))}")
        return 0
    source = DATASETS.lookup(args.name)
    directory = Path(args.dir or f"data/{args.name}")
    ratings, users, items = fetch(args.name, directory).summary()
    print(f"{args.name}: {ratings} ratings, {users} users, {items} items in {directory / source.filename}")
    return 0


def _dtype(text: str) -> str:
    from ..train._sections import DTYPES

    if text not in DTYPES:
        raise ValueError(f"`--dtype` must be one of {', '.join(DTYPES)}, got {text!r}.")
    return text


def cmd_bench(args: argparse.Namespace) -> int:
    from ..experiments import COMPARISONS, bench_workloads, git_commit, header, run_bench, write_bench_report
    from ..experiments._bench import bench_points

    dtype = _dtype(args.dtype)
    steps = _names(args.steps, "--steps") if args.steps else None
    comparisons = [COMPARISONS.lookup(name) for name in _names(args.against or "")]
    workloads = bench_workloads(_names(args.workloads), steps, _names(args.methods or ""), comparisons)
    commit = git_commit()
    with point_progress(bench_points(workloads, comparisons), "bench", args.quiet) as progress:
        result = run_bench(
            workloads,
            dtype,
            args.repeats,
            comparisons,
            args.timeout,
            args.memory_limit_gb,
            progress,
            args.unroll,
        )
    out = Path(args.out)
    path = write_bench_report(result, out, header("Time and memory per meta-update", args.command_line, commit), dtype)
    print(path.read_text())
    print(f"wrote {path}, {out / 'bench.json'} and the figures in {out}")
    return 0


def cmd_scaling(args: argparse.Namespace) -> int:
    from ..experiments import git_commit, header, run_scaling, write_scaling_report
    from ..experiments._scaling import check_scaling

    devices = _names(args.devices, "--devices")
    check_scaling(args.workload, args.method, args.steps, args.batch, devices, args.repeats, prefix="--")
    commit = git_commit()
    with point_progress(len(devices), "scaling", args.quiet) as progress:
        result = run_scaling(
            args.workload,
            args.method,
            args.steps,
            args.batch,
            devices,
            _dtype(args.dtype),
            args.repeats,
            args.timeout,
            progress,
        )
    out = Path(args.out)
    path = write_scaling_report(
        result, out, header("Meta-updates per second against devices", args.command_line, commit)
    )
    print(path.read_text())
    print(f"wrote {path}, {out / 'scaling.json'} and {out / 'scaling.png'}")
    return 0


def cmd_throughput(args: argparse.Namespace) -> int:
    from ..experiments import git_commit, header, run_throughput, write_throughput_report
    from ..experiments._throughput import check_throughput

    options = {key: getattr(args, key) for key in ("steps", "width_batch", "repeats", "timeout")}
    options["batches"], options["widths"] = _names(args.batches, "--batches"), _names(args.widths, "--widths")
    options["methods"] = None if args.methods is None else _names(args.methods)
    torch = args.torch_batches
    options["torch_batches"] = None if torch is None else [] if torch == "none" else _names(torch, "--torch-batches")
    points, commit = check_throughput(**options, prefix="--"), git_commit()  # the commit of the code that runs
    with point_progress(points, "throughput", args.quiet) as progress:
        result = run_throughput(**options, progress=progress)
    title = "Throughput against the meta-batch size and the model width"
    path = write_throughput_report(result, Path(args.out), header(title, args.command_line, commit))
    print(f"{path.read_text()}\nwrote {path}, throughput.json, tasks.png and gflops.png in {args.out}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from .. import train
    from ..data import DATASETS
    from ..experiments import CF_BUDGETS, COMPARISONS, REPRODUCTIONS, WORKLOADS
    from ..experiments._bench import BENCH_METHOD_NAMES
    from ..train._config import SECTIONS

    rows = [
        ("methods", train.METHODS),
        ("solvers", train.SOLVERS),
        ("task sources", train.TASK_SOURCES),
        ("task families", train.FAMILIES),
        ("rating datasets", DATASETS),
        ("item features", train.FEATURES),
        ("models", train.MODELS),
        ("meta-optimizers", train.OPTIMIZERS),
    ]
    for title, registry in rows:
        print(f"{title + ':':18}{', '.join(registry)}")
    print(f"{'experiments:':18}{', '.join([*REPRODUCTIONS, 'cf'])} (`amaml reproduce NAME --budget B`)")
    for name, budgets in [*((name, spec.budgets) for name, spec in REPRODUCTIONS.items()), ("cf", CF_BUDGETS)]:
        print(f"{name + ':':18}" + ", ".join(f"{k} ({b.description})" for k, b in budgets.items()))
    print(f"{'bench workloads:':18}{', '.join(WORKLOADS)}; methods: {', '.join(BENCH_METHOD_NAMES)}")
    print(f"{'bench --against:':18}{', '.join(COMPARISONS)}")
    print(f"{'config sections:':18}" + ", ".join(s.name for s in SECTIONS) + " (keys: `amaml config show`)")
    return 0
