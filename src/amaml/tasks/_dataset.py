"""The paper's protocol: fixed training and test functions, pools, a grid, standardisation."""

from __future__ import annotations

import abc
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .. import _validate
from .._task import Task
from ._base import AbstractTaskFamily


class Standardisation(NamedTuple):
    r"""Affine maps :math:`x \mapsto (x - \mu_x)/\sigma_x`, :math:`y \mapsto (y - \mu_y)/\sigma_y`.

    Fitted on the training functions' pools only; the test functions never contribute.
    :meth:`fit` takes the means and (biased) standard deviations over every example; :meth:`x`
    and :meth:`y` apply the maps.

    Attributes:
        x_mean, x_std: per input coordinate, shape ``(d,)``.
        y_mean, y_std: of the targets, scalars.

    Example:
        >>> import jax.numpy as jnp, amaml
        >>> st = amaml.tasks.Standardisation.fit(jnp.arange(6.0).reshape(3, 2), jnp.array([[1.0], [2.0], [3.0]]))
        >>> st.x_mean.tolist(), float(st.y(jnp.array([[2.0]]))[0, 0])
        ([2.0, 3.0], 0.0)
    """

    x_mean: Float[Array, " d"]
    x_std: Float[Array, " d"]
    y_mean: Float[Array, ""]
    y_std: Float[Array, ""]

    @classmethod
    def fit(cls, x: Float[Array, "... d"], y: Float[Array, "... 1"]) -> Standardisation:
        """The means and biased standard deviations of the examples ``x`` and targets ``y``.

        Args:
            x: the inputs, ``(..., d)``: statistics per coordinate, over every leading axis.
            y: the targets, any shape: one mean and one standard deviation over every entry.

        Returns:
            The :class:`Standardisation`; a constant coordinate gets ``x_std = 0`` (no guard).
        """
        x_flat = x.reshape(-1, x.shape[-1])
        return cls(jnp.mean(x_flat, axis=0), jnp.std(x_flat, axis=0), jnp.mean(y), jnp.std(y))

    def x(self, x: Float[Array, "... d"]) -> Float[Array, "... d"]:
        r"""Standardised inputs :math:`(x - \mu_x)/\sigma_x`, per coordinate.

        Args:
            x: inputs, ``(..., d)``.

        Returns:
            The standardised inputs, same shape.
        """
        shape = (1,) * (x.ndim - 1) + (-1,)  # explicit broadcast over the leading axes
        return (x - self.x_mean.reshape(shape)) / self.x_std.reshape(shape)

    def y(self, y: Float[Array, "... 1"]) -> Float[Array, "... 1"]:
        r"""Standardised targets :math:`(y - \mu_y)/\sigma_y`.

        Args:
            y: targets, any shape (``(..., 1)`` for a task family's).

        Returns:
            The standardised targets, same shape.
        """
        return (y - self.y_mean) / self.y_std


class AbstractMetaDataset(abc.ABC):
    """Where meta-training draws its tasks and evaluation finds its held-out test tasks.

    :class:`MetaDataset` (fixed synthetic functions; a ``NamedTuple``, registered as a
    virtual subclass) and :class:`amaml.data.CFMetaDataset` (one task per user) are the two.

    Example:
        >>> import amaml
        >>> issubclass(amaml.tasks.MetaDataset, amaml.tasks.AbstractMetaDataset)
        True
        >>> issubclass(amaml.data.CFMetaDataset, amaml.tasks.AbstractMetaDataset)
        True

        A meta-batch of one is ``data.sample(key, batch, shots, queries)``; its held-out tasks
        are ``data.test_tasks(shots)`` (see :class:`MetaDataset`).
    """

    @abc.abstractmethod
    def sample(self, key: PRNGKeyArray, batch: int, shots: int, queries: int) -> Task:
        """A meta-batch of ``batch`` training tasks with ``shots`` support and ``queries``
        query examples each; jittable (``batch``, ``shots``, ``queries`` static).

        Args:
            key: the PRNG key of the meta-batch (the same key, the same tasks).
            batch: training tasks in the meta-batch.
            shots: support examples per task (per class, for classification episodes).
            queries: query examples per task (per class, for classification episodes).

        Returns:
            A batch of tasks (:class:`amaml.Task`), arrays with a leading task axis of length ``batch``.
        """

    @abc.abstractmethod
    def test_tasks(self, shots: int) -> Task:
        """Every held-out test task, deterministically, with ``shots`` support examples.

        Args:
            shots: support examples per test task (per class, for classification episodes).

        Returns:
            A batch of every test task, the same on every call; the query sets are the dataset's own.
        """


