"""The command line: train, resume with `--run-dir` alone, extend, eval, config show, bad input."""

import json
import shutil

import numpy as np
import pytest

from amaml.cli import main
from amaml.train import RunLock

pytestmark = pytest.mark.xdist_group("test_cli")  # its tests share a module fixture

TINY_SET = [
    "tasks.family=sinusoid",
    "tasks.n_train=8",
    "tasks.n_test=3",
    "tasks.shots=5",
    "tasks.queries=5",
    "method.steps=4",
    "method.step_size=0.05",
    "meta.steps=6",
    "run.checkpoint_every=3",
    "run.eval_every=3",
    "model.hidden=8",
    "optimizer.name=adam",
    "optimizer.learning_rate=0.01",
]
TINY = [arg for item in TINY_SET for arg in ("--set", item)]
CHEAP = [*TINY, "--set", "method.name=maml"]  # the quickest to compile; run bookkeeping is method-agnostic


def checkpoint_arrays(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def same_checkpoint(a, b):
    a, b = checkpoint_arrays(a), checkpoint_arrays(b)
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One finished tiny A-MAML run (6 updates), trained once for the tests of this module."""
    run = tmp_path_factory.mktemp("reference") / "run"
    assert main(["train", "--quiet", "--run-dir", str(run), *TINY]) == 0
    return run


def test_train_writes_config_metrics_and_checkpoints_then_eval(reference, capsys):
    config = json.loads((reference / "config.json").read_text())
    assert config["tasks"]["family"] == "sinusoid" and "dim" not in config["tasks"] and config["meta"]["steps"] == 6
    lines = [json.loads(line) for line in (reference / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [1, 2, 3, 4, 5, 6] and "test_nrmse_at_init" in lines[2]
    assert sorted(p.name for p in reference.glob("ckpt_*.npz")) == ["ckpt_00000003.npz", "ckpt_00000006.npz"]
    capsys.readouterr()
    out = reference.parent / "eval-a.json"
    assert main(["eval", str(reference), "--adapt-steps", "20", "--every", "10", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["adam"]["steps"] == [0, 10, 20] and len(result["inner"]["mean"]) == 3 and result["meta_step"] == 6
    horizon = result["inner"]["at_horizon"]
    assert horizon["steps"] == 4 and f"own horizon (4 steps) {horizon['mean']:.4f}" in printed
    # an earlier result is not overwritten silently, and flags are checked before any work
    assert main(["eval", str(reference), "--adapt-steps", "20", "--every", "10", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["eval", str(reference), "--adapt-steps", "25", "--every", "10"]) == 2
    assert "`adapt_steps` (25) must be a multiple of `every` (10)" in capsys.readouterr().err
    assert main(["eval", str(reference), "--modes", "sgd"]) == 2
    assert "unknown evaluation mode 'sgd'" in capsys.readouterr().err


def test_run_dir_alone_resumes_and_ends_bit_identical(reference, tmp_path):
    cut = tmp_path / "cut"
    shutil.copytree(reference, cut)
    # as after a kill after update 4: the step-6 checkpoint never happened, a metrics line is torn
    (cut / "ckpt_00000006.npz").unlink()
    metrics = (cut / "metrics.jsonl").read_text().splitlines()[:4]
    (cut / "metrics.jsonl").write_text("\n".join(metrics) + '\n{"step": 5, "meta_lo')
    assert main(["train", "--quiet", "--run-dir", str(cut)]) == 0
    assert same_checkpoint(reference / "ckpt_00000006.npz", cut / "ckpt_00000006.npz")
    assert [json.loads(line)["step"] for line in (cut / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3, 4, 5, 6]


def test_a_larger_meta_steps_extends_a_finished_run_as_if_uninterrupted(tmp_path, capsys):
    short, whole = tmp_path / "short", tmp_path / "whole"
    assert main(["train", "--quiet", "--run-dir", str(short), *CHEAP]) == 0
    assert main(["train", "--quiet", "--run-dir", str(short), "--set", "meta.steps=9"]) == 0
    assert "9 meta-updates (3 now)" in capsys.readouterr().out
    assert json.loads((short / "config.json").read_text())["meta"]["steps"] == 9
    assert main(["train", "--quiet", "--run-dir", str(whole), *CHEAP, "--set", "meta.steps=9"]) == 0
    assert same_checkpoint(short / "ckpt_00000009.npz", whole / "ckpt_00000009.npz")


def test_any_other_change_is_refused_with_the_differing_keys(reference, capsys):
    before = (reference / "config.json").read_text()
    assert (
        main(["train", "--quiet", "--run-dir", str(reference), "--set", "method.steps=5", "--set", "run.seed=1"]) == 2
    )
    err = capsys.readouterr().err
    assert "method.steps: 4 -> 5" in err and "run.seed: 0 -> 1" in err and "meta.steps" in err
    assert (reference / "config.json").read_text() == before


@pytest.mark.parametrize(
    "item, words",
    [
        ("run.seed=-1", ["`seed`", "-1"]),
        ("run.seed=abc", ["`run.seed`", "an integer", "abc"]),
        ("model.hidden=32,x", ["`model.hidden`", "comma-separated", "32,x"]),
        ("method.steps=0", ["`steps` must be a positive integer"]),
        ("meta.batch=9", ["`meta.batch` (9)", "`tasks.n_train` (8)"]),
        ("tasks.dim=2", ["`tasks.dim` does not apply", "family 'sinusoid'", "n_train"]),
    ],
)
def test_an_invalid_value_is_named_and_leaves_nothing_on_disk(tmp_path, capsys, item, words):
    run = tmp_path / "run"
    assert main(["train", "--quiet", "--run-dir", str(run), *TINY, "--set", item]) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words), err
    assert not run.exists()


def test_a_second_process_in_the_same_run_dir_is_refused(tmp_path, capsys):
    run = tmp_path / "run"
    with RunLock(run):  # as another process training there would hold it
        assert main(["train", "--quiet", "--run-dir", str(run), *CHEAP]) == 2
    assert "in use by another process" in capsys.readouterr().err
    assert not (run / "config.json").exists()


def test_config_show_prints_types_defaults_meanings_as_json_that_config_accepts(tmp_path, capsys):
    assert main(["config", "show", "--set", "method.name=maml", "--set", "model.hidden=64,64"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["method"]["name"]["value"] == "maml" and shown["model"]["hidden"]["value"] == [64, 64]
    for section in shown.values():
        for key, entry in section.items():
            assert set(entry) == {"value", "type", "default", "doc"} and entry["doc"], key
    assert "prox" not in shown["method"]  # MAML has no proximal term
    path = tmp_path / "shown.json"
    path.write_text(json.dumps(shown))
    assert main(["config", "show", "--config", str(path), "--values"]) == 0
    values = json.loads(capsys.readouterr().out)
    assert values["method"] == {"name": "maml", "steps": 100, "step_size": 0.01, "unroll": None}
    assert values["model"]["hidden"] == [64, 64]


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "--run-dir", "x", "--set", "method.name=mamal"], ["valid names are", "amaml"]),
        (["train", "--run-dir", "x", "--set", "method.forward=rk5"], ["`method.forward`", "valid names are"]),
        (["train", "--run-dir", "x", "--set", "tasks.family=cosine"], ["`tasks.family`", "valid names are"]),
        (["train", "--run-dir", "x", "--set", "learning_rate=0.1"], ["SECTION.KEY=VALUE"]),
        (
            ["train", "--run-dir", "x", "--set", "method.name=fomaml", "--set", "method.prox=3"],
            ["`method.prox` does not apply", "method 'fomaml'", "step_size"],
        ),
        (["train", "--run-dir", "x", "--set", "optimiser.name=adam"], ["unknown config section 'optimiser'"]),
        (["reproduce", "synthetic", "--budget", "huge"], ["valid names are"]),
        (["eval", "/nonexistent/run"], ["no config.json"]),
    ],
)
def test_bad_names_and_keys_are_rejected_clearly(capsys, argv, words):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words), err


def test_list_names_everything(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in (
        "amaml",
        "discrete-adjoint",
        "reptile",
        "rk4",
        "cosmixture",
        "alpine",
        "sinusoid",
        "functions",
        "ratings",
        "movielens-100k",
        "onehot",
        "mlp",
        "adam",
        "quick",
        "standard",
        "paper",
        "wide",
    ):
        assert name in out, name
    from amaml.experiments import REPRODUCTIONS

    for experiment, spec in REPRODUCTIONS.items():  # every experiment with its budgets
        line = next(line for line in out.splitlines() if line.startswith(f"{experiment}:"))
        assert all(f"{budget} (" in line for budget in spec.budgets), line
