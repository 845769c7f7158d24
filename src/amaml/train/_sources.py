"""Task sources of a run: where its training tasks and held-out test tasks come from."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, final

from jaxtyping import Array, PRNGKeyArray

from .. import _validate, losses
from .._fields import option
from .._task import Task
from ..data import CFMetaDataset, make_cf_dataset
from ..data._features import AbstractItemFeatures, OneHotItems
from ..data._fetch import DATASETS, DataSource, load_ratings, where_to_put
from ..tasks import AbstractMetaDataset, AbstractTaskFamily, CosMixture, make_dataset


class AbstractTaskSource(abc.ABC):
    """The tasks of a run: a meta-dataset to train on, its test tasks, and the task loss.

    Abstract attributes every final subclass provides as fields: ``shots`` (support
    examples per task) and ``queries`` (query examples per training task). A subclass
    registered in :data:`TASK_SOURCES` is chosen in a run configuration by
    ``tasks.source``, its fields becoming the section's keys.

    Example:
        >>> from amaml.train import TASK_SOURCES
        >>> sorted(TASK_SOURCES)
        ['functions', 'omniglot', 'ratings']
        >>> FunctionTasks(n_train=3).check(meta_batch=5)
        Traceback (most recent call last):
        ...
        ValueError: `meta.batch` (5) must not exceed `tasks.n_train` (3): a meta-batch holds ...
    """

    shots: int
    queries: int

    @property
    @abc.abstractmethod
    def input_dim(self) -> int:
        """The width of one example's input (the model's input size)."""

    @property
    @abc.abstractmethod
    def output_dim(self) -> int:
        """The width of the model's output (1 for regression, the number of ways for classification)."""

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """A short name for progress and reports (``"sinusoid"``, ``"movielens-100k"``)."""

    @abc.abstractmethod
    def test_metric(self) -> tuple[str, Callable[[Callable, Any, Task], Array]] | None:
        """``(name, metric(apply_fn, model_params, test_tasks))`` a run records at the
        initialisation every ``run.eval_every`` updates, or ``None``.

        Returns:
            The metric's name (the key of its records) and the metric, a scalar of the unadapted
            model's predictions on the test tasks; ``None``: the run records none.
        """

    @abc.abstractmethod
    def check(self, meta_batch: int) -> None:
        """Everything that can be checked before any work: raise a clear ``ValueError``.

        Args:
            meta_batch: the run's tasks per meta-update (``meta.batch``).

        Raises:
            ValueError: naming what does not fit (a missing data file, a meta-batch too large).
        """

    @abc.abstractmethod
    def build(self, key: PRNGKeyArray, dtype) -> AbstractMetaDataset:
        """The meta-dataset, determined by ``key``, with arrays of ``dtype``.

        Args:
            key: the PRNG key of the data (which functions, users or test episodes).
            dtype: the floating dtype of the inputs (and of regression targets).

        Returns:
            The meta-dataset; the same ``key`` and data, the same dataset.

        Raises:
            ValueError: when the data cannot be read or does not fit the options.
        """

    @abc.abstractmethod
    def loss(self, apply_fn) -> losses.LossFn:
        """The task loss of a model ``apply_fn(params, x)``.

        Args:
            apply_fn: the model, ``apply_fn(params, x) -> predictions``.

        Returns:
            ``loss_fn(params, x, y) -> scalar``, the loss of one task's set.
        """


class AbstractRegressionTasks(AbstractTaskSource):
    """Regression task sources: one output, half mean squared error, the test nRMSE recorded.

    Example:
        >>> source = FunctionTasks()
        >>> isinstance(source, AbstractRegressionTasks), source.output_dim, source.test_metric()[0]
        (True, 1, 'test_nrmse_at_init')
    """

    @property
    def output_dim(self) -> int:
        return 1

    def loss(self, apply_fn) -> losses.LossFn:
        """Half mean squared error (:func:`amaml.losses.mse`).

        Args:
            apply_fn: the model, ``apply_fn(params, x) -> (n, 1)`` predictions.

        Returns:
            ``loss_fn(params, x, y) = mean((apply_fn(params, x) - y) ** 2) / 2``.
        """
        return losses.mse(apply_fn)

    def test_metric(self) -> tuple[str, Callable[[Callable, Any, Task], Array]]:
        """The test nRMSE of the initialisation itself: its mean over the test tasks, unadapted.

        Returns:
            ``("test_nrmse_at_init", metric)``, ``metric`` the mean over the test tasks of the query nRMSE.
        """
        from ._evaluate import mean_nrmse

        return "test_nrmse_at_init", mean_nrmse


def _check_sizes(source: AbstractTaskSource, names: tuple[str, ...]) -> None:
    for name in names:
        _validate.positive_int(name, getattr(source, name))


