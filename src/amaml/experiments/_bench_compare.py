"""Other implementations timed beside amaml's methods in one `amaml bench` run (``--against``).

A comparison adds rows to each workload (its own implementation's, and the amaml methods it
is compared with), says which pairs of rows to divide in the report, and checks that the
two sides compute the same meta-gradient on the workload before any time is trusted.
"""

from __future__ import annotations

import abc
import dataclasses
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import ClassVar, final

import numpy as np

from .._registry import Registry
from ._bench_worker import DIFFRAX_SOLVERS

TORCH_SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "torch_amaml.py"
TORCH_METHOD = "PyTorch A-MAML rk4/euler (authors' style)"
SAME_ALGORITHM = "A-MAML rk4/euler stored"
OURS_BY_SOLVER = {
    "euler": ("discrete adjoint", "A-MAML euler/euler"),
    "heun": ("discrete adjoint heun", "A-MAML heun/heun"),
    "rk4": ("discrete adjoint rk4", "A-MAML"),
}
"""amaml's two adjoints with each solver forward (and backward, for the continuous one)."""


def worker_command(method: str, steps: int, data: Path, repeats: int, dtype: str, *extra: str) -> list[str]:
    """The command line of one fresh `amaml.experiments._bench_worker` measurement (``extra``: more flags)."""
    return [
        sys.executable,
        "-m",
        "amaml.experiments._bench_worker",
        "--method",
        method,
        "--steps",
        str(steps),
        "--data",
        str(data),
        "--repeats",
        str(repeats),
        "--dtype",
        dtype,
        *extra,
    ]


def torch_command(data: Path, steps: int, repeats: int, *extra: str) -> list[str]:
    """The command line of one measurement of the PyTorch comparison in ``benchmarks/``."""
    return [
        sys.executable,
        str(TORCH_SCRIPT),
        "--data",
        str(data),
        "--steps",
        str(steps),
        "--repeats",
        str(repeats),
        *extra,
    ]


def _saved_grad(command: list[str], path: Path) -> np.ndarray:
    subprocess.run([*command, "--grad-out", str(path)], check=True, capture_output=True)
    return np.load(path)


def relative_difference(theirs: np.ndarray, ours: np.ndarray) -> float:
    """``|theirs - ours| / |ours|`` (2-norms)."""
    return float(np.linalg.norm(theirs - ours) / np.linalg.norm(ours))


class AbstractComparison(abc.ABC):
    """Another implementation of a meta-gradient, timed beside amaml's on the same workload files.

    Abstract attributes:
        name: the ``--against`` name.
        methods: the rows it adds to each workload: its own, then amaml's counterparts.
        ratios: ``(amaml method, other method)`` pairs whose time ratio the report shows.
    """

    name: ClassVar[str]
    methods: tuple[str, ...]
    ratios: tuple[tuple[str, str], ...]

    @abc.abstractmethod
    def require(self, workloads: list) -> None:
        """Raise one clear ``ValueError`` when the comparison cannot run here or on these workloads."""

    @abc.abstractmethod
    def command(self, method: str, steps: int, data: Path, repeats: int, dtype: str, extra: tuple[str, ...]):
        """The command line that measures row ``method`` at ``steps``."""

    @abc.abstractmethod
    def check(self, data: Path, dtype: str) -> list[dict]:
        """The same-gradient checks on the workload file ``data``: one dict per pair compared."""


