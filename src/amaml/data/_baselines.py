"""The plain recommender baselines, scored on the same test tasks as the meta-learners."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float

from ._cf import CFMetaDataset

BASELINES = ("global mean", "item mean", "user mean", "item mean + user offset")
"""The rating baselines every collaborative-filtering report compares with (:func:`baseline_nrmse`)."""


def baseline_nrmse(dataset: CFMetaDataset, shots: int) -> dict[str, Float[Array, " T"]]:
    r"""Per-test-user nRMSE on the query items of :meth:`CFMetaDataset.test_tasks` of three
    predictors that learn nothing across users:

    - ``global mean``: the training users' mean rating (0 in standardised units);
    - ``item mean``: the training users' mean rating of the query item (the global mean
      for an item no training user rated);
    - ``user mean``: the mean of the test user's own ``shots`` support ratings;
    - ``item mean + user offset``: the item mean plus the user's mean deviation from the item
      means over its support ratings (the classic bias model, fitted without meta-learning).

    nRMSE is :math:`\sqrt{\frac1q \sum_j (\hat y_j - y_j)^2}` in standardised units (RMSE /
    training-rating standard deviation), as for the meta-learners.

    Args:
        dataset: from :func:`make_cf_dataset`.
        shots: support ratings per test user (the first ``shots`` of its fixed order); the
            query items are the next ``dataset.test_queries``.

    Returns:
        ``{name: nRMSE}`` for each name of :data:`BASELINES`, each of shape ``(T,)``: one value
        per test user.

    Raises:
        ValueError: as :meth:`CFMetaDataset.test_tasks`, when ``shots + test_queries`` exceeds
            ``dataset.min_ratings``.

    Example:
        >>> import jax, numpy as np
        >>> from amaml.data import OneHotItems, Ratings, baseline_nrmse, make_cf_dataset
        >>> users, items = np.repeat(np.arange(1, 7), 4), np.tile(np.arange(1, 5), 6)
        >>> ratings = Ratings(users, items, ((users * items) % 5 + 1).astype(float))
        >>> data = make_cf_dataset(ratings, OneHotItems(4), jax.random.key(0), n_test=2, min_ratings=4, test_queries=1)
        >>> scores = baseline_nrmse(data, shots=2)
        >>> list(scores) == list(BASELINES), scores["user mean"].shape
        (True, (2,))
    """
    tasks = dataset.test_tasks(shots)
    end = shots + dataset.test_queries
    query_y = tasks.query_y[..., 0]
    support_y = tasks.support_y[..., 0]
    support_item_mean = dataset.item_mean[dataset.test_item[:, :shots]]
    item_mean = dataset.item_mean[dataset.test_item[:, shots:end]]
    user_mean = jnp.broadcast_to(jnp.mean(support_y, axis=1, keepdims=True), query_y.shape)
    offset = jnp.mean(support_y - support_item_mean, axis=1, keepdims=True)
    predictions = {
        "global mean": jnp.zeros_like(query_y),
        "item mean": item_mean,
        "user mean": user_mean,
        "item mean + user offset": item_mean + offset,
    }
    return {name: jnp.sqrt(jnp.mean((p - query_y) ** 2, axis=1)) for name, p in predictions.items()}
