"""A meta-training run in a directory: start, resume, extend, stop cleanly on Ctrl-C."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
from jax.sharding import Mesh

from .. import distributed
from .._divergence import DivergenceKnobs, raise_if_diverged
from .._io import atomic_write_text
from .._meta import MetaParams
from ._checkpoint import RunLock, append_metrics, load_latest_checkpoint, save_checkpoint, truncate_metrics
from ._config import RunConfig
from ._parts import CONFIG_FILE, RunParts, build_parts, read_config
from ._run_types import Progress, ProgressFn, RunInterrupted, RunResult
from ._update import make_update, meta_batch_at

KNOBS = DivergenceKnobs(skip="meta.on_divergence=skip", threshold="meta.max_meta_loss", step_size="method.step_size")
"""A diverged run's advice names the configuration's keys (as typed after ``--set``)."""


def _plan(config: RunConfig | None, run_dir: Path) -> tuple[RunConfig, str]:
    """The configuration to run and what it does: ``"new"``, ``"resume"`` or ``"extend"``."""
    stored = read_config(run_dir)
    if config is None:
        if stored is None:
            raise ValueError(f"`run_dir` {run_dir} holds no run ({CONFIG_FILE} is missing); give a configuration.")
        return stored, "resume"
    if not isinstance(config, RunConfig):
        raise TypeError(f"`config` must be an amaml.train.RunConfig or None, got {type(config).__name__}.")
    if stored is None:
        return config, "new"
    if stored == config:
        return config, "resume"
    differences = stored.differences(config)
    if all(d.startswith("meta.steps:") for d in differences) and config.meta.steps > stored.meta.steps:
        return config, "extend"
    raise ValueError(
        f"`run_dir` {run_dir} holds a run with another configuration ({'; '.join(differences)}). Resume it "
        "without changes, extend it with a larger meta.steps, or use a new directory."
    )


class _Abort(KeyboardInterrupt):
    """A second Ctrl-C: stop at once, without writing anything more."""


@contextlib.contextmanager
def _stop_on_sigint() -> Iterator[threading.Event]:
    """A flag set by the first Ctrl-C, so the loop stops between updates; a second one aborts."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals reach the main thread only
        return

    def handler(signum, frame):
        if stop.is_set():
            raise _Abort
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def run(
    config: RunConfig | None, run_dir: str | Path, *, progress: ProgressFn | None = None, mesh: Mesh | None = None
) -> RunResult:
    """Meta-train into ``run_dir``: a new run, or resume or extend the one already there.

    With ``config=None`` the run stored in ``run_dir`` resumes. A configuration equal to
    the stored one resumes it; one that differs only by a larger ``meta.steps`` extends
    it; any other difference is refused, listing the differing keys. The configuration is
    checked and the data built before anything is written. The meta-batch of update
    ``s`` is drawn from ``fold_in(key, s)``, so a resumed or extended run ends bit-identical
    to an uninterrupted one.

    Args:
        config: the run configuration, or ``None`` to resume ``run_dir``'s.
        run_dir: the run directory (created if needed).
        progress: called with a :class:`Progress` event at each phase and after each update.
        mesh: a task mesh (:func:`amaml.distributed.task_mesh`) to split meta-batches over;
            with several processes all train and only process 0 writes.

    Returns:
        A :class:`RunResult`.

    Raises:
        ValueError: for an invalid configuration or a conflicting run directory.
        RunDirectoryInUse: when another process is training in ``run_dir``.
        amaml.DivergenceError: when a task diverges and ``meta.on_divergence`` is
            ``"raise"`` (the state before the failed update is checkpointed).
        RunInterrupted: on Ctrl-C, after checkpointing the last completed update.

    Example:
        >>> import tempfile
        >>> from amaml.models import MLP
        >>> from amaml.tasks import Sinusoid
        >>> from amaml.train import FunctionTasks, MetaTraining, RunConfig
        >>> config = RunConfig(
        ...     tasks=FunctionTasks(Sinusoid(), n_train=4, n_test=2, shots=5, queries=5),
        ...     model=MLP((8,)),
        ...     method=amaml.MAML(2, 0.01),
        ...     meta=MetaTraining(batch=2, steps=3),
        ... )
        >>> with tempfile.TemporaryDirectory() as run_dir:
        ...     events = []
        ...     result = amaml.train.run(config, run_dir, progress=events.append)
        ...     again = amaml.train.run(None, run_dir)  # resume: already complete
        ...     longer = amaml.train.run(config.with_overrides(["meta.steps=4"]), run_dir)  # extend
        >>> result.step, result.trained, again.trained, longer.step, longer.trained
        (3, 3, 0, 4, 1)
        >>> events[0].phase, events[1].phase, events[-1].phase
        ('compile', 'train', 'done')
    """
    run_dir = Path(run_dir)
    config, action = _plan(config, run_dir)
    config.check()
    parts = build_parts(config)  # reads and checks the data before anything is written
    writer = distributed.is_main_process()
    with RunLock(run_dir) if writer else contextlib.nullcontext():
        if writer and action != "resume":
            atomic_write_text(run_dir / CONFIG_FILE, config.to_json() + "\n")
        return _train(parts, run_dir, writer, progress or (lambda event: None), mesh)


