"""The command line: train + eval in a temp dir, resume, reports, bad names and keys."""

import json
import shutil

import numpy as np
import pytest

from amaml.cli import main
from amaml.cli._report import write_report
from amaml.cli._reproduce import Budget, reproduce_synthetic

TINY = ["--set", "family=\"sinusoid\"", "--set", "dim=1", "--set", "n_train=8", "--set", "n_test=3",
        "--set", "shots=5", "--set", "queries=5", "--set", "steps=4", "--set", "step_size=0.05",
        "--set", "meta_steps=6", "--set", "checkpoint_every=3", "--set", "eval_every=3",
        "--set", "hidden=[8]", "--set", "optimizer=\"adam\"", "--set", "meta_lr=0.01"]


def checkpoint_arrays(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def test_train_then_eval_in_a_temp_dir(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--quiet", "--run-dir", str(run), *TINY]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["family"] == "sinusoid" and config["meta_steps"] == 6
    lines = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    assert [l["step"] for l in lines] == [1, 2, 3, 4, 5, 6] and "test_nrmse_at_init" in lines[2]
    assert sorted(p.name for p in run.glob("ckpt_*.npz")) == ["ckpt_00000003.npz", "ckpt_00000006.npz"]
    assert main(["eval", str(run), "--adapt-steps", "20", "--every", "10"]) == 0
    result = json.loads((run / "eval.json").read_text())
    assert result["adam"]["steps"] == [0, 10, 20] and len(result["inner"]["mean"]) == 3
    assert result["meta_step"] == 6


def test_resume_after_interruption_continues_from_the_checkpoint(tmp_path):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main(["train", "--quiet", "--run-dir", str(whole), *TINY]) == 0
    shutil.copytree(whole, cut)
    # Simulate a kill after step 4: the step-6 checkpoint never happened.
    (cut / "ckpt_00000006.npz").unlink()
    metrics = (cut / "metrics.jsonl").read_text().splitlines()[:4]
    (cut / "metrics.jsonl").write_text("\n".join(metrics) + "\n{\"step\": 5, \"meta_lo")  # torn line
    assert main(["train", "--quiet", "--run-dir", str(cut), *TINY]) == 0
    a = checkpoint_arrays(whole / "ckpt_00000006.npz")
    b = checkpoint_arrays(cut / "ckpt_00000006.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a)
    steps = [json.loads(l)["step"] for l in (cut / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_a_different_config_in_an_existing_run_dir_is_refused(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--quiet", "--run-dir", str(run), *TINY]) == 0
    assert main(["train", "--quiet", "--run-dir", str(run), *TINY, "--set", "seed=1"]) == 2
    assert "different configuration" in capsys.readouterr().err


def test_reproduce_writes_a_table_and_a_figure_per_panel(tmp_path):
    budget = Budget("tiny", steps=3, meta_steps=2, dtype="float32", n_test=3, modes=("adam", "inner"),
                    adapt_steps=100, every=50)
    results = reproduce_synthetic(budget, tmp_path, quiet=True, panels=(("alpine", 50),),
                                  methods=("A-MAML", "MAML-1"))
    path = write_report(results, budget, tmp_path, "amaml reproduce synthetic --budget tiny")
    text = path.read_text()
    assert "| Alpine 50shot-50val | A-MAML | 3 |" in text and "| Alpine 50shot-50val | MAML-1 | 1 |" in text
    assert "commit:" in text and "machine:" in text and "0.19" in text  # paper's A-MAML number
    assert "lowest mean nRMSE at step 0" in text
    assert (tmp_path / "alpine-50.png").stat().st_size > 1000
    assert (tmp_path / "alpine-50-inner.png").exists()


@pytest.mark.parametrize(
    "argv,words",
    [
        (["train", "--run-dir", "x", "--set", "method=\"mamal\""], "valid names are"),
        (["train", "--run-dir", "x", "--set", "forward=\"rk5\""], "valid names are"),
        (["train", "--run-dir", "x", "--set", "family=\"cosine\""], "valid names are"),
        (["train", "--run-dir", "x", "--set", "learning_rate=0.1"], "unknown config keys"),
        (["train", "--run-dir", "x", "--set", "steps=0"], "`steps`"),
        (["reproduce", "synthetic", "--budget", "huge"], "valid names are"),
        (["eval", "/nonexistent/run"], "no config.json"),
    ],
)
def test_bad_names_and_keys_are_rejected_clearly(capsys, argv, words):
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_list_names_everything(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("amaml", "reptile", "rk4", "cosmixture", "alpine", "sinusoid", "quick", "standard", "paper"):
        assert name in out
