"""Meta collaborative filtering: one regression task per user (the paper's section 2.3)."""

from __future__ import annotations

import dataclasses
from typing import final

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .. import _validate
from .._task import Task
from ..tasks import AbstractMetaDataset, Standardisation
from ._features import AbstractItemFeatures
from ._ratings import Ratings


@final
@dataclasses.dataclass(frozen=True, eq=False)
class CFMetaDataset(AbstractMetaDataset):
    r"""Users as tasks: x is an item's vector, y the user's standardised rating of it.

    Training users are stored flat (sorted by user, ``offset``/``count`` per user), so
    :meth:`sample` draws ``shots + queries`` distinct items a user rated under ``jit``:
    uniform noise on the user's ``count`` positions, invalid positions pushed to the end,
    ``argsort``. Test users have a fixed random order of their items (the first
    ``min_ratings``): support = the first ``shots``, query = the next ``test_queries``.
    Ratings are standardised, :math:`y = (r - \mu)/\sigma`, with the mean and standard
    deviation of the training users' ratings only.

    Attributes:
        item_x: item vectors, ``(I, d)``.
        train_item, train_y: item index and standardised rating of every training rating, ``(M,)``.
        train_offset, train_count: where each training user's ratings start, and how many, ``(U,)``.
        test_item, test_y: each test user's items in its fixed order, ``(n_test, min_ratings)``.
        item_mean: training users' mean standardised rating of each item (0 if unrated), ``(I,)``.
        standardisation: ``y_mean`` and ``y_std`` are :math:`\mu, \sigma` (x is not rescaled).
        train_users, test_users: the original user ids (numpy), disjoint.
        items: the original item id of each item index (numpy).
        max_count: the most ratings a training user has (static: the width of the sort).
        min_ratings: every kept user rated at least this many of the kept items.
        test_queries: query examples per test task.

    Example:
        >>> import jax, numpy as np
        >>> from amaml.data import OneHotItems, Ratings, make_cf_dataset
        >>> users, items = np.repeat(np.arange(1, 7), 4), np.tile(np.arange(1, 5), 6)
        >>> ratings = Ratings(users, items, ((users * items) % 5 + 1).astype(float))
        >>> data = make_cf_dataset(ratings, OneHotItems(4), jax.random.key(0), n_test=2, min_ratings=4, test_queries=1)
        >>> sample = jax.jit(data.sample, static_argnums=(1, 2, 3))  # batch, shots, queries: static
        >>> sample(jax.random.key(1), 3, 2, 2).support_x.shape  # 3 users, 2 support items, x of width 4
        (3, 2, 4)
        >>> data.test_tasks(3).query_y.shape
        (2, 1, 1)
    """

    item_x: Float[Array, "I d"]
    train_item: Int[Array, " M"]
    train_y: Float[Array, " M"]
    train_offset: Int[Array, " U"]
    train_count: Int[Array, " U"]
    test_item: Int[Array, "T r"]
    test_y: Float[Array, "T r"]
    item_mean: Float[Array, " I"]
    standardisation: Standardisation
    train_users: Int[np.ndarray, " U"]
    test_users: Int[np.ndarray, " T"]
    items: Int[np.ndarray, " I"]
    max_count: int
    min_ratings: int
    test_queries: int

    def _check(self, shots: int, queries: int) -> None:
        _validate.positive_int("shots", shots)
        _validate.positive_int("queries", queries)
        if shots + queries > self.min_ratings:
            raise ValueError(
                f"`shots` + `queries` ({shots} + {queries}) must not exceed `min_ratings` "
                f"({self.min_ratings}), the fewest ratings a kept user has."
            )

    def sample(self, key: PRNGKeyArray, batch: int, shots: int, queries: int) -> Task:
        """``batch`` distinct training users, each with ``shots`` support and ``queries`` query
        items drawn without replacement from the items that user rated.

        Jittable with ``batch``, ``shots`` and ``queries`` static.

        Args:
            key: the PRNG key of the users and their items.
            batch: training users (tasks), at most the number of training users.
            shots: support ratings per task.
            queries: query ratings per task.

        Returns:
            A batch of tasks: ``support_x`` ``(batch, shots, d)``, ``support_y`` ``(batch, shots, 1)``,
            ``query_x`` ``(batch, queries, d)``, ``query_y`` ``(batch, queries, 1)`` (standardised ratings).

        Raises:
            TypeError, ValueError: for ``batch``, ``shots`` or ``queries`` not a positive integer,
                ``batch`` above the training users, or ``shots + queries`` above ``min_ratings``.
        """
        _validate.count_at_most("batch", batch, self.train_count.shape[0], "the training users")
        self._check(shots, queries)
        width = self.max_count
        k_user, k_item = jax.random.split(key)
        users = jax.random.choice(k_user, self.train_count.shape[0], (batch,), replace=False)
        noise = jax.random.uniform(k_item, (batch, width))
        valid = jnp.arange(width, dtype=self.train_count.dtype)[None, :] < self.train_count[users][:, None]
        order = jnp.argsort(jnp.where(valid, noise, 2.0), axis=1)[:, : shots + queries]
        rows = self.train_offset[users][:, None] + order.astype(self.train_offset.dtype)  # argsort: default int
        return self._task(self.train_item[rows], self.train_y[rows], shots)

    def test_tasks(self, shots: int) -> Task:
        """Every test user: support = its first ``shots`` items in the fixed order, query =
        the next ``test_queries``.

        Args:
            shots: support ratings per test task.

        Returns:
            The test tasks, the same every call: ``support_x`` ``(n_test, shots, d)``, ``support_y``
            ``(n_test, shots, 1)``, ``query_x`` ``(n_test, test_queries, d)``, ``query_y``
            ``(n_test, test_queries, 1)``.

        Raises:
            TypeError, ValueError: for ``shots`` not a positive integer, or ``shots + test_queries``
                above ``min_ratings``.
        """
        self._check(shots, self.test_queries)
        end = shots + self.test_queries
        return self._task(self.test_item[:, :end], self.test_y[:, :end], shots)

    def _task(self, item, y, shots) -> Task:
        x, y = self.item_x[item], y[..., None]
        return Task(x[:, :shots], y[:, :shots], x[:, shots:], y[:, shots:])


