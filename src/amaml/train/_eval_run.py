"""Evaluating a trained run on its held-out test tasks; the result goes to ``eval.json``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import _validate
from .._io import atomic_write_text
from ._evaluate import AdamFineTuning, InnerLoopFineTuning, nrmse_curve
from ._parts import load_run

MODES = ("adam", "inner")
"""``adam``: Adam (lr 1e-3) on the support set, the paper's protocol; ``inner``: the method's own inner loop."""


def summarise(curve: np.ndarray, every: int) -> dict:
    """Mean, spread and quantiles over tasks at every recorded adaptation step, and every
    task's value at the last one (for paired comparisons)."""
    return {
        "final_per_task": curve[-1].tolist(),
        "steps": [i * every for i in range(curve.shape[0])],
        "mean": curve.mean(1).tolist(),
        "std": curve.std(1).tolist(),
        "median": np.median(curve, 1).tolist(),
        "q25": np.quantile(curve, 0.25, 1).tolist(),
        "q75": np.quantile(curve, 0.75, 1).tolist(),
    }


def check_eval_settings(modes: tuple[str, ...], adapt_steps: int, every: int) -> tuple[str, ...]:
    """The modes, after checking every evaluation setting (before any work).

    Raises:
        ValueError, TypeError: naming the setting.
    """
    modes = tuple(modes)
    if not modes:
        raise ValueError(f"`modes` must name at least one of: {', '.join(MODES)}.")
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"unknown evaluation mode {mode!r}; valid modes are: {', '.join(MODES)}.")
    _validate.positive_int("adapt_steps", adapt_steps)
    _validate.positive_int("every", every)
    if adapt_steps % every:
        raise ValueError(f"`adapt_steps` ({adapt_steps}) must be a multiple of `every` ({every}).")
    return modes


def evaluate_run(
    run_dir: str | Path,
    modes: tuple[str, ...] = MODES,
    adapt_steps: int = 1000,
    every: int = 10,
    *,
    adam_lr: float = 1e-3,
    out: str | Path | None = None,
    overwrite: bool = False,
) -> dict:
    r"""nRMSE curves of a run's latest checkpoint on its held-out test tasks.

    For each mode, every test task is fine-tuned from the meta-learned initialisation on
    its support set for ``adapt_steps`` steps and its nRMSE on the query set recorded every
    ``every`` steps (:func:`nrmse_curve`). For ``inner`` the value at the method's own
    horizon (its ``steps`` inner steps, the number it was meta-trained for) is also given.

    Args:
        run_dir: the run directory.
        modes: a subset of :data:`MODES`.
        adapt_steps: fine-tuning steps.
        every: steps between records.
        adam_lr: Adam's learning rate for mode ``adam``.
        out: where to write the JSON (default ``run_dir/eval.json``).
        overwrite: replace an existing file (otherwise an existing one is an error).

    Returns:
        ``{"meta_step", "shots", "n_test", mode: summary...}``; each summary as
        :func:`summarise`, and for ``inner`` an ``"at_horizon"`` entry.

    Raises:
        ValueError: for invalid settings, a run without checkpoint, or an existing output
            file without ``overwrite``; all before any computation.

    Example:
        >>> import tempfile
        >>> from amaml.models import MLP
        >>> from amaml.tasks import Sinusoid
        >>> from amaml.train import FunctionTasks, MetaTraining, RunConfig
        >>> config = RunConfig(
        ...     tasks=FunctionTasks(Sinusoid(), n_train=4, n_test=2, shots=5, queries=5),
        ...     model=MLP((8,)),
        ...     method=amaml.MAML(2, 0.01),
        ...     meta=MetaTraining(batch=2, steps=2),
        ... )
        >>> with tempfile.TemporaryDirectory() as run_dir:
        ...     _ = amaml.train.run(config, run_dir)
        ...     result = evaluate_run(run_dir, modes=("inner",), adapt_steps=4, every=2)
        ...     written = (Path(run_dir) / "eval.json").exists()
        >>> inner = result["inner"]
        >>> result["meta_step"], result["n_test"], inner["steps"], written
        (2, 2, [0, 2, 4], True)
        >>> horizon = inner["at_horizon"]  # after the method's own 2 steps
        >>> horizon["steps"], len(inner["final_per_task"])
        (2, 2)
    """
    modes = check_eval_settings(modes, adapt_steps, every)
    _validate.positive_float("adam_lr", adam_lr)
    path = Path(out) if out is not None else Path(run_dir) / "eval.json"
    if path.exists() and not overwrite:
        raise ValueError(f"{path} already exists; choose another output file or overwrite it on purpose.")
    trained = load_run(run_dir)
    parts, config = trained.parts, trained.parts.config
    tasks = parts.dataset.test_tasks(config.tasks.shots)
    tuners = {"adam": AdamFineTuning(adam_lr), "inner": InnerLoopFineTuning(parts.method)}
    result = {"meta_step": trained.step, "shots": config.tasks.shots, "n_test": int(tasks.query_x.shape[0])}
    predict = parts.predictor(trained.params)
    for mode in modes:
        curve = np.asarray(nrmse_curve(tuners[mode], parts.loss_fn, predict, trained.params, tasks, adapt_steps, every))
        result[mode] = summarise(curve, every)
    if "inner" in modes:
        k = parts.method.steps
        at_k = np.asarray(nrmse_curve(tuners["inner"], parts.loss_fn, predict, trained.params, tasks, k, k))
        result["inner"]["at_horizon"] = {"steps": k, "mean": float(at_k[-1].mean()), "std": float(at_k[-1].std())}
    atomic_write_text(path, json.dumps(result, indent=1) + "\n")
    return result
