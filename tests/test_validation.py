"""Property-based checks of input validation: every bad input gets one clear error, up front.

The run configuration's keys and names are checked in tests/train/test_config.py."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import amaml

LOSS = amaml.losses.mse(amaml.models.mlp_apply)
PARAMS = amaml.models.mlp_init(jax.random.key(0), [2, 4, 1], jnp.float64)
METHOD = amaml.MAML(2, 0.1)
CLASSES = [amaml.AdjointMAML, amaml.DiscreteAdjoint, amaml.MAML, amaml.FOMAML, amaml.IMAML, amaml.Reptile]
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
sizes = st.integers(1, 6)


def tasks_of(batch, n_s, n_q, d_s=2, d_q=2, ys=None, yq=None, dtype=jnp.float64):
    return amaml.Task(
        jnp.zeros((batch, n_s, d_s), dtype),
        jnp.zeros((batch, ys if ys is not None else n_s, 1), dtype),
        jnp.zeros((batch, n_q, d_q), dtype),
        jnp.zeros((batch, yq if yq is not None else n_q, 1), dtype),
    )


def rejected(tasks, exception, *words):
    with pytest.raises(exception) as caught:
        amaml.meta_value_and_grad(METHOD, LOSS, PARAMS, tasks)
    assert all(w in str(caught.value) for w in words), str(caught.value)


@FAST
@given(batch=sizes, n=sizes, other=sizes, query=st.booleans())
def test_mismatched_example_counts_of_x_and_y(batch, n, other, query):
    if n == other:
        other += 1
    if query:
        rejected(tasks_of(batch, 3, n, yq=other), ValueError, "`tasks.query_x`", "`tasks.query_y`", "leading")
    else:
        rejected(tasks_of(batch, n, 3, ys=other), ValueError, "`tasks.support_x`", "`tasks.support_y`", "leading")


@FAST
@given(batch=sizes, d_s=sizes, d_q=sizes)
def test_support_and_query_feature_dimensions_must_agree(batch, d_s, d_q):
    if d_s == d_q:
        d_q += 1
    rejected(tasks_of(batch, 3, 3, d_s, d_q), ValueError, "feature shape", str((d_s,)), str((d_q,)))


@FAST
@given(batch=sizes, n=sizes, query=st.booleans())
def test_empty_support_or_query_sets(batch, n, query):
    tasks = tasks_of(batch, n, 0) if query else tasks_of(batch, 0, n)
    rejected(tasks, ValueError, "`tasks.query_x` is empty" if query else "`tasks.support_x` is empty")


@FAST
@given(
    batch=sizes,
    n=sizes,
    field=st.sampled_from(amaml.Task._fields),
    value=st.sampled_from([np.nan, np.inf, -np.inf]),
    data=st.data(),
)
def test_non_finite_data_is_named(batch, n, field, value, data):
    tasks = tasks_of(batch, n, n)
    array = np.array(getattr(tasks, field))
    index = tuple(data.draw(st.integers(0, s - 1)) for s in array.shape)
    array[index] = value
    rejected(tasks._replace(**{field: jnp.asarray(array)}), ValueError, f"`tasks.{field}`", "1 non-finite")


@FAST
@given(batch=sizes, n=sizes, dtype=st.sampled_from([jnp.int32, jnp.int64, jnp.bool_]))
def test_integer_targets_with_mse_are_refused(batch, n, dtype):
    tasks = tasks_of(batch, n, n)
    tasks = tasks._replace(support_y=tasks.support_y.astype(dtype), query_y=tasks.query_y.astype(dtype))
    rejected(tasks, TypeError, "mse", "`y`", "floating point")


@FAST
@given(cls=st.sampled_from(CLASSES), steps=st.integers(-5, 0))
def test_non_positive_steps(cls, steps):
    with pytest.raises(ValueError, match="`steps` must be a positive integer"):
        cls(steps, 0.1)


@FAST
@given(cls=st.sampled_from(CLASSES), steps=st.one_of(st.floats(0.5, 9.5), st.text(max_size=3), st.booleans()))
def test_non_integer_steps(cls, steps):
    with pytest.raises(TypeError, match="`steps` must be a positive integer"):
        cls(steps, 0.1)


@FAST
@given(
    cls=st.sampled_from(CLASSES), h=st.one_of(st.floats(max_value=0.0), st.just(float("nan")), st.just(float("inf")))
)
def test_non_positive_or_non_finite_step_sizes(cls, h):
    with pytest.raises(ValueError, match="`step_size` must be a positive finite number"):
        cls(3, h)
