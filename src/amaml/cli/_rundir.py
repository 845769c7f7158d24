"""A run directory: resolved config, metrics as JSON lines, atomic self-checking checkpoints.

Layout::

    RUN_DIR/config.json         the resolved TrainConfig
    RUN_DIR/metrics.jsonl       one JSON object per logged step
    RUN_DIR/ckpt_00001200.npz   params + optimiser state at step 1200 (the latest two kept)
    RUN_DIR/eval.json           written by `amaml eval`

Every file is written to a temporary name in the same directory and renamed into place, so
a run killed at any moment leaves either the old file or the new one, never a torn one.
Checkpoints carry a SHA-256 of their arrays; a corrupt or truncated latest checkpoint is
reported and the previous one used.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import jax
import numpy as np

log = logging.getLogger("amaml")
KEEP = 2

def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file ordinary permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

def atomic_write_figure(path: Path, fig, dpi: int = 110) -> None:
    """Render a matplotlib figure to PNG, write it atomically and close the figure."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())

def _digest(arrays: list[np.ndarray]) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()

def save_checkpoint(run_dir: Path, step: int, state: Any) -> Path:
    """Write ``state`` (a pytree of arrays) as the checkpoint of ``step``; prune old ones."""
    leaves = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(state)]

    buffer = io.BytesIO()
    np.savez(buffer, step=np.int64(step), checksum=np.array(_digest(leaves)),
             **{f"leaf_{i:05d}": leaf for i, leaf in enumerate(leaves)})
    path = run_dir / f"ckpt_{step:08d}.npz"
    atomic_write_bytes(path, buffer.getvalue())
    for old in sorted(run_dir.glob("ckpt_*.npz"))[:-KEEP]:
        old.unlink()
    return path

def _read_checkpoint(path: Path, template: Any) -> tuple[int, Any]:
    with np.load(path, allow_pickle=False) as data:
        names = sorted(k for k in data.files if k.startswith("leaf_"))
        leaves = [data[k] for k in names]
        step, checksum = int(data["step"]), str(data["checksum"])
    if _digest(leaves) != checksum:
        raise ValueError("checksum mismatch")
    template_leaves, treedef = jax.tree_util.tree_flatten(template)
    if len(leaves) != len(template_leaves) or any(
        a.shape != np.shape(b) or a.dtype != np.asarray(b).dtype for a, b in zip(leaves, template_leaves)
    ):
        raise ValueError("arrays do not match the run's configuration")
    return step, jax.tree_util.tree_unflatten(treedef, [jax.numpy.asarray(a) for a in leaves])

def load_latest_checkpoint(run_dir: Path, template: Any) -> tuple[int, Any] | None:
    """The newest readable checkpoint as ``(step, state)``, or ``None`` if there is none."""
    for path in sorted(run_dir.glob("ckpt_*.npz"), reverse=True):
        try:
            return _read_checkpoint(path, template)
        except (ValueError, OSError, KeyError, zipfile.BadZipFile, EOFError) as error:
            log.warning("checkpoint %s is unreadable (%s); trying the previous one", path, error)
    return None

def append_metrics(path: Path, record: dict) -> None:
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")

def truncate_metrics(path: Path, last_step: int) -> None:
    """Keep only the metric lines up to ``last_step`` (after resuming from a checkpoint)."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line torn by a kill
            continue
        if record.get("step", 0) <= last_step:
            kept.append(line)
    atomic_write_text(path, "".join(line + "\n" for line in kept))
