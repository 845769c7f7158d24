"""User tasks: what a sampled task may contain, the held-out users, training-only statistics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from amaml.data import OneHotItems, Ratings, SVDItems, baseline_nrmse, make_cf_dataset
from cf_fixtures import random_ratings

ROWS = random_ratings(users=40, items=30, per_user=(6, 25), seed=3)
RATINGS = Ratings.from_rows(*zip(*ROWS))
ONEHOT = OneHotItems(dim=20)


def build(ratings=RATINGS, features=ONEHOT, **kw):
    kw = {"n_test": 6, "min_ratings": 10, "test_queries": 4, "dtype": jnp.float64} | kw
    return make_cf_dataset(ratings, features, jax.random.key(0), **kw)


def rated(ratings, users):
    """{user: {item: rating}} of the given users."""
    out = {int(u): {} for u in users}
    for u, i, r in zip(ratings.user, ratings.item, ratings.rating):
        if int(u) in out:
            out[int(u)][int(i)] = float(r)
    return out


def test_users_split_into_disjoint_test_and_training_users_with_enough_ratings():
    data = build()
    kept = set(data.items.tolist())
    counts = {u: sum(i in kept for i in items) for u, items in rated(RATINGS, np.unique(RATINGS.user)).items()}
    eligible = {u for u, c in counts.items() if c >= 10}
    assert len(data.test_users) == 6 and not set(data.test_users) & set(data.train_users)
    assert set(data.test_users) | set(data.train_users) == eligible
    # the kept items are the 20 most-rated ones
    ids, n = np.unique(RATINGS.item, return_counts=True)
    assert sorted(n[np.isin(ids, data.items)], reverse=True) == sorted(n, reverse=True)[:20]


def test_a_sampled_task_is_one_training_users_distinct_rated_items():
    data = build()
    mu, sigma = float(data.standardisation.y_mean), float(data.standardisation.y_std)
    train = rated(RATINGS, data.train_users)
    tasks = jax.jit(lambda k: data.sample(k, 7, 4, 6))(jax.random.key(1))
    assert tasks.support_x.shape == (7, 4, 20) and tasks.query_y.shape == (7, 6, 1)
    owners = []
    for b in range(7):
        x = np.concatenate([tasks.support_x[b], tasks.query_x[b]])
        y = np.concatenate([tasks.support_y[b], tasks.query_y[b]])[:, 0] * sigma + mu
        items = data.items[np.argmax(x, axis=1)].tolist()
        assert np.all(x.sum(1) == 1) and len(set(items)) == 10  # support and query disjoint, no repeats
        matches = [u for u, r in train.items() if all(r.get(i) == pytest.approx(v) for i, v in zip(items, y))]
        assert matches  # every item was rated by one training user, with that rating
        owners.append(matches)
    assert len({m[0] for m in owners if len(m) == 1}) == sum(len(m) == 1 for m in owners)  # distinct users


def test_statistics_and_features_come_from_training_users_only():
    data = build(features=SVDItems(dim=5))
    test = np.isin(RATINGS.user, data.test_users)
    shifted = RATINGS._replace(rating=np.where(test, 6 - RATINGS.rating, RATINGS.rating))
    other = build(shifted, features=SVDItems(dim=5))
    np.testing.assert_array_equal(other.test_users, data.test_users)
    for a, b in [
        (other.item_x, data.item_x),
        (other.item_mean, data.item_mean),
        (other.standardisation.y_mean, data.standardisation.y_mean),
        (other.standardisation.y_std, data.standardisation.y_std),
        (other.train_y, data.train_y),
    ]:
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(other.test_y, data.test_y)
    train_ratings = RATINGS.rating[np.isin(RATINGS.user, data.train_users)]
    np.testing.assert_allclose(
        [data.standardisation.y_mean, data.standardisation.y_std],
        [train_ratings.mean(), train_ratings.std()],
        rtol=1e-12,
    )


def test_svd_features_are_the_truncated_svd_item_factors():
    rng = np.random.default_rng(0)
    for n_users, n_items in ((12, 20), (20, 12)):
        matrix = rng.standard_normal((n_users, n_items)) * (rng.random((n_users, n_items)) < 0.7)
        user, item = np.nonzero(matrix)
        x = SVDItems(dim=4).fit(user, item, matrix[user, item], n_users, n_items)
        _, s, vt = np.linalg.svd(matrix, full_matrices=False)
        expected = vt[:4].T * s[None, :4]
        expected /= np.sqrt(np.mean(expected**2))
        signs = np.sign(np.sum(x * expected, axis=0))
        np.testing.assert_allclose(x * signs[None, :], expected, atol=1e-8)


def test_test_tasks_are_fixed_and_baselines_follow_their_definitions():
    data = build()
    small, large = data.test_tasks(3), build().test_tasks(5)
    np.testing.assert_array_equal(small.support_x, large.support_x[:, :3])  # one fixed order per user
    assert small.query_y.shape == (6, 4, 1) and large.query_x.shape == (6, 4, 20)
    np.testing.assert_array_equal(small.query_y[:, :2], large.support_y[:, 3:])
    scores = baseline_nrmse(data, 3)
    q, s = np.asarray(small.query_y[..., 0]), np.asarray(small.support_y[..., 0])
    np.testing.assert_allclose(scores["global mean"], np.sqrt(np.mean(q**2, 1)))
    np.testing.assert_allclose(scores["user mean"], np.sqrt(np.mean((q - s.mean(1, keepdims=True)) ** 2, 1)))
    item = data.items[np.argmax(np.asarray(small.query_x), axis=2)]
    train = rated(RATINGS, data.train_users)
    means = np.vectorize(lambda i: np.mean([r[i] for r in train.values() if i in r]))(item)
    expected = (means - float(data.standardisation.y_mean)) / float(data.standardisation.y_std)
    np.testing.assert_allclose(scores["item mean"], np.sqrt(np.mean((q - expected) ** 2, 1)))
    support_item = data.items[np.argmax(np.asarray(small.support_x), axis=2)]
    support_means = np.vectorize(lambda i: np.mean([r[i] for r in train.values() if i in r]))(support_item)
    offset = s - (support_means - float(data.standardisation.y_mean)) / float(data.standardisation.y_std)
    np.testing.assert_allclose(
        scores["item mean + user offset"], np.sqrt(np.mean((q - expected - offset.mean(1, keepdims=True)) ** 2, 1))
    )


@pytest.mark.parametrize(
    "call,words",
    [
        (lambda: build(RATINGS._replace(user=np.concatenate([RATINGS.user[:1], RATINGS.user[:-1]]))), "more than once"),
        (lambda: build(n_test=40), "`n_test` = 40"),
        (lambda: build(features=OneHotItems(dim=31)), "at least `dim` = 31"),
        (lambda: build().sample(jax.random.key(0), 2, 8, 4), "`shots` + `queries` (8 + 4)"),
        (lambda: build().test_tasks(7), "`shots` + `queries` (7 + 4)"),
        (lambda: build().sample(jax.random.key(0), 40, 2, 2), "`batch` (40) must not exceed the training users"),
        (lambda: build(features="onehot"), "`features` must be one of"),
    ],
)
def test_bad_input_is_one_clear_error(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert words in str(info.value)