def _train(parts: RunParts, run_dir: Path, writer: bool, progress: ProgressFn, mesh: Mesh | None) -> RunResult:
    config = parts.config
    total, meta = config.meta.steps, config.meta
    label = f"{parts.config.tasks.name}: {_method_label(parts.config)}"
    params, opt_state = parts.initial_state()
    start = 0
    resumed = load_latest_checkpoint(run_dir, (params, opt_state))
    metrics = run_dir / "metrics.jsonl"
    if resumed is not None:
        start, (params, opt_state) = resumed
        if writer:
            truncate_metrics(metrics, start)
    distributed.check_same_step(start)
    if start >= total:
        progress(Progress("done", start, total, None, 0.0, label))
        return RunResult(config, params, opt_state, start, None, 0)
    if mesh is not None:  # placed once, so the sharded update compiles once
        params, opt_state = distributed.replicate((params, opt_state), mesh)
    batch_args = (meta.batch, config.tasks.shots, config.tasks.queries)
    update = make_update(
        parts.method,
        parts.loss_fn,
        parts.optimizer,
        parts.dataset,
        parts.train_key,
        *batch_args,
        skip_diverged=meta.skip_diverged,
        mesh=mesh,
        max_meta_loss=meta.max_meta_loss,
    )
    metric = config.tasks.test_metric()
    if metric is not None:
        metric_name, metric_fn = metric
        test_tasks = parts.dataset.test_tasks(config.tasks.shots)
        at_init = jax.jit(lambda p: metric_fn(parts.model.apply, parts.model_params(p), test_tasks))
    # Only a run that learns a horizon or rates records them: no extra dispatch per update otherwise.
    learned = isinstance(params, MetaParams) and (params.horizon is not None or params.rates is not None)
    inner = jax.jit(inner_statistics) if learned else None

    done, meta_loss, saved = start, None, start
    with _stop_on_sigint() as stop:
        try:
            began = time.perf_counter()
            progress(Progress("compile", start, total, None, 0.0, label))
            update = update.lower(params, opt_state, jnp.asarray(start)).compile()
            began = time.perf_counter()
            progress(Progress("train", start, total, None, 0.0, label))
            for step in range(start, total):
                if stop.is_set():
                    raise KeyboardInterrupt
                result = update(params, opt_state, jnp.asarray(step))
                if not meta.skip_diverged and bool(result.diverged.any()):
                    # The update was withheld: params are the finite ones after `step` updates; keep them.
                    if writer:
                        save_checkpoint(run_dir, step, (params, opt_state))
                    tasks = meta_batch_at(parts.dataset, parts.train_key, jnp.asarray(step), *batch_args)
                    raise_if_diverged(
                        result.diverged,
                        parts.method,
                        parts.loss_fn,
                        params,
                        tasks,
                        max_meta_loss=meta.max_meta_loss,
                        knobs=KNOBS,
                    )
                params, opt_state, done = result.params, result.opt_state, step + 1
                meta_loss = float(result.meta_loss)
                record = {"step": done, "meta_loss": meta_loss}
                if inner is not None:  # one transfer for all the statistics
                    record.update((k, float(v)) for k, v in jax.device_get(inner(params)).items())
                if meta.skip_diverged:
                    record["diverged_tasks"] = int(result.diverged.sum())
                if metric is not None and (done % config.run.eval_every == 0 or done == total):
                    record[metric_name] = float(at_init(params))
                if writer:
                    append_metrics(metrics, record)
                    if done % config.run.checkpoint_every == 0 or done == total:
                        save_checkpoint(run_dir, done, (params, opt_state))
                        saved = done
                progress(Progress("train", done, total, meta_loss, time.perf_counter() - began, label))
        except _Abort:
            raise RunInterrupted(run_dir, saved, total, _latest(run_dir)) from None
        except KeyboardInterrupt:  # the first Ctrl-C, seen between updates: save where we are
            if writer and (done > saved or _latest(run_dir) is None):
                save_checkpoint(run_dir, done, (params, opt_state))
            raise RunInterrupted(run_dir, done, total, _latest(run_dir)) from None
    progress(Progress("done", done, total, meta_loss, time.perf_counter() - began, label))
    return RunResult(config, params, opt_state, done, meta_loss, done - start)


def inner_statistics(params: Any) -> dict[str, Any]:
    """What a run records of its learned inner loop: the horizon, and the rates' mean, min and max."""
    if not isinstance(params, MetaParams):
        return {}
    record = {}
    if params.horizon is not None:
        record["horizon"] = params.horizon
    if params.rates is not None:
        rates = jnp.concatenate([jnp.ravel(r) for r in jax.tree_util.tree_leaves(params.rates)])
        record.update(rate_mean=jnp.mean(rates), rate_min=jnp.min(rates), rate_max=jnp.max(rates))
    return record


def _latest(run_dir: Path) -> Path | None:
    checkpoints = sorted(run_dir.glob("ckpt_*.npz"))
    return checkpoints[-1] if checkpoints else None


def _method_label(config: RunConfig) -> str:
    """The method's class and whatever the meta options change (ANIL, Meta-SGD and a learned horizon
    are all DiscreteAdjoint runs; the class alone would not tell them apart)."""
    meta = config.meta
    changed = [
        f"{name}={value}"
        for name, value, plain in (
            ("adapt", meta.adapt, "all"),
            ("rates", meta.rates, "none"),
            ("horizon", meta.horizon, "fixed"),
        )
        if value != plain
    ]
    name = type(config.method).__name__
    return f"{name} ({', '.join(changed)})" if changed else name