class MetaDataset(NamedTuple):
    """Standardised pools of a fixed set of training and test functions (a pytree).

    Attributes:
        train_pool_x, train_pool_y: each training function's support pool,
            ``(F_train, pool, d)`` and ``(F_train, pool, 1)``.
        val_pool_x, val_pool_y: each training function's query pool, same shapes.
        test_pool_x, test_pool_y: each test function's support pool, ``(F_test, pool, .)``.
        grid_x: the dense test grid, ``(G, d)``; grid_y: ``(F_test, G, 1)``.
        standardisation: the statistics applied to all of the above (training pools only).

    Example:
        Made by :func:`make_dataset`:

        >>> import jax, amaml
        >>> data = amaml.tasks.make_dataset(amaml.tasks.Sinusoid(), jax.random.key(0), n_train=4, n_test=2,
        ...                                 pool=10, grid_points=20)
        >>> data.train_pool_x.shape, data.grid_y.shape
        ((4, 10, 1), (2, 20, 1))
        >>> test = data.test_tasks(3)  # every test function: 3 shots, the whole grid as the query set
        >>> test.support_x.shape, test.query_x.shape
        ((2, 3, 1), (2, 20, 1))
    """

    train_pool_x: Array
    train_pool_y: Array
    val_pool_x: Array
    val_pool_y: Array
    test_pool_x: Array
    test_pool_y: Array
    grid_x: Array
    grid_y: Array
    standardisation: Standardisation

    def sample(self, key: PRNGKeyArray, batch: int, shots: int, queries: int) -> Task:
        """A meta-batch: ``batch`` distinct training functions, ``shots`` support points from
        each one's support pool and ``queries`` from its query pool, without replacement.

        Jittable with ``batch``, ``shots`` and ``queries`` static.

        Args:
            key: the PRNG key of the functions and the points.
            batch: training functions, at most ``F_train``.
            shots: support points per task, at most ``pool``.
            queries: query points per task, at most ``pool``.

        Returns:
            The tasks, standardised: ``support_x`` ``(batch, shots, d)``, ``support_y`` ``(batch, shots, 1)``,
            ``query_x`` ``(batch, queries, d)``, ``query_y`` ``(batch, queries, 1)``.

        Raises:
            TypeError, ValueError: for ``batch``, ``shots`` or ``queries`` not a positive integer
                or above its limit (drawn without replacement, so there are no more).
        """
        n_functions, pool = self.train_pool_x.shape[:2]
        _validate.count_at_most("batch", batch, n_functions, "the training functions")
        _validate.count_at_most("shots", shots, pool, "the points of a support pool")
        _validate.count_at_most("queries", queries, self.val_pool_x.shape[1], "the points of a query pool")
        k_fn, k_support, k_query = jax.random.split(key, 3)
        functions = jax.random.choice(k_fn, n_functions, (batch,), replace=False)

        def pick(k, count):
            return jax.vmap(lambda kk: jax.random.permutation(kk, pool)[:count])(jax.random.split(k, batch))

        s_idx, q_idx = pick(k_support, shots), pick(k_query, queries)
        gather = jax.vmap(lambda data, idx: data[idx])
        return Task(
            gather(self.train_pool_x[functions], s_idx),
            gather(self.train_pool_y[functions], s_idx),
            gather(self.val_pool_x[functions], q_idx),
            gather(self.val_pool_y[functions], q_idx),
        )

    def test_tasks(self, shots: int) -> Task:
        """Every test function as a task: the first ``shots`` points of its (i.i.d. uniform)
        support pool, and the whole grid as the query set.

        Args:
            shots: support points per test task, at most ``pool``.

        Returns:
            The ``F_test`` tasks: ``support_x`` ``(F_test, shots, d)``, ``support_y`` ``(F_test, shots, 1)``,
            ``query_x`` ``(F_test, G, d)`` (the grid), ``query_y`` ``(F_test, G, 1)``.

        Raises:
            TypeError, ValueError: for ``shots`` not a positive integer or above ``pool``.
        """
        n_test, pool = self.test_pool_x.shape[:2]
        _validate.count_at_most("shots", shots, pool, "the points of a test function's support pool")
        grid = jnp.broadcast_to(self.grid_x[None], (n_test, *self.grid_x.shape))
        return Task(self.test_pool_x[:, :shots], self.test_pool_y[:, :shots], grid, self.grid_y)


