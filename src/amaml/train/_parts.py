"""The objects a run is made of, rebuilt deterministically from its configuration."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jaxtyping import PRNGKeyArray

from .._meta import FeatureLoss, MetaParams
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
        loss_fn: ``loss_fn(params, x, y)``, the task loss (an :class:`amaml.FeatureLoss` of
            the model's body and head with ``meta.adapt=head``).
        optimizer: the optax meta-optimiser.
        init_params: the initial meta-parameters: the model's parameters, or an
            :class:`amaml.MetaParams` when the run learns shared parameters, rates or a horizon.
        train_key: the key every meta-batch is folded from (``fold_in(train_key, step)``).

    Example:
        >>> from amaml.models import MLP
        >>> from amaml.tasks import Sinusoid
        >>> from amaml.train import FunctionTasks, RunConfig
        >>> config = RunConfig(
        ...     tasks=FunctionTasks(Sinusoid(), n_train=4, n_test=2, shots=5, queries=5),
        ...     model=MLP((8,)),
        ...     method=amaml.MAML(2, 0.01),
        ... )
        >>> parts = build_parts(config)
        >>> params, opt_state = parts.initial_state()
        >>> parts.predictor(params)(params, jnp.zeros((3, 1))).shape
        (3, 1)
    """

    config: RunConfig
    dataset: AbstractMetaDataset
    method: AbstractMetaMethod
    model: AbstractModel
    loss_fn: LossFn | FeatureLoss
    optimizer: optax.GradientTransformation
    init_params: Any
    train_key: PRNGKeyArray

    def initial_state(self) -> tuple[Any, optax.OptState]:
        """``(params, optimiser state)`` before the first meta-update.

        Returns:
            ``(init_params, optimizer.init(init_params))``.
        """
        return self.init_params, self.optimizer.init(self.init_params)

    def model_params(self, params: Any) -> Any:
        """The model's full parameters (what ``model.apply`` takes) from the meta-parameters.

        Args:
            params: meta-parameters: the model's parameters themselves, or a :class:`amaml.MetaParams`.

        Returns:
            ``params`` unchanged, ``params.init`` (no shared body), or ``model.join(params.shared,
            params.init)`` with a head-only run's shared body; rates and horizon are not model parameters.
        """
        if not isinstance(params, MetaParams):
            return params
        return params.init if params.shared is None else self.model.join(params.shared, params.init)

    def predictor(self, params: Any) -> Callable[[Any, Any], Any]:
        """``predict(adapted, x)``: the model's predictions with ``adapted`` in place of the
        initialisation (``params.init``) and everything else of ``params`` as meta-learned.

        Args:
            params: the meta-parameters, as for :meth:`model_params`.

        Returns:
            ``predict(adapted, x)``, ``adapted`` shaped like ``params.init`` (like ``params`` itself when
            it is a plain pytree: ``predict`` is then ``model.apply``).
        """
        if not isinstance(params, MetaParams):
            return self.model.apply
        return lambda adapted, x: self.model.apply(self.model_params(params._replace(init=adapted)), x)


def build_parts(config: RunConfig) -> RunParts:
    """Build a run's objects; everything random derives from ``config.run.seed``.

    The seed's key is split into three: the data (which functions or users), the model's
    initialisation, and the meta-batches.

    Args:
        config: the run configuration.

    Returns:
        A :class:`RunParts`; the same configuration always gives the same parts.

    Raises:
        ValueError: when the data cannot be read or does not fit the configuration.

    Example:
        >>> from amaml.models import MLP
        >>> from amaml.tasks import Sinusoid
        >>> from amaml.train import FunctionTasks, RunConfig
        >>> config = RunConfig(
        ...     tasks=FunctionTasks(Sinusoid(), n_train=4, n_test=2, shots=5, queries=5),
        ...     model=MLP((8,)),
        ...     method=amaml.MAML(2, 0.01),
        ... )
        >>> parts = build_parts(config)
        >>> parts.dataset.sample(parts.train_key, 2, 5, 5).support_x.shape  # 2 tasks, 5 shots, 1-D inputs
        (2, 5, 1)
        >>> bool((build_parts(config).dataset.train_pool_y == parts.dataset.train_pool_y).all())  # deterministic
        True
    """
    dtype = config.run.jnp_dtype
    k_data, k_init, train_key = jax.random.split(jax.random.key(config.run.seed), 3)
    dataset = config.tasks.build(k_data, dtype)
    model_params = config.model.init(k_init, config.tasks.input_dim, config.tasks.output_dim, dtype)
    init_params, loss_fn = inner_learning(config, model_params, dtype)
    return RunParts(
        config, dataset, config.method, config.model, loss_fn, config.optimizer.build(), init_params, train_key
    )


def inner_learning(config: RunConfig, model_params: Any, dtype) -> tuple[Any, LossFn | FeatureLoss]:
    """The initial meta-parameters and the loss for the fields ``config.meta`` learns.

    Head-only (``adapt=head``): ``init`` is the model's head, ``shared`` its body, and the
    loss an :class:`amaml.FeatureLoss` (the body runs once per task). Rates start at 1
    (the inner step is then the method's ``step_size``), the horizon at ``steps * step_size``.
    Without learned fields the parameters stay a plain pytree, as in every earlier run.
    """
    meta, model = config.meta, config.model
    loss_fn = config.tasks.loss(model.apply)
    if not meta.learned_fields:
        return model_params, loss_fn
    shared, init = None, model_params
    if meta.adapt == "head":
        shared, init = model.split(model_params)
        loss_fn = FeatureLoss(model.features, config.tasks.loss(model.head_apply))
    rates = None
    if meta.rates != "none":
        shape = (lambda leaf: leaf.shape) if meta.rates == "parameter" else (lambda leaf: ())
        rates = jax.tree_util.tree_map(lambda leaf: jnp.ones(shape(leaf), dtype), init)
    horizon = None
    if meta.horizon == "learned":
        horizon = jnp.asarray(config.method.steps * config.method.step_size, dtype)
    return MetaParams(init, shared, rates, horizon), loss_fn


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

    Example:
        >>> TrainedRun._fields  # load_run's example reads one back
        ('parts', 'params', 'opt_state', 'step')
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
        A :class:`TrainedRun`; ``run.parts.model.apply(run.parts.model_params(run.params), x)``
        predicts with the meta-learned initialisation (``model_params`` also unpacks a run that
        learned :class:`amaml.MetaParams`), ``amaml.adapt(run.parts.method, run.parts.loss_fn,
        run.params, x, y)`` adapts it to a task.

    Raises:
        ValueError: when the directory holds no configuration or no readable checkpoint.

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
        ...     trained = load_run(run_dir)
        >>> trained.step, type(trained.parts.method).__name__
        (2, 'MAML')
        >>> trained.parts.model.apply(trained.parts.model_params(trained.params), jnp.zeros((3, 1))).shape
        (3, 1)
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
