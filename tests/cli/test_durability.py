"""Runs survive SIGKILL, SIGINT and corrupt checkpoints; diverging runs stop with a diagnosis or skip."""

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from test_cli import CHEAP, checkpoint_arrays, same_checkpoint

from amaml.cli import main

pytestmark = pytest.mark.xdist_group("test_durability")  # its tests share a module fixture

LONG = [*CHEAP, "--set", "meta.steps=150", "--set", "run.checkpoint_every=7", "--set", "run.eval_every=50"]
BLOWUP = [*CHEAP, "--set", "run.dtype=float32", "--set", "method.step_size=1e6"]


def amaml_train(run_dir, argv):
    return subprocess.Popen(
        [sys.executable, "-m", "amaml", "train", "--quiet", "--run-dir", str(run_dir), *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
        text=True,
    )


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory):
    """The uninterrupted 150-update run the interrupted ones must reproduce."""
    run = tmp_path_factory.mktemp("long") / "whole"
    process = amaml_train(run, LONG)
    assert process.wait(timeout=300) == 0, process.stderr.read()
    return run


def wait_for_updates(process, run_dir, count):
    deadline = time.monotonic() + 120
    while len(metrics_steps(run_dir)) < count and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the run finished before it could be stopped; make it longer"


def all_finite(arrays):
    return all(np.all(np.isfinite(v)) for v in arrays.values() if np.issubdtype(v.dtype, np.floating))


def metrics_steps(run_dir):
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["step"] for line in path.read_text().splitlines() if line.endswith("}")]


def test_sigint_then_sigkill_then_resume_ends_bit_identical(tmp_path, long_reference):
    """SIGINT: one line, exit 130, a checkpoint; the resumed run is killed (SIGKILL) and resumed again."""
    cut = tmp_path / "cut"
    victim = amaml_train(cut, LONG)
    wait_for_updates(victim, cut, 30)
    victim.send_signal(signal.SIGINT)
    assert victim.wait(timeout=60) == 130
    lines = [line for line in victim.stderr.read().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("amaml: interrupted after meta-update "), lines
    step = int(lines[0].split("meta-update ")[1].split()[0])
    assert 30 <= step < 150 and f"of 150; checkpoint {cut / f'ckpt_{step:08d}.npz'}" in lines[0]
    assert f"resume with: amaml train --run-dir {cut}" in lines[0]
    assert (cut / f"ckpt_{step:08d}.npz").exists() and metrics_steps(cut) == list(range(1, step + 1))

    second = amaml_train(cut, [])  # the run directory alone
    wait_for_updates(second, cut, step + 10)
    second.send_signal(signal.SIGKILL)
    second.wait()
    killed_at = len(metrics_steps(cut))
    assert step < killed_at < 150
    resumed = amaml_train(cut, [])
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
    assert same_checkpoint(long_reference / "ckpt_00000150.npz", cut / "ckpt_00000150.npz")
    assert metrics_steps(cut) == list(range(1, 151))


def test_a_corrupt_latest_checkpoint_is_reported_and_the_previous_one_used(tmp_path, caplog):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert main(["train", "--quiet", "--run-dir", str(whole), *CHEAP]) == 0
    shutil.copytree(whole, cut)
    latest = cut / "ckpt_00000006.npz"
    latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2])  # truncated by a crash
    with caplog.at_level(logging.WARNING, logger="amaml"):
        assert main(["train", "--quiet", "--run-dir", str(cut)]) == 0
    assert "ckpt_00000006.npz is unreadable" in caplog.text
    a, b = checkpoint_arrays(whole / "ckpt_00000006.npz"), checkpoint_arrays(latest)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_a_diverging_run_stops_with_task_step_and_advice_and_keeps_finite_theta(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--quiet", "--run-dir", str(run), *BLOWUP]) == 3
    err = capsys.readouterr().err
    assert "diverged at inner step" in err and "task " in err and "try method.step_size <=" in err
    assert "meta.on_divergence=skip" in err and "skip_diverged" not in err  # the CLI's own knobs
    [checkpoint] = run.glob("ckpt_*.npz")  # the state before the failed update, saved
    assert checkpoint.name == "ckpt_00000000.npz"
    assert all_finite(checkpoint_arrays(checkpoint))


def test_skipping_keeps_theta_finite_and_counts_the_diverged_tasks(tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--quiet", "--run-dir", str(run), *BLOWUP, "--set", "meta.on_divergence=skip"]) == 0
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["diverged_tasks"] for r in records] == [5] * 6  # every task of every batch
    assert all_finite(checkpoint_arrays(run / "ckpt_00000006.npz"))
