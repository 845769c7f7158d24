"""What every report shares: a header naming the command, the commit and the machine.

Reports are markdown tables with figures beside them, written atomically
(:mod:`amaml._io`) under the directory the caller passes.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from collections.abc import Callable
from pathlib import Path

import jax

from .._io import atomic_write_bytes as atomic_write_bytes
from .._io import atomic_write_figure as atomic_write_figure
from .._io import atomic_write_text as atomic_write_text


def git_commit() -> str:
    """The source checkout's short commit (``-dirty`` with uncommitted changes), else
    ``$AMAML_COMMIT`` or ``"unknown"`` (an installed or copied tree)."""
    try:
        root = Path(__file__).resolve().parents[3]
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):  # no git, or not a checkout (a copied tree)
        return os.environ.get("AMAML_COMMIT", "unknown")


def machine() -> str:
    """Host, CPUs, the first JAX device, and the Python and JAX versions."""
    device = jax.devices()[0]
    return (
        f"{platform.node() or 'host'}: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{device.platform} ({device.device_kind}); Python {platform.python_version()}, jax {jax.__version__}"
    )


def header(title: str, command: str, commit: str, extra: dict[str, str] | None = None) -> str:
    """A report's first lines: title, command, commit, machine, time, and any ``extra`` items."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# {title}\n\n",
        f"- command: `{command}`\n",
        f"- commit: `{commit}`\n",
        f"- machine: {machine()}\n",
        f"- finished: {now}\n",
    ]
    lines += [f"- {key}: {value}\n" for key, value in (extra or {}).items()]
    return "".join(lines)


def reproduce_and_report(reproduce, write, budget, out: Path, command: str, progress=None) -> Path:
    """``write(reproduce(budget, out, progress=progress), budget, out, command, commit)``; returns the report's path.

    The commit is read first: that of the code that runs, not of whatever is checked out at the end.
    """
    commit = git_commit()
    return write(reproduce(budget, out, progress=progress), budget, out, command, commit)


def write_files(out_dir: Path, results: dict, text: str, figures: dict[str, Callable[[Path], None]]) -> Path:
    """Each figure (``file name -> draw(path)``), ``results.json`` and ``report.md`` (``text``) under
    ``out_dir``, each written atomically; returns report.md's path."""
    out_dir = Path(out_dir)
    for name, draw in figures.items():
        draw(out_dir / name)
    atomic_write_text(out_dir / "results.json", json.dumps(results, indent=1) + "\n")
    path = out_dir / "report.md"
    atomic_write_text(path, text)
    return path


def save_accuracy_plot(fig, ax, xlabel: str, path: Path, legend_size: int = 8) -> None:
    """Finish an accuracy-against-``xlabel`` figure (log x, grid, legend) and write it to ``path``."""
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("meta-test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=legend_size)
    fig.tight_layout()
    atomic_write_figure(path, fig)
