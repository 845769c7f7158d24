"""The Python entry point: train, resume and extend a run directory without the command line."""

import dataclasses

import jax
import numpy as np
import pytest

import amaml
from amaml.train import (
    Adam,
    FunctionTasks,
    MetaTraining,
    RatingTasks,
    RunConfig,
    RunDirectoryInUse,
    RunLock,
    RunSettings,
    load_run,
    read_metrics,
    run,
)

TINY = RunConfig(
    tasks=FunctionTasks(amaml.tasks.Sinusoid(), n_train=8, n_test=3, shots=5, queries=5),
    model=amaml.models.MLP((8,)),
    method=amaml.MAML(3, 0.05),
    optimizer=Adam(0.01),
    meta=MetaTraining(batch=4, steps=6),
    run=RunSettings(eval_every=3, checkpoint_every=3),
)


def with_steps(config, steps):
    return dataclasses.replace(config, meta=dataclasses.replace(config.meta, steps=steps))


def flat(params):
    return np.asarray(jax.flatten_util.ravel_pytree(params)[0])


def test_train_resume_and_extend_through_python_end_bit_identical(tmp_path):
    events = []
    first = run(TINY, tmp_path / "a", progress=events.append)
    assert first.step == 6 and first.trained == 6 and np.isfinite(first.meta_loss)
    phases = [e.phase for e in events]
    assert phases[0] == "compile" and phases[-1] == "done" and phases.count("train") == 7
    assert [e.step for e in events if e.phase == "train"] == [0, 1, 2, 3, 4, 5, 6]

    again = run(None, tmp_path / "a")  # the stored configuration: nothing left to do
    assert again.trained == 0 and again.config == TINY
    np.testing.assert_array_equal(flat(again.params), flat(first.params))

    extended = run(with_steps(TINY, 10), tmp_path / "a")
    whole = run(with_steps(TINY, 10), tmp_path / "b")
    assert extended.trained == 4 and whole.trained == 10
    np.testing.assert_array_equal(flat(extended.params), flat(whole.params))
    assert [r["step"] for r in read_metrics(tmp_path / "a" / "metrics.jsonl")] == list(range(1, 11))

    trained = load_run(tmp_path / "a")
    assert trained.step == 10 and trained.parts.config == with_steps(TINY, 10)
    np.testing.assert_array_equal(flat(trained.params), flat(whole.params))
    tasks = trained.parts.dataset.test_tasks(5)
    adapted = amaml.adapt(
        trained.parts.method, trained.parts.loss_fn, trained.params, tasks.support_x[0], tasks.support_y[0]
    )
    assert jax.tree_util.tree_structure(adapted) == jax.tree_util.tree_structure(trained.params)


def test_a_run_resumed_from_an_older_checkpoint_matches_the_uninterrupted_one(tmp_path):
    whole = run(TINY, tmp_path / "a")
    (tmp_path / "a" / "ckpt_00000006.npz").unlink()  # as after a kill between updates 3 and 6
    resumed = run(TINY, tmp_path / "a")
    assert resumed.trained == 3
    np.testing.assert_array_equal(flat(resumed.params), flat(whole.params))


def test_other_changes_are_refused_naming_the_keys(tmp_path):
    run(TINY, tmp_path / "a")
    with pytest.raises(ValueError, match=r"method.steps: 3 -> 4"):
        run(dataclasses.replace(TINY, method=amaml.MAML(4, 0.05)), tmp_path / "a")
    with pytest.raises(ValueError, match="meta.steps: 6 -> 5"):  # shortening is not extending
        run(with_steps(TINY, 5), tmp_path / "a")
    with pytest.raises(ValueError, match="holds no run"):
        run(None, tmp_path / "empty")


def test_invalid_configurations_leave_nothing_on_disk(tmp_path):
    missing = dataclasses.replace(TINY, tasks=RatingTasks(data_dir=str(tmp_path / "nowhere")))
    with pytest.raises(ValueError, match="u.data does not exist"):
        run(missing, tmp_path / "a")
    too_big = dataclasses.replace(TINY, meta=MetaTraining(batch=9, steps=2))
    with pytest.raises(ValueError, match=r"`meta.batch` \(9\)"):
        run(too_big, tmp_path / "a")
    with pytest.raises(TypeError, match="`method` must be a AbstractMetaMethod"):
        RunConfig(method="maml")
    assert not (tmp_path / "a").exists()


def test_the_lock_refuses_a_second_trainer(tmp_path):
    with RunLock(tmp_path / "a"):
        with pytest.raises(RunDirectoryInUse, match="in use by another process"):
            run(TINY, tmp_path / "a")
        with pytest.raises(RunDirectoryInUse):
            with RunLock(tmp_path / "a"):
                pass
    assert not (tmp_path / "a" / "config.json").exists()
    with RunLock(tmp_path / "a"):  # released on exit
        pass