AbstractMetaDataset.register(MetaDataset)


def make_dataset(
    family: AbstractTaskFamily,
    key: PRNGKeyArray,
    n_train: int = 100,
    n_test: int = 100,
    pool: int = 1000,
    grid_points: int = 1000,
) -> MetaDataset:
    """Draw the fixed functions and their data, and standardise with training statistics.

    ``n_train`` training functions get a support pool and a query pool of ``pool`` uniform
    inputs each; ``n_test`` held-out functions get a support pool and are evaluated on a
    dense grid of about ``grid_points`` inputs. Everything is determined by ``key``.

    Args:
        family: the task family, e.g. :class:`Sinusoid` or :class:`Alpine`.
        key: the PRNG key of the functions and their inputs.
        n_train: number of training functions (default 100).
        n_test: number of held-out test functions (default 100).
        pool: inputs per pool (default 1000).
        grid_points: about this many inputs on the test grid (default 1000; a tensor grid of
            ``int(grid_points ** (1/d))`` points per axis).

    Returns:
        A :class:`MetaDataset`, standardised with the training pools' statistics.

    Raises:
        TypeError, ValueError: for a count that is not a positive integer.

    Example:
        >>> import jax, amaml
        >>> data = amaml.tasks.make_dataset(amaml.tasks.Sinusoid(), jax.random.key(0), n_train=4, n_test=2,
        ...                                 pool=10, grid_points=20)
        >>> data.val_pool_y.shape, data.grid_x.shape
        ((4, 10, 1), (20, 1))
    """
    for name, value in (("n_train", n_train), ("n_test", n_test), ("pool", pool), ("grid_points", grid_points)):
        _validate.positive_int(name, value)
    k_train, k_test, k_tp, k_vp, k_sp = jax.random.split(key, 5)
    train_params = family.sample_parameters(k_train, n_train)
    test_params = family.sample_parameters(k_test, n_test)
    evaluate = jax.vmap(family.evaluate)
    train_x = family.sample_inputs(k_tp, n_train, pool)
    val_x = family.sample_inputs(k_vp, n_train, pool)
    test_x = family.sample_inputs(k_sp, n_test, pool)
    grid = family.grid(grid_points)
    train_y, val_y, test_y = (
        evaluate(train_params, train_x),
        evaluate(train_params, val_x),
        evaluate(test_params, test_x),
    )
    grid_y = jax.vmap(family.evaluate, in_axes=(0, None))(test_params, grid)
    st = Standardisation.fit(jnp.concatenate([train_x, val_x], 1), jnp.concatenate([train_y, val_y], 1))
    return MetaDataset(
        st.x(train_x),
        st.y(train_y),
        st.x(val_x),
        st.y(val_y),
        st.x(test_x),
        st.y(test_y),
        st.x(grid),
        st.y(grid_y),
        st,
    )
