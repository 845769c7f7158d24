"""What a run reports: its progress events, its result, and the exception of an interrupted run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, NamedTuple

import optax

from ._config import RunConfig


class Progress(NamedTuple):
    """One progress event of a run, passed to the ``progress`` callback of :func:`run`.

    Attributes:
        phase: ``"compile"`` (before compiling the meta-update), ``"train"`` (after each
            meta-update) or ``"done"`` (at the end).
        step: meta-updates done so far.
        total: meta-updates the run will have done at the end.
        meta_loss: the latest meta-update's mean meta-loss (``None`` before the first).
        seconds: seconds since the phase began (compile), or since training began.
        label: what is being trained, e.g. ``"cosmixture: AdjointMAML"`` (the task source
            and the method, with the meta options that change it).

    Example:
        >>> event = Progress("train", 30, 100, 0.25, 1.5, "sinusoid: MAML")
        >>> f"{event.label}: {event.step}/{event.total}, meta-loss {event.meta_loss}"
        'sinusoid: MAML: 30/100, meta-loss 0.25'
    """

    phase: Literal["compile", "train", "done"]
    step: int
    total: int
    meta_loss: float | None
    seconds: float
    label: str


class RunResult(NamedTuple):
    """What :func:`run` returns.

    Attributes:
        config: the run's configuration (as stored in its directory).
        params, opt_state: the meta-parameters and optimiser state after ``step`` updates.
        step: meta-updates done (``config.meta.steps``).
        meta_loss: the last meta-update's mean meta-loss (``None`` if none ran now).
        trained: meta-updates run by this call (0 when the run was already complete).

    Example:
        >>> RunResult._fields  # run's example returns some
        ('config', 'params', 'opt_state', 'step', 'meta_loss', 'trained')
    """

    config: RunConfig
    params: Any
    opt_state: optax.OptState
    step: int
    meta_loss: float | None
    trained: int


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C (SIGINT) after a checkpoint of its last completed update.

    Attributes:
        run_dir: the run directory.
        step: meta-updates completed and saved.
        total: meta-updates the run was to do.
        checkpoint: the checkpoint written (or ``None`` when no update had completed).
    """

    def __init__(self, run_dir: Path, step: int, total: int, checkpoint: Path | None):
        self.run_dir, self.step, self.total, self.checkpoint = run_dir, step, total, checkpoint
        super().__init__(f"interrupted after meta-update {step} of {total}; checkpoint {checkpoint}")


ProgressFn = Callable[[Progress], None]
