"""The meta-optimiser, the meta-training loop's settings and the run's bookkeeping settings."""

from __future__ import annotations

import abc
import dataclasses
import numbers
from typing import Literal, final

import jax.numpy as jnp
import optax

from .. import _validate
from .._fields import option

DTYPES = {"float32": jnp.float32, "float64": jnp.float64}


class AbstractOptimizer(abc.ABC):
    """The outer (meta) optimiser: an optax transformation applied to the meta-gradient.

    A subclass is a frozen dataclass with a ``learning_rate`` field whose ``build()`` gives
    the optax transformation; registered in :data:`OPTIMIZERS`, it is chosen in a run
    configuration by ``optimizer.name``.

    Example:
        >>> from amaml.train import OPTIMIZERS
        >>> isinstance(SGD(), AbstractOptimizer), sorted(OPTIMIZERS)
        (True, ['adam', 'sgd'])
    """

    learning_rate: float

    @abc.abstractmethod
    def build(self) -> optax.GradientTransformation:
        """The optax transformation.

        Returns:
            An ``optax.GradientTransformation`` with this ``learning_rate``: it takes the meta-gradient,
            and its updates are added to the meta-parameters (``optax.apply_updates``).
        """


@final
@dataclasses.dataclass(frozen=True)
class SGD(AbstractOptimizer):
    """Plain gradient descent on the meta-parameters: ``theta <- theta - learning_rate * g``.

    Args:
        learning_rate: the meta learning rate, positive (default 0.01, the paper's).

    Raises:
        TypeError, ValueError: when ``learning_rate`` is not a positive finite number.

    Example:
        >>> sgd = SGD(0.1).build()
        >>> updates, _ = sgd.update({"w": jnp.ones(2)}, sgd.init({"w": jnp.zeros(2)}))
        >>> tuple(round(float(u), 3) for u in updates["w"])
        (-0.1, -0.1)
    """

    learning_rate: float = option(0.01, doc="meta learning rate (the paper's 0.01)", kw_only=False)

    def __post_init__(self) -> None:
        _validate.positive_float("learning_rate", self.learning_rate)

    def build(self) -> optax.GradientTransformation:
        return optax.sgd(self.learning_rate)


@final
@dataclasses.dataclass(frozen=True)
class Adam(AbstractOptimizer):
    """Adam (Kingma and Ba, 2015) with optax's default moments (0.9, 0.999, eps 1e-8).

    Args:
        learning_rate: the meta learning rate, positive (default 1e-3).

    Raises:
        TypeError, ValueError: when ``learning_rate`` is not a positive finite number.

    Example:
        >>> from amaml.train import RunConfig
        >>> RunConfig(optimizer=Adam(3e-4)).with_overrides(["optimizer.learning_rate=0.001"]).optimizer
        Adam(learning_rate=0.001)

    References:
        Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    """

    learning_rate: float = option(1e-3, doc="meta learning rate", kw_only=False)

    def __post_init__(self) -> None:
        _validate.positive_float("learning_rate", self.learning_rate)

    def build(self) -> optax.GradientTransformation:
        return optax.adam(self.learning_rate)


