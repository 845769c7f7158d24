"""One of the processes of test_multi_process.py: `amaml train` over 2 processes on loopback.

argv: PROCESS_ID PORT RUN_DIR OUT_DIR. Trains the run (the CLI path: flags, jax.distributed
with gloo on CPU, the task mesh, process-0-only writes), saves this process's final theta,
then process 0 deletes the last checkpoint and both resume from the one before, as after a
crash, and save the theta of the resumed run.
"""

import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

import numpy as np  # noqa: E402
from jax.experimental import multihost_utils  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402

import amaml.train  # noqa: E402
from amaml.cli import _distributed, build_parser  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _helpers import TINY_RUN, set_args  # noqa: E402

process_id, port, run_dir, out = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
argv = [
    "train",
    "--run-dir",
    str(run_dir),
    "--quiet",
    "--devices",
    "auto",
    "--coordinator",
    f"127.0.0.1:{port}",
    "--num-processes",
    "2",
    "--process-id",
    process_id,
    *set_args(TINY_RUN),
]
args = build_parser().parse_args(argv)
mesh = _distributed.setup(args)
config = amaml.train.RunConfig().with_overrides(TINY_RUN)
params = amaml.train.run(config, run_dir, mesh=mesh).params
np.save(out / f"theta_{process_id}.npy", np.asarray(ravel_pytree(params)[0]))
np.save(out / f"devices_{process_id}.npy", np.array([jax.process_count(), jax.device_count(), mesh.size]))

if jax.process_index() == 0:
    (run_dir / "ckpt_00000004.npz").unlink()
multihost_utils.sync_global_devices("last checkpoint deleted")
params = amaml.train.run(None, run_dir, mesh=mesh).params
np.save(out / f"resumed_{process_id}.npy", np.asarray(ravel_pytree(params)[0]))
