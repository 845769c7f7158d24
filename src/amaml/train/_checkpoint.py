"""A run directory on disk: metrics as JSON lines, self-checking checkpoints, a lock.

Layout::

    RUN_DIR/config.json         the resolved run configuration
    RUN_DIR/metrics.jsonl       one JSON object per meta-update
    RUN_DIR/ckpt_00001200.npz   params + optimiser state after 1200 updates (the latest two kept)
    RUN_DIR/eval.json           written by evaluation
    RUN_DIR/.lock               held while a process trains in the directory

Every file is written atomically (:mod:`amaml._io`). Checkpoints carry a SHA-256 of their
arrays; a corrupt or truncated latest checkpoint is reported and the previous one used.
Checkpoints are plain ``.npz`` archives read with ``allow_pickle=False``: loading one never
executes anything.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import io
import json
import logging
import os
import zipfile
from pathlib import Path
from typing import Any

import jax
import numpy as np

from .._io import atomic_write_bytes, atomic_write_text

log = logging.getLogger("amaml")
KEEP = 2


def _digest(arrays: list[np.ndarray]) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def checkpoint_path(run_dir: Path, step: int) -> Path:
    """Where the checkpoint after ``step`` updates lives."""
    return Path(run_dir) / f"ckpt_{step:08d}.npz"


def save_checkpoint(run_dir: Path, step: int, state: Any) -> Path:
    """Write ``state`` (a pytree of arrays) as the checkpoint of ``step``; keep the latest two.

    The file is ``RUN_DIR/ckpt_{step:08d}.npz``, written atomically: the arrays in
    flattening order, the step and a SHA-256 of the arrays (their dtypes, shapes and bytes),
    which :func:`load_latest_checkpoint` verifies. Older checkpoints beyond the latest two
    are deleted.

    Args:
        run_dir: the run directory.
        step: the number of meta-updates ``state`` has seen.
        state: any pytree of arrays (e.g. ``(params, opt_state)``).

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as run_dir:
        ...     path = save_checkpoint(run_dir, 3, {"w": np.ones(2)})
        ...     step, state = load_latest_checkpoint(run_dir, {"w": np.zeros(2)})
        >>> path.name, step, state["w"].tolist()
        ('ckpt_00000003.npz', 3, [1.0, 1.0])
    """
    leaves = [np.asarray(leaf) for leaf in jax.tree_util.tree_leaves(state)]
    buffer = io.BytesIO()
    np.savez(
        buffer,
        step=np.int64(step),
        checksum=np.array(_digest(leaves)),
        **{f"leaf_{i:05d}": leaf for i, leaf in enumerate(leaves)},
    )
    path = checkpoint_path(run_dir, step)
    atomic_write_bytes(path, buffer.getvalue())
    for old in sorted(Path(run_dir).glob("ckpt_*.npz"))[:-KEEP]:
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
    """The newest readable checkpoint as ``(step, state)``, or ``None`` if there is none.

    Args:
        run_dir: the run directory.
        template: a pytree with the structure, shapes and dtypes of the saved state.

    Returns:
        ``(step, state)`` with ``state`` shaped like ``template`` (its leaves JAX arrays), or
        ``None``; unreadable checkpoints (a checksum that does not match, arrays unlike
        ``template``'s, a truncated file) are logged as warnings and skipped.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as run_dir:
        ...     empty = load_latest_checkpoint(run_dir, (np.zeros(2), np.zeros(())))
        ...     for step in (1, 2, 3):
        ...         _ = save_checkpoint(run_dir, step, (np.full(2, float(step)), np.zeros(())))
        ...     step, (w, b) = load_latest_checkpoint(run_dir, (np.zeros(2), np.zeros(())))
        >>> empty is None, step, w.tolist()
        (True, 3, [3.0, 3.0])
    """
    for path in sorted(Path(run_dir).glob("ckpt_*.npz"), reverse=True):
        try:
            return _read_checkpoint(path, template)
        except (ValueError, OSError, KeyError, zipfile.BadZipFile, EOFError) as error:
            log.warning("checkpoint %s is unreadable (%s); trying the previous one", path, error)
    return None


def append_metrics(path: Path, record: dict) -> None:
    """Append one JSON line (a kill can tear only the last line, which readers drop)."""
    with Path(path).open("a") as f:
        f.write(json.dumps(record) + "\n")


def read_metrics(path: Path) -> list[dict]:
    r"""Every complete metrics record (a line torn by a kill is dropped).

    Args:
        path: a ``metrics.jsonl`` file, one JSON object per line (a run writes one per
            meta-update: ``step``, ``meta_loss`` and what else it records).

    Returns:
        The records in file order; an empty list when ``path`` does not exist.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as run_dir:
        ...     path = Path(run_dir) / "metrics.jsonl"
        ...     _ = path.write_text('{"step": 1, "meta_loss": 0.5}\n{"step": 2, "meta_lo')
        ...     records = read_metrics(path)
        >>> records
        [{'step': 1, 'meta_loss': 0.5}]
    """
    records = []
    if Path(path).exists():
        for line in Path(path).read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def truncate_metrics(path: Path, last_step: int) -> None:
    """Keep only the metric records up to ``last_step`` (after resuming from a checkpoint)."""
    if Path(path).exists():
        kept = [r for r in read_metrics(path) if r.get("step", 0) <= last_step]
        atomic_write_text(Path(path), "".join(json.dumps(r) + "\n" for r in kept))


class RunDirectoryInUse(RuntimeError):
    """Another process is training in the run directory."""


class RunLock:
    """An exclusive lock on a run directory while one process trains in it.

    The lock is an ``flock`` on ``RUN_DIR/.lock``: the operating system releases it when the
    process ends, however it ends, so a killed run never leaves a stale lock. The file holds
    the pid of the process that holds the lock.

    Args:
        run_dir: the run directory (created on entering if needed).

    Raises:
        RunDirectoryInUse: on entering, if another process holds the lock (naming its pid).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as run_dir:
        ...     with RunLock(run_dir):
        ...         try:
        ...             with RunLock(run_dir):  # a second holder, as another process would be
        ...                 pass
        ...         except RunDirectoryInUse:
        ...             print("in use")
        in use
    """

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / ".lock"
        self._file = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            if error.errno in (errno.EAGAIN, errno.EACCES):
                raise RunDirectoryInUse(
                    f"run directory {self.path.parent} is in use by another process (pid {owner}); "
                    "wait for it to finish or stop it first."
                ) from None
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