def _seeded_rng(key: PRNGKeyArray) -> np.random.Generator:
    data = jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key
    return np.random.default_rng(np.asarray(data).ravel().tolist())


def make_cf_dataset(
    ratings: Ratings,
    features: AbstractItemFeatures,
    key: PRNGKeyArray,
    n_test: int = 100,
    min_ratings: int = 50,
    test_queries: int = 15,
    dtype=jnp.float32,
) -> CFMetaDataset:
    """Split users into ``n_test`` held-out test users and training users, and build the tasks.

    Items are those of ``features.select_items``; users with fewer than ``min_ratings``
    ratings of them are dropped (50 = 20 + 30, the paper's larger setting, so both settings
    see the same users). The test users are a random choice (by ``key``) among the rest;
    every other kept user trains. The standardisation, the item vectors and the item means
    come from the training users' ratings only.

    Args:
        ratings: the rating dataset (:func:`load_ratings`); each (user, item) pair at most once.
        features: the item input x (:class:`OneHotItems` or :class:`SVDItems`).
        key: a JAX random key; it chooses the test users and their items' order.
        n_test: held-out test users.
        min_ratings: users with fewer ratings of the kept items are dropped.
        test_queries: query ratings per test task.
        dtype: the float dtype of the item vectors and the ratings.

    Returns:
        :class:`CFMetaDataset`.

    Raises:
        ValueError: for empty ratings, a (user, item) pair rated twice, no more than ``n_test``
            users with ``min_ratings`` ratings, training ratings that are all equal, or a bad
            argument; ``features`` may raise too (too few items or users for its ``dim``).
        TypeError: for ``features`` that is not an :class:`AbstractItemFeatures`.

    Example:
        >>> import jax, numpy as np
        >>> from amaml.data import OneHotItems, Ratings, make_cf_dataset
        >>> users, items = np.repeat(np.arange(1, 7), 4), np.tile(np.arange(1, 5), 6)
        >>> ratings = Ratings(users, items, ((users * items) % 5 + 1).astype(float))
        >>> data = make_cf_dataset(ratings, OneHotItems(4), jax.random.key(0), n_test=2, min_ratings=4, test_queries=1)
        >>> len(data.train_users), len(data.test_users), data.item_x.shape
        (4, 2, (4, 4))
    """
    _validate.instance_of("features", features, AbstractItemFeatures, "amaml.data.OneHotItems or SVDItems")
    for name, value in (("n_test", n_test), ("min_ratings", min_ratings), ("test_queries", test_queries)):
        _validate.positive_int(name, value)
    if not isinstance(ratings, Ratings) or len(ratings.rating) == 0:
        raise ValueError("`ratings` must be a non-empty amaml.data.Ratings.")
    pairs, counts = np.unique(np.stack([ratings.user, ratings.item]), axis=1, return_counts=True)
    if counts.max() > 1:
        u, i = pairs[:, np.argmax(counts)]
        raise ValueError(f"`ratings` rates (user {u}, item {i}) more than once; each pair must be unique.")

    items = features.select_items(ratings.item)
    kept = np.isin(ratings.item, items)
    item = np.searchsorted(items, ratings.item[kept])
    users, user, per_user = np.unique(ratings.user[kept], return_inverse=True, return_counts=True)
    eligible = np.flatnonzero(per_user >= min_ratings)
    if len(eligible) <= n_test:
        raise ValueError(
            f"only {len(eligible)} users rated at least `min_ratings` = {min_ratings} of the kept "
            f"items; `n_test` = {n_test} test users need more."
        )
    rng = _seeded_rng(key)
    chosen = rng.permutation(eligible)
    test, train = chosen[:n_test], np.sort(chosen[n_test:])

    rating = ratings.rating[kept]
    is_train = np.isin(user, train)
    mean, std = rating[is_train].mean(), rating[is_train].std()
    if std == 0:
        raise ValueError("the training users' ratings are all equal; they cannot be standardised.")
    y = (rating - mean) / std

    rows = np.flatnonzero(is_train)
    rows = rows[np.argsort(user[rows], kind="stable")]
    train_index = np.searchsorted(train, user[rows])
    item_x = features.fit(train_index, item[rows], y[rows], len(train), len(items))
    seen = np.bincount(item[rows], minlength=len(items))
    item_mean = np.bincount(item[rows], weights=y[rows], minlength=len(items)) / np.maximum(seen, 1)
    count = np.bincount(train_index, minlength=len(train))
    offset = np.concatenate([[0], np.cumsum(count)[:-1]])
    test_rows = np.stack([rng.permutation(np.flatnonzero(user == u))[:min_ratings] for u in test])

    as_float = lambda a: jnp.asarray(a, dtype)  # noqa: E731
    as_int = lambda a: jnp.asarray(a, jnp.int32)  # noqa: E731
    d = item_x.shape[1]
    return CFMetaDataset(
        item_x=as_float(item_x),
        train_item=as_int(item[rows]),
        train_y=as_float(y[rows]),
        train_offset=as_int(offset),
        train_count=as_int(count),
        test_item=as_int(item[test_rows]),
        test_y=as_float(y[test_rows]),
        item_mean=as_float(item_mean),
        standardisation=Standardisation(jnp.zeros(d, dtype), jnp.ones(d, dtype), as_float(mean), as_float(std)),
        train_users=users[train],
        test_users=users[test],
        items=items,
        max_count=int(count.max()),
        min_ratings=min_ratings,
        test_queries=test_queries,
    )
