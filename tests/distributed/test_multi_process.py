"""Two processes on loopback (jax.distributed, gloo CPU collectives) train one run together."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
from _helpers import TINY_RUN, python_env
from jax.flatten_util import ravel_pytree

import amaml.train
from amaml.train import load_latest_checkpoint

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_train_like_one(tmp_path):
    shared, out, single = tmp_path / "shared", tmp_path / "out", tmp_path / "single"
    out.mkdir()
    port = str(free_port())
    workers = [
        subprocess.Popen(
            [sys.executable, str(HERE / "_two_process_worker.py"), str(i), port, str(shared), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=python_env(JAX_PLATFORMS="cpu"),
        )
        for i in range(2)
    ]
    # meanwhile the same run in this process, on one device
    result = amaml.train.run(amaml.train.RunConfig().with_overrides(TINY_RUN), single)
    reference_state = (result.params, result.opt_state)
    reference = np.asarray(ravel_pytree(result.params)[0])
    logs = []
    try:
        for worker in workers:
            logs.append(worker.communicate(timeout=240))
    finally:
        for worker in workers:
            worker.kill()
    for worker, (_, stderr) in zip(workers, logs):
        assert worker.returncode == 0, stderr[-3000:]

    # 2 processes with one CPU device each, one mesh over both
    for i in range(2):
        assert np.load(out / f"devices_{i}.npy").tolist() == [2, 2, 2]
    theta = [np.load(out / f"theta_{i}.npy") for i in range(2)]
    np.testing.assert_array_equal(theta[0], theta[1])  # both hold the same theta
    np.testing.assert_allclose(theta[0], reference, rtol=0, atol=1e-12)  # = one process on the same tasks
    # only process 0 wrote: one metrics line per update, and its checkpoint holds theta
    lines = [json.loads(line) for line in (shared / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [1, 2, 3, 4]
    reference_lines = [json.loads(line) for line in (single / "metrics.jsonl").read_text().splitlines()]
    np.testing.assert_allclose(
        [r["meta_loss"] for r in lines], [r["meta_loss"] for r in reference_lines], rtol=0, atol=1e-12
    )
    # both resumed from the step-2 checkpoint and reproduced the uninterrupted run
    for i in range(2):
        np.testing.assert_array_equal(np.load(out / f"resumed_{i}.npy"), theta[0])
    step, (params, _) = load_latest_checkpoint(shared, reference_state)
    assert step == 4
    np.testing.assert_array_equal(np.asarray(ravel_pytree(params)[0]), theta[0])
