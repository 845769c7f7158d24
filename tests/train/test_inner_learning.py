"""Runs that meta-learn the inner loop: head-only adaptation, learned rates and a learned horizon."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import amaml
from amaml.train import (
    SGD,
    FunctionTasks,
    MetaTraining,
    RunConfig,
    RunSettings,
    build_parts,
    evaluate_run,
    load_run,
    meta_batch_at,
    read_metrics,
    run,
)
from oracles import compiled_value_and_grad

pytestmark = pytest.mark.xdist_group("inner_learning")

LEARNED = RunConfig(
    tasks=FunctionTasks(amaml.tasks.Sinusoid(), n_train=8, n_test=3, shots=5, queries=5),
    model=amaml.models.MLP((8,)),
    method=amaml.DiscreteAdjoint(3, 0.05),
    optimizer=SGD(0.1),
    meta=MetaTraining(batch=4, steps=4, adapt="head", rates="leaf", horizon="learned"),
    run=RunSettings(eval_every=2, checkpoint_every=2),
)


def flat(params):
    return np.asarray(jax.flatten_util.ravel_pytree(params)[0])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("learned") / "run"
    return run_dir, run(LEARNED, run_dir)


def test_the_first_update_is_sgd_on_every_field_of_the_api_gradient():
    """One SGD step of the run equals MetaParams - lr * meta_value_and_grad on the same batch."""
    config = dataclasses.replace(LEARNED, meta=dataclasses.replace(LEARNED.meta, steps=1))
    parts = build_parts(config)
    meta = parts.init_params
    assert isinstance(meta, amaml.MetaParams) and isinstance(parts.loss_fn, amaml.FeatureLoss)
    assert len(meta.shared) == 1 and set(meta.init) == {"w", "b"}  # body: hidden layer; head: last layer
    assert float(meta.horizon) == pytest.approx(3 * 0.05) and all(r.shape == () for r in jax.tree.leaves(meta.rates))
    tasks = meta_batch_at(parts.dataset, parts.train_key, jnp.asarray(0), 4, 5, 5)
    _, grad = compiled_value_and_grad(parts.method, parts.loss_fn, meta, tasks)
    step = jax.jit(lambda p, s, t: amaml.meta_train_step(parts.method, parts.loss_fn, optax.sgd(0.1), p, s, t))
    updated = step(meta, optax.sgd(0.1).init(meta), tasks).params
    expected = jax.tree.map(lambda p, g: p - 0.1 * g, meta, grad)
    np.testing.assert_allclose(flat(updated), flat(expected), rtol=1e-12, atol=1e-14)
    assert float(jnp.abs(grad.horizon)) > 0 and all(float(jnp.abs(g)) > 0 for g in jax.tree.leaves(grad.rates))


def test_metrics_record_the_learned_horizon_and_rates_and_resume_bit_identical(trained, tmp_path):
    run_dir, result = trained
    records = read_metrics(run_dir / "metrics.jsonl")
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    rates = np.concatenate([np.ravel(r) for r in jax.tree.leaves(result.params.rates)])
    assert records[-1]["horizon"] == pytest.approx(float(result.params.horizon), rel=1e-15)
    assert records[-1]["rate_min"] == pytest.approx(rates.min()) and records[-1]["rate_max"] == pytest.approx(
        rates.max()
    )
    assert len({r["horizon"] for r in records}) == 4  # the horizon moves every update
    half = dataclasses.replace(LEARNED, meta=dataclasses.replace(LEARNED.meta, steps=2))
    run(half, tmp_path / "b")
    events = []
    resumed = run(LEARNED, tmp_path / "b", progress=events.append)
    assert resumed.trained == 2
    # the progress label tells this DiscreteAdjoint run from a plain one
    assert {e.label for e in events} == {"sinusoid: DiscreteAdjoint (adapt=head, rates=leaf, horizon=learned)"}
    np.testing.assert_array_equal(flat(resumed.params), flat(result.params))


def test_evaluation_adapts_with_the_learned_head_rates_and_horizon(trained):
    """The evaluation at the method's own horizon equals amaml.adapt with the trained MetaParams."""
    run_dir, result = trained
    summary = evaluate_run(run_dir, ("inner",), adapt_steps=6, every=3, overwrite=True)
    parts = load_run(run_dir).parts
    tasks = parts.dataset.test_tasks(LEARNED.tasks.shots)
    meta = result.params
    errors = []
    for i in range(tasks.query_x.shape[0]):
        task = jax.tree.map(lambda a, i=i: a[i], tasks)
        head = amaml.adapt(parts.method, parts.loss_fn, meta, task.support_x, task.support_y)
        prediction = parts.model.apply(parts.model.join(meta.shared, head), task.query_x)
        errors.append(float(jnp.sqrt(jnp.mean((prediction - task.query_y) ** 2))))
    assert summary["inner"]["at_horizon"]["steps"] == 3
    assert summary["inner"]["at_horizon"]["mean"] == pytest.approx(np.mean(errors), rel=1e-10)
    assert summary["inner"]["mean"][1] == pytest.approx(np.mean(errors), rel=1e-10)


def test_a_config_asking_a_method_for_a_field_it_cannot_learn_is_refused_before_any_work(tmp_path):
    config = dataclasses.replace(LEARNED, method=amaml.IMAML(3, 0.05))
    with pytest.raises(ValueError, match=r"meta.horizon=learned.*meta.rates=leaf.*IMAML learns only shared"):
        run(config, tmp_path / "r")
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())
    with pytest.raises(ValueError, match="`rates` must be one of none, parameter, leaf"):
        MetaTraining(rates="layer")


def test_the_update_keeps_rates_and_horizon_positive():
    """A step that would push a rate or the horizon through zero is projected onto [eps, inf)."""
    loss = lambda p, x, y: jnp.mean((x @ p["w"] - y) ** 2)
    key = jax.random.split(jax.random.key(0), 2)
    tasks = amaml.Task(
        jax.random.normal(key[0], (2, 6, 3)), jnp.ones((2, 6)), jax.random.normal(key[1], (2, 6, 3)), jnp.ones((2, 6))
    )
    meta = amaml.MetaParams({"w": jnp.zeros(3)}, rates={"w": jnp.full(3, 1e-3)}, horizon=jnp.asarray(1e-3))
    method = amaml.DiscreteAdjoint(4, 0.1)
    _, grad = amaml.meta_value_and_grad(method, loss, meta, tasks)
    optimizer = optax.sgd(1e4)
    new = amaml.meta_train_step(method, loss, optimizer, meta, optimizer.init(meta), tasks).params
    eps = jnp.finfo(jnp.float64).eps
    np.testing.assert_array_equal(new.rates["w"], jnp.maximum(meta.rates["w"] - 1e4 * grad.rates["w"], eps))
    assert float(new.horizon) == max(float(meta.horizon - 1e4 * grad.horizon), float(eps))
    assert float(jnp.min(new.rates["w"])) == eps  # the projection did act (the loss prefers larger rates)