@final
@dataclasses.dataclass(frozen=True)
class TorchComparison(AbstractComparison):
    """The authors'-style PyTorch A-MAML in ``benchmarks/torch_amaml.py`` (per-task Python loop, eager).

    Args:
        steps: the K of the gradient check.
    """

    steps: int = 10
    name: ClassVar[str] = "torch"
    methods: ClassVar[tuple[str, ...]] = (TORCH_METHOD, SAME_ALGORITHM)
    ratios: ClassVar[tuple[tuple[str, str], ...]] = tuple(
        (ours, TORCH_METHOD) for ours in ("A-MAML", SAME_ALGORITHM, "A-MAML euler/euler")
    )

    def require(self, workloads: list) -> None:
        others = [w.name for w in workloads if w.model != "mlp"]
        if others:
            raise ValueError(f"the PyTorch comparison implements the MLP only, not the workloads {', '.join(others)}.")
        try:
            import torch  # noqa: F401
        except ImportError:
            raise ValueError("the PyTorch comparison needs PyTorch: pip install -e '.[bench-torch]'.") from None
        if not TORCH_SCRIPT.exists():
            raise ValueError(f"the PyTorch comparison needs the source checkout's {TORCH_SCRIPT}.")

    def command(self, method, steps, data, repeats, dtype, extra):
        if method == TORCH_METHOD:  # eager PyTorch is slow: at most 3 repeats
            return torch_command(data, steps, max(1, min(repeats, 3)))
        return worker_command(method, steps, data, repeats, dtype, *extra)

    def check(self, data: Path, dtype: str) -> list[dict]:
        with tempfile.TemporaryDirectory() as tmp:
            theirs = _saved_grad(torch_command(data, self.steps, 1), Path(tmp) / "torch.npy")
            ours = _saved_grad(worker_command(SAME_ALGORITHM, self.steps, data, 1, dtype), Path(tmp) / "jax.npy")
        return [_check_row(TORCH_METHOD, SAME_ALGORITHM, self.steps, dtype, relative_difference(theirs, ours))]


@final
@dataclasses.dataclass(frozen=True)
class DiffraxComparison(AbstractComparison):
    """MAML's gradient by ``jax.grad`` through ``diffrax.diffeqsolve`` (``RecursiveCheckpointAdjoint``).

    For each of Euler, Heun and RK4: diffrax keeping all K states and with its default
    checkpoints, beside amaml's ``DiscreteAdjoint`` (the same exact gradient) and
    ``AdjointMAML`` (the continuous adjoint, O(h) from it) with that solver.

    Args:
        steps: the K of the gradient checks.
        solvers: which of ``"euler"``, ``"heun"``, ``"rk4"`` to compare (default all three).
    """

    steps: int = 10
    solvers: tuple[str, ...] = DIFFRAX_SOLVERS
    name: ClassVar[str] = "diffrax"

    def __post_init__(self) -> None:
        unknown = [s for s in self.solvers if s not in DIFFRAX_SOLVERS]
        if not self.solvers or unknown:
            raise ValueError(f"`solvers` must be some of {', '.join(DIFFRAX_SOLVERS)}, got {self.solvers!r}.")

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(
            method
            for solver in self.solvers
            for method in (f"diffrax {solver} stored", f"diffrax {solver} checkpointed", *OURS_BY_SOLVER[solver])
        )

    @property
    def ratios(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (ours, f"diffrax {solver} {kept}")
            for solver in self.solvers
            for ours in OURS_BY_SOLVER[solver]
            for kept in ("stored", "checkpointed")
        )

    def require(self, workloads: list) -> None:
        from ._diffrax import require_diffrax

        require_diffrax()

    def command(self, method, steps, data, repeats, dtype, extra):
        return worker_command(method, steps, data, repeats, dtype, *extra)

    def check(self, data: Path, dtype: str) -> list[dict]:
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            for solver in self.solvers:
                theirs_name, ours_name = f"diffrax {solver} stored", OURS_BY_SOLVER[solver][0]
                theirs = _saved_grad(worker_command(theirs_name, self.steps, data, 1, dtype), Path(tmp) / "d.npy")
                ours = _saved_grad(worker_command(ours_name, self.steps, data, 1, dtype), Path(tmp) / "a.npy")
                rows.append(_check_row(theirs_name, ours_name, self.steps, dtype, relative_difference(theirs, ours)))
        return rows


def _check_row(theirs: str, ours: str, steps: int, dtype: str, difference: float) -> dict:
    return {"theirs": theirs, "ours": ours, "steps": steps, "dtype": dtype, "relative_difference": difference}


COMPARISONS: Registry[AbstractComparison] = Registry(
    "comparison", {c.name: c for c in (TorchComparison(), DiffraxComparison())}
)
"""``--against`` name -> the other implementation timed beside amaml's (the authors'-style PyTorch loop, diffrax)."""
