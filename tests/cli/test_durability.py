"""Runs survive SIGKILL and corrupt checkpoints; diverging runs stop with a diagnosis or skip."""

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np

from amaml.cli import main

from test_cli import TINY, checkpoint_arrays

CHEAP = [*TINY, "--set", "method=\"maml\""]  # the quickest to compile; durability is method-agnostic
LONG = [*CHEAP, "--set", "meta_steps=150", "--set", "checkpoint_every=7",
        "--set", "eval_every=50"]
BLOWUP = [*CHEAP, "--set", "dtype=\"float32\"", "--set", "step_size=1e6"]


def amaml_train(run_dir, argv):
    return subprocess.Popen([sys.executable, "-m", "amaml", "train", "--quiet", "--run-dir", str(run_dir), *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())


def all_finite(arrays):
    return all(np.all(np.isfinite(v)) for v in arrays.values() if np.issubdtype(v.dtype, np.floating))


def metrics_steps(run_dir):
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["step"] for line in path.read_text().splitlines() if line.endswith("}")]


def test_sigkill_mid_run_then_resume_ends_bit_identical(tmp_path):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    reference = amaml_train(whole, LONG)
    victim = amaml_train(cut, LONG)
    deadline = time.monotonic() + 120
    while len(metrics_steps(cut)) < 40 and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert victim.poll() is None, "the run finished before it could be killed; make it longer"
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = len(metrics_steps(cut))
    assert 0 < killed_at < 150
    resumed = amaml_train(cut, LONG)
    assert resumed.wait(timeout=300) == 0 and reference.wait(timeout=300) == 0, resumed.stderr.read().decode()
    a, b = checkpoint_arrays(whole / "ckpt_00000150.npz"), checkpoint_arrays(cut / "ckpt_00000150.npz")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert metrics_steps(cut) == list(range(1, 151))


def test_a_corrupt_latest_checkpoint_is_reported_and_the_previous_one_used(tmp_path, caplog):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main(["train", "--quiet", "--run-dir", str(whole), *CHEAP]) == 0
    shutil.copytree(whole, cut)
    latest = cut / "ckpt_00000006.npz"
    latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2])  # truncated by a crash
    with caplog.at_level(logging.WARNING, logger="amaml"):
        assert main(["train", "--quiet", "--run-dir", str(cut), *CHEAP]) == 0
    assert "ckpt_00000006.npz is unreadable" in caplog.text
    a, b = checkpoint_arrays(whole / "ckpt_00000006.npz"), checkpoint_arrays(latest)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_a_diverging_run_stops_with_task_step_and_advice_and_keeps_finite_theta(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--quiet", "--run-dir", str(run), *BLOWUP]) == 3
    err = capsys.readouterr().err
    assert "diverged at inner step" in err and "task " in err and "try step_size <=" in err
    [checkpoint] = run.glob("ckpt_*.npz")  # the state before the failed update, saved
    assert checkpoint.name == "ckpt_00000000.npz"
    assert all_finite(checkpoint_arrays(checkpoint))


def test_skipping_keeps_theta_finite_and_counts_the_diverged_tasks(tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--quiet", "--run-dir", str(run), *BLOWUP, "--set", "on_divergence=\"skip\""]) == 0
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["diverged_tasks"] for r in records] == [5] * 6  # every task of every batch
    assert all_finite(checkpoint_arrays(run / "ckpt_00000006.npz"))
