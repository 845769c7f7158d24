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
    ``$AMAML_COMMIT`` or ``"unknown"`` (an installed or copied tree).

    Returns:
        The commit, for a report's header: e.g. ``"23c463d"`` or ``"23c463d-dirty"``.

    Example:
        >>> from amaml.experiments import git_commit
        >>> commit = git_commit()  # runs git in the source checkout, if there is one
        >>> isinstance(commit, str) and len(commit) > 0
        True
    """
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
    """A report's first lines: title, command, commit, machine, time, and any ``extra`` items.

    Args:
        title: the report's title (a markdown ``#`` heading).
        command: the command line that made the report.
        commit: the code's commit (:func:`git_commit`).
        extra: more ``name: value`` items for the list, in order (e.g. the data files read).

    Returns:
        Markdown: the heading, then one list item each for the command, the commit, the machine
        (host, CPUs, the first JAX device, Python and JAX versions), the time (UTC) and ``extra``.

    Example:
        >>> from amaml.experiments import header
        >>> print(header("Benchmark", "amaml bench", "abc1234", {"data": "u.data"}))
        # Benchmark
        <BLANKLINE>
        - command: `amaml bench`
        - commit: `abc1234`
        - machine: ...
        - finished: ... UTC
        - data: u.data
        <BLANKLINE>
    """
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

    Args:
        reproduce: ``reproduce(budget, out, progress=)``, e.g. :func:`reproduce_synthetic`.
        write: ``write(results, budget, out, command, commit)``, e.g. :func:`write_synthetic_report`.
        budget: the budget both are given.
        out: the output directory.
        command: the command line, for the report's header.
        progress: passed to ``reproduce``.

    Returns:
        What ``write`` returns: the report's path.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from amaml.experiments import reproduce_and_report
        >>> def reproduce(budget, out, progress=None):
        ...     return {"budget": budget}
        >>> def write(results, budget, out, command, commit):
        ...     path = Path(out) / "report.md"
        ...     _ = path.write_text(f"{command}: {results}")
        ...     return path
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     reproduce_and_report(reproduce, write, "quick", tmp, "amaml reproduce toy").read_text()
        "amaml reproduce toy: {'budget': 'quick'}"
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