@final
@dataclasses.dataclass(frozen=True)
class FunctionTasks(AbstractRegressionTasks):
    """Fixed functions of a synthetic family, the paper's protocol (:func:`amaml.tasks.make_dataset`).

    ``n_train`` training functions with 1000-point support and query pools, ``n_test``
    held-out functions evaluated on a dense grid, standardised with training statistics.

    Args:
        family: the synthetic function family (default :class:`amaml.tasks.CosMixture` in
            2-D); its ``dtype`` is replaced by the run's.
        n_train: the number of fixed training functions.
        n_test: the number of held-out test functions.
        shots: support examples per task.
        queries: query examples per training task.

    Raises:
        TypeError, ValueError: for a family that is not one, or a size that is not a
            positive integer.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from amaml.tasks import Sinusoid
        >>> source = FunctionTasks(Sinusoid(), n_train=4, n_test=2, shots=5, queries=5)
        >>> dataset = source.build(jax.random.key(0), jnp.float64)
        >>> source.name, source.input_dim, dataset.sample(jax.random.key(1), 2, 5, 5).query_x.shape
        ('sinusoid', 1, (2, 5, 1))
    """

    family: AbstractTaskFamily = option(CosMixture(), doc="the synthetic function family", kw_only=False)
    n_train: int = option(100, doc="number of fixed training functions")
    n_test: int = option(100, doc="number of held-out test functions")
    shots: int = option(50, doc="support examples per task")
    queries: int = option(50, doc="query examples per training task")

    def __post_init__(self) -> None:
        if not isinstance(self.family, AbstractTaskFamily):
            raise TypeError(f"`family` must be a task family such as amaml.tasks.CosMixture(), got {self.family!r}.")
        _check_sizes(self, ("n_train", "n_test", "shots", "queries"))

    @property
    def input_dim(self) -> int:
        return self.family.dim

    @property
    def name(self) -> str:
        return type(self.family).__name__.lower()

    def check(self, meta_batch: int) -> None:
        if meta_batch > self.n_train:
            raise ValueError(
                f"`meta.batch` ({meta_batch}) must not exceed `tasks.n_train` ({self.n_train}): "
                "a meta-batch holds distinct training functions."
            )

    def build(self, key, dtype) -> AbstractMetaDataset:
        return make_dataset(dataclasses.replace(self.family, dtype=dtype), key, self.n_train, self.n_test)


@final
@dataclasses.dataclass(frozen=True)
class RatingTasks(AbstractRegressionTasks):
    r"""Users of a rating dataset as regression tasks (:func:`amaml.data.make_cf_dataset`).

    Users with fewer than ``min_ratings`` ratings of the kept items are dropped; ``n_test``
    of the rest are held out and the others train. The file is read from ``data_dir``.

    Args:
        dataset: the rating dataset, one of :data:`amaml.data.DATASETS` (default
            MovieLens-100K).
        data_dir: the directory holding the dataset's file (default ``data/DATASET``).
        features: the item input ``x``: :class:`amaml.data.OneHotItems` (default) or
            :class:`amaml.data.SVDItems`.
        min_ratings: users with fewer ratings of the kept items are dropped; at least
            ``shots + queries``.
        n_test: the number of held-out test users.
        shots: support ratings per task (the paper: 10 or 20).
        queries: query ratings per task, training and test (the paper: 15 or 30).

    Raises:
        TypeError, ValueError: for an option of the wrong type or out of range, naming it.

    Example:
        >>> import tempfile
        >>> import jax, jax.numpy as jnp
        >>> from amaml.data import OneHotItems
        >>> with tempfile.TemporaryDirectory() as data_dir:  # a tiny u.data: 4 users rate 6 items
        ...     rows = [f"{u}\t{i}\t{(u + i) % 5 + 1}\t0" for u in range(1, 5) for i in range(1, 7)]
        ...     _ = (Path(data_dir) / "u.data").write_text("\n".join(rows) + "\n")
        ...     source = RatingTasks(
        ...         data_dir=data_dir, features=OneHotItems(6), min_ratings=4, n_test=1, shots=2, queries=2
        ...     )
        ...     source.check(meta_batch=2)
        ...     dataset = source.build(jax.random.key(0), jnp.float64)
        >>> source.name, source.input_dim, dataset.sample(jax.random.key(1), 2, 2, 2).support_x.shape
        ('movielens-100k', 6, (2, 2, 6))
    """

    dataset: DataSource = option(DATASETS["movielens-100k"], doc="the rating dataset", kw_only=False)
    data_dir: str | None = option(None, doc="directory holding the dataset's file (none: data/DATASET)")
    features: AbstractItemFeatures = option(OneHotItems(), doc="the item input x: onehot or svd")
    min_ratings: int = option(50, doc="users with fewer ratings of the kept items are dropped")
    n_test: int = option(100, doc="number of held-out test users")
    shots: int = option(20, doc="support ratings per task (the paper: 10 or 20)")
    queries: int = option(30, doc="query ratings per task (the paper: 15 or 30)")

    def __post_init__(self) -> None:
        if not isinstance(self.dataset, DataSource):
            raise TypeError(f"`dataset` must be one of amaml.data.DATASETS, got {self.dataset!r}.")
        if self.data_dir is not None and not isinstance(self.data_dir, str):
            raise TypeError(f"`data_dir` must be a path string, got {self.data_dir!r}.")
        _check_sizes(self, ("min_ratings", "n_test", "shots", "queries"))
        if self.shots + self.queries > self.min_ratings:
            raise ValueError(
                f"`shots` + `queries` ({self.shots} + {self.queries}) must not exceed "
                f"`min_ratings` ({self.min_ratings})."
            )

    @property
    def input_dim(self) -> int:
        return self.features.dim

    @property
    def name(self) -> str:
        return DATASETS.name_of(self.dataset)

    @property
    def directory(self) -> Path:
        """Where the dataset's file is read from."""
        return Path(self.data_dir if self.data_dir is not None else f"data/{self.name}")

    def check(self, meta_batch: int) -> None:
        """The dataset's file must exist (the users are only known once read: the first draw checks the meta-batch).

        Args:
            meta_batch: the run's tasks per meta-update (not used).

        Raises:
            ValueError: when the file is missing, saying where to put it.
        """
        if not (self.directory / self.dataset.filename).is_file():
            raise ValueError(
                f"{self.name}: {self.directory / self.dataset.filename} does not exist; "
                f"{where_to_put(self.name, self.directory)}."
            )

    def build(self, key, dtype) -> CFMetaDataset:
        ratings = load_ratings(self.name, self.directory)
        return make_cf_dataset(ratings, self.features, key, self.n_test, self.min_ratings, self.queries, dtype)
