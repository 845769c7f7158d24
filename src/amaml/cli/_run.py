"""Meta-training and evaluation of one run directory (the CLI side: files and progress)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from tqdm import tqdm

from ..distributed import replicate
from ..losses import mse
from ..models import mlp_apply, mlp_init
from ..tasks import AbstractMetaDataset
from .._divergence import raise_if_diverged
from ..train import AdamFineTuning, InnerLoopFineTuning, make_update, meta_batch_at, nrmse_curve
from ._config import TrainConfig
from ._distributed import check_same_start, is_writer
from ._rundir import (
    append_metrics,
    atomic_write_text,
    load_latest_checkpoint,
    save_checkpoint,
    truncate_metrics,
)

log = logging.getLogger("amaml")
LOSS = mse(mlp_apply)


class Setup:
    """The objects a run is made of, rebuilt deterministically from its config."""

    def __init__(self, config: TrainConfig):
        self.config = config
        key = jax.random.key(config.seed)
        k_data, k_init, self.train_key = jax.random.split(key, 3)
        self.dataset: AbstractMetaDataset = config.build_dataset(k_data)
        self.method = config.build_method()
        self.optimizer = config.build_optimizer()
        self.init_params = mlp_init(k_init, config.layer_sizes(), config.jnp_dtype)

    def initial_state(self):
        return self.init_params, self.optimizer.init(self.init_params)


def prepare_run_dir(run_dir: Path, config: TrainConfig, write: bool = True) -> None:
    """Create the run dir with its config (if ``write``), or check that an existing one matches."""
    path = run_dir / "config.json"
    if path.exists():
        existing = TrainConfig.from_dict(json.loads(path.read_text()))
        if existing != config:
            raise ValueError(
                f"`run_dir` {run_dir} holds a run with a different configuration; "
                f"choose a new directory or resume with the same settings."
            )
        return
    if not write:
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, config.to_json() + "\n")


def train(config: TrainConfig, run_dir: Path, quiet: bool = False, mesh: Mesh | None = None):
    """Meta-train, resuming from the latest checkpoint in ``run_dir`` if there is one.

    ``mesh`` (from the --devices flags) splits each meta-batch over its devices; with several
    processes all of them train and only process 0 writes. Returns the final (params, opt_state).
    """
    writer = is_writer()
    prepare_run_dir(run_dir, config, write=writer)
    setup = Setup(config)
    params, opt_state = setup.initial_state()
    start = 0
    resumed = load_latest_checkpoint(run_dir, (params, opt_state))
    metrics = run_dir / "metrics.jsonl"
    if resumed is not None:
        start, (params, opt_state) = resumed
        if writer:
            truncate_metrics(metrics, start)
        log.info("resuming %s from step %d", run_dir, start)
    check_same_start(start)
    if mesh is not None:  # placed once, so the sharded update compiles once
        params, opt_state = replicate((params, opt_state), mesh)
    batch_args = (config.meta_batch, config.shots, config.queries)
    update = make_update(setup.method, LOSS, setup.optimizer, setup.dataset, setup.train_key, *batch_args,
                         skip_diverged=config.skip_diverged, mesh=mesh)
    test_tasks = setup.dataset.test_tasks(config.shots)

    @jax.jit
    def init_nrmse(p):
        """Mean nRMSE of the initialisation itself (no adaptation) over the test functions."""
        predictions = jax.vmap(mlp_apply, in_axes=(None, 0))(p, test_tasks.query_x)
        return jnp.mean(jnp.sqrt(jnp.mean((predictions - test_tasks.query_y) ** 2, axis=(1, 2))))
    bar = tqdm(range(start, config.meta_steps), initial=start, total=config.meta_steps, disable=quiet or not writer,
               desc=f"{config.method} {config.dataset or config.family}", unit="update", leave=False)
    for step in bar:
        result = update(params, opt_state, jnp.asarray(step))
        if not config.skip_diverged and bool(result.diverged.any()):
            # The step was withheld, so params are the finite ones after `step` updates: keep them.
            if writer:
                save_checkpoint(run_dir, step, (params, opt_state))
            bar.close()
            tasks = meta_batch_at(setup.dataset, setup.train_key, jnp.asarray(step), *batch_args)
            raise_if_diverged(result.diverged, setup.method, LOSS, params, tasks)
        params, opt_state = result.params, result.opt_state
        done = step + 1
        record = {"step": done, "meta_loss": float(result.meta_loss)}
        if config.skip_diverged:
            record["diverged_tasks"] = int(result.diverged.sum())
        if done % config.eval_every == 0 or done == config.meta_steps:
            record["test_nrmse_at_init"] = float(init_nrmse(params))
        bar.set_postfix(meta_loss=f"{record['meta_loss']:.4f}", refresh=False)  # tqdm throttles the redraw
        if not writer:
            continue
        append_metrics(metrics, record)
        if done % config.checkpoint_every == 0 or done == config.meta_steps:
            save_checkpoint(run_dir, done, (params, opt_state))
    bar.close()
    return params, opt_state


def load_trained(run_dir: Path) -> tuple[TrainConfig, Setup, object, int]:
    path = run_dir / "config.json"
    if not path.exists():
        raise ValueError(f"`run_dir` {run_dir} has no config.json; is it a run directory?")
    config = TrainConfig.from_dict(json.loads(path.read_text()))
    setup = Setup(config)
    resumed = load_latest_checkpoint(run_dir, setup.initial_state())
    if resumed is None:
        raise ValueError(f"`run_dir` {run_dir} has no readable checkpoint; train it first.")
    step, (params, _) = resumed
    return config, setup, params, step


def summarise(curve: np.ndarray, every: int) -> dict:
    """Mean, spread and quantiles over tasks at every recorded adaptation step, and every
    task's value at the last one (for paired comparisons)."""
    return {
        "final_per_task": curve[-1].tolist(),
        "steps": [i * every for i in range(curve.shape[0])],
        "mean": curve.mean(1).tolist(), "std": curve.std(1).tolist(),
        "median": np.median(curve, 1).tolist(),
        "q25": np.quantile(curve, 0.25, 1).tolist(), "q75": np.quantile(curve, 0.75, 1).tolist(),
    }


def evaluate(run_dir: Path, modes: tuple[str, ...] = ("adam", "inner"), adapt_steps: int = 1000,
             every: int = 10, adam_lr: float = 1e-3) -> dict:
    """nRMSE curves of the run's latest checkpoint on its held-out functions; writes eval.json."""
    config, setup, params, step = load_trained(run_dir)
    tuners = {"adam": AdamFineTuning(adam_lr), "inner": InnerLoopFineTuning(setup.method)}
    result = {"meta_step": step, "shots": config.shots, "n_test": config.n_test}
    for mode in modes:
        if mode not in tuners:
            raise ValueError(f"unknown evaluation mode {mode!r}; valid modes are: {', '.join(tuners)}.")
        curve = np.asarray(nrmse_curve(tuners[mode], LOSS, mlp_apply, params,
                                       setup.dataset.test_tasks(config.shots), adapt_steps, every))
        result[mode] = summarise(curve, every)
    atomic_write_text(run_dir / "eval.json", json.dumps(result, indent=1) + "\n")
    return result
