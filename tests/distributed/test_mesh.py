"""Meta-batches split over 4 simulated CPU devices (in a subprocess: the device count is
fixed when jax starts, and the rest of the suite must keep its single device)."""

import json
import subprocess
import sys
from pathlib import Path

from _helpers import python_env

from amaml.experiments._scaling import device_env

HERE = Path(__file__).parent


def test_sharded_meta_gradient_matches_single_device(tmp_path):
    done = subprocess.run(
        [sys.executable, str(HERE / "_four_devices.py"), str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=180,
        # 4 devices, beside the suite's own flags (tests/conftest.py)
        env=python_env(XLA_FLAGS=device_env(4)["XLA_FLAGS"], JAX_PLATFORMS="cpu"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["device_count"] == 4
    # the 8 tasks really are split: 2 consecutive tasks on each of 4 distinct devices
    shards = out["shards"]
    assert len({s["device"] for s in shards}) == 4
    assert sorted(tuple(s["rows"]) for s in shards) == [(0, 2), (2, 4), (4, 6), (6, 8)]
    assert all(s["equal"] for s in shards)
    assert out["params_replicated"]
    assert out["grad_norm"]["A-MAML"] > 1e-3  # a gradient worth comparing
    assert out["grad_diff"]["A-MAML"] <= 1e-12 and out["loss_diff"]["A-MAML"] <= 1e-12, out
    # make_update with MAML and SGD: after one update theta differs by lr times the
    # meta-gradient difference; after three the runs still agree. Inside the jit the sampled
    # tasks are split over the 4 devices along the task axis
    assert out["update_size"] > 1e-3
    assert out["first_update_diff"] / out["lr"] <= 1e-12, out
    assert out["update_diff"] / out["lr"] <= 1e-12, out
    assert [["tasks"], 4] in out["inner_sharding"]
    assert [[], 1] in out["inner_sharding"]  # the mesh-less update stays on one device
    for error in out["errors"]:
        assert error is not None and "meta_batch" in error and "(6)" in error and "(4)" in error, error
    assert out["errors"][-1].startswith("exit 2")
    assert not (tmp_path / "run").exists()  # refused before any work
