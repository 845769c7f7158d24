"""The objects a run is made of, rebuilt deterministically from its configuration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import jax
import optax
from jaxtyping import PRNGKeyArray

from .._methods import AbstractMetaMethod
from ..losses import LossFn
from ..models import AbstractModel
from ..tasks import AbstractMetaDataset
from ._checkpoint import load_latest_checkpoint
from ._config import RunConfig

CONFIG_FILE = "config.json"


class RunParts(NamedTuple):
    """What :func:`build_parts` makes of a configuration.

    Attributes:
        config: the configuration.
        dataset: the meta-dataset (training tasks and held-out test tasks).
        method: the meta-gradient method.
        model: the task model; ``model.apply`` is what ``loss_fn`` wraps.
        loss_fn: ``loss_fn(params, x, y)``, the task loss.
        optimizer: the optax meta-optimiser.
        init_params: the initial meta-parameters.
        train_key: the key every meta-batch is folded from (``fold_in(train_key, step)``).
    """

    config: RunConfig
    dataset: AbstractMetaDataset
    method: AbstractMetaMethod
    model: AbstractModel
    loss_fn: LossFn
    optimizer: optax.GradientTransformation
    init_params: Any
    train_key: PRNGKeyArray

    def initial_state(self) -> tuple[Any, optax.OptState]:
        """``(params, optimiser state)`` before the first meta-update."""
        return self.init_params, self.optimizer.init(self.init_params)


def build_parts(config: RunConfig) -> RunParts:
    """Build a run's objects; everything random derives from ``config.run.seed``.

    The seed's key is split into three: the data (which functions or users), the model's
    initialisation, and the meta-batches.

    Raises:
        ValueError: when the data cannot be read or does not fit the configuration.
    """
    dtype = config.run.jnp_dtype
    k_data, k_init, train_key = jax.random.split(jax.random.key(config.run.seed), 3)
    dataset = config.tasks.build(k_data, dtype)
    init_params = config.model.init(k_init, config.tasks.input_dim, 1, dtype)
    return RunParts(
        config,
        dataset,
        config.method,
        config.model,
        config.tasks.loss(config.model.apply),
        config.optimizer.build(),
        init_params,
        train_key,
    )


def read_config(run_dir: Path) -> RunConfig | None:
    """The configuration stored in ``run_dir``, or ``None`` if it holds none.

    Raises:
        ValueError: when ``config.json`` exists but is not a valid configuration.
    """
    path = Path(run_dir) / CONFIG_FILE
    if not path.exists():
        return None
    try:
        values = json.loads(path.read_text())
        return RunConfig.from_dict(values)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{path} is not a valid run configuration: {error}") from None


class TrainedRun(NamedTuple):
    """A run read back from its directory by :func:`load_run`.

    Attributes:
        parts: the run's objects (configuration, dataset, method, model, loss, ...).
        params: the meta-learned parameters of the latest readable checkpoint.
        opt_state: the optimiser state saved with them.
        step: the number of meta-updates they have seen.
    """

    parts: RunParts
    params: Any
    opt_state: optax.OptState
    step: int


def load_run(run_dir: str | Path) -> TrainedRun:
    """Read a run's configuration and its latest trained parameters.

    Args:
        run_dir: a directory written by :func:`amaml.train.run` (or ``amaml train``).

    Returns:
        A :class:`TrainedRun`; ``run.parts.model.apply(run.params, x)`` predicts with the
        meta-learned initialisation, ``amaml.adapt(run.parts.method, run.parts.loss_fn,
        run.params, x, y)`` adapts it to a task.

    Raises:
        ValueError: when the directory holds no configuration or no readable checkpoint.

    Example:
        >>> trained = amaml.train.load_run("runs/a")  # doctest: +SKIP
        >>> trained.step, trained.parts.config.method  # doctest: +SKIP
    """
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    if config is None:
        raise ValueError(f"`run_dir` {run_dir} has no {CONFIG_FILE}; is it a run directory?")
    parts = build_parts(config)
    resumed = load_latest_checkpoint(run_dir, parts.initial_state())
    if resumed is None:
        raise ValueError(f"`run_dir` {run_dir} has no readable checkpoint; train it first.")
    step, (params, opt_state) = resumed
    return TrainedRun(parts, params, opt_state, step)