@final
@dataclasses.dataclass(frozen=True)
class MetaTraining:
    """How long and on how many tasks at a time the meta-parameters are trained.

    A meta-update whose tasks diverge (non-finite, or a meta-loss beyond
    ``max_meta_loss``) is withheld and the run stops with a diagnosis (``on_divergence =
    "raise"``), or the diverged tasks are left out of that update's mean (``"skip"``).

    Args:
        batch: tasks per meta-update (the meta-batch; default 5).
        steps: meta-updates in all (default 5000); raise it to extend a finished run.
        on_divergence: ``"raise"`` (stop with a diagnosis) or ``"skip"`` (leave diverged
            tasks out of the mean).
        max_meta_loss: a task whose meta-loss exceeds this in magnitude counts as diverged
            (default 1e10); ``None``: only NaN or inf do.
        adapt: what the inner loop adapts: ``"all"`` parameters, or ``"head"`` with the
            model's body meta-learned and shared (ANIL).
        rates: learned inner rates :math:`r > 0` (Meta-SGD): ``"none"``, ``"parameter"``
            (one per parameter) or ``"leaf"`` (one per leaf); they start at 1.
        horizon: the inner horizon :math:`T`: ``"fixed"`` at ``method.steps *
            method.step_size``, or ``"learned"`` from there.

    Raises:
        TypeError, ValueError: for a value out of its range or choices, naming the key.

    Example:
        >>> meta = MetaTraining(batch=4, steps=100, rates="leaf", horizon="learned")
        >>> sorted(meta.learned_fields), meta.skip_diverged
        (['horizon', 'rates'], False)
    """

    batch: int = option(5, doc="tasks per meta-update (the meta-batch)")
    steps: int = option(5000, doc="meta-updates in all; raise it to extend a finished run")
    on_divergence: Literal["raise", "skip"] = option(
        "raise", doc="on a diverged task: raise (stop with a diagnosis) or skip (leave it out of the mean)"
    )
    max_meta_loss: float | None = option(
        1e10, doc="a task whose meta-loss exceeds this in magnitude counts as diverged (none: only NaN/inf)"
    )
    adapt: Literal["all", "head"] = option(
        "all", doc="what the inner loop adapts: all parameters, or the model's head with the body shared (ANIL)"
    )
    rates: Literal["none", "parameter", "leaf"] = option(
        "none", doc="learned inner rates r > 0 (Meta-SGD): none, one per parameter or one per leaf; start at 1"
    )
    horizon: Literal["fixed", "learned"] = option(
        "fixed", doc="the inner horizon T: fixed at method.steps * method.step_size, or learned from there"
    )

    def __post_init__(self) -> None:
        _validate.positive_int("batch", self.batch)
        _validate.positive_int("steps", self.steps)
        if self.max_meta_loss is not None:
            _validate.positive_float("max_meta_loss", self.max_meta_loss)
        if self.on_divergence not in ("raise", "skip"):
            raise ValueError(f"`on_divergence` must be 'raise' or 'skip', got {self.on_divergence!r}.")
        for name, choices in (("adapt", ("all", "head")), ("rates", ("none", "parameter", "leaf"))):
            if getattr(self, name) not in choices:
                raise ValueError(f"`{name}` must be one of {', '.join(choices)}, got {getattr(self, name)!r}.")
        if self.horizon not in ("fixed", "learned"):
            raise ValueError(f"`horizon` must be 'fixed' or 'learned', got {self.horizon!r}.")

    @property
    def learned_fields(self) -> frozenset[str]:
        """The :class:`amaml.MetaParams` fields beyond ``init`` that this run meta-learns."""
        chosen = {"shared": self.adapt == "head", "rates": self.rates != "none", "horizon": self.horizon == "learned"}
        return frozenset(name for name, on in chosen.items() if on)

    @property
    def skip_diverged(self) -> bool:
        """The ``skip_diverged`` argument of :func:`amaml.meta_train_step`."""
        return self.on_divergence == "skip"


@final
@dataclasses.dataclass(frozen=True)
class RunSettings:
    """Randomness, precision and bookkeeping of a run.

    Args:
        seed: the PRNG seed of the data, the initialisation and the meta-batches
            (``0 <= seed < 2**32``; default 0).
        dtype: ``"float64"`` (default) or ``"float32"``, of the parameters and the data.
        eval_every: meta-updates between records of the test nRMSE at the initialisation.
        checkpoint_every: meta-updates between checkpoints (the latest two are kept).

    Raises:
        TypeError, ValueError: for a value out of its range or choices, naming the key.

    Example:
        >>> settings = RunSettings(seed=1, dtype="float32", checkpoint_every=50)
        >>> settings.jnp_dtype is jnp.float32
        True
    """

    seed: int = option(0, doc="PRNG seed of the data, the initialisation and the meta-batches (0 <= seed < 2**32)")
    dtype: Literal["float32", "float64"] = option("float64", doc="floating dtype of parameters and data")
    eval_every: int = option(500, doc="meta-updates between records of the test nRMSE at the initialisation")
    checkpoint_every: int = option(100, doc="meta-updates between checkpoints (the latest two are kept)")

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or not 0 <= self.seed < 2**32:
            raise ValueError(f"`seed` must be an integer in 0 ... 2**32 - 1, got {self.seed!r}.")
        if self.dtype not in DTYPES:
            raise ValueError(f"`dtype` must be 'float32' or 'float64', got {self.dtype!r}.")
        _validate.positive_int("eval_every", self.eval_every)
        _validate.positive_int("checkpoint_every", self.checkpoint_every)

    @property
    def jnp_dtype(self):
        """The dtype as a JAX dtype."""
        return DTYPES[self.dtype]
