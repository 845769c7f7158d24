"""The reproductions ``amaml reproduce NAME`` runs, one registry: budgets, how to run, how to report."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from pathlib import Path

from .._registry import Registry
from ._accuracy import ACCURACY_BUDGETS, reproduce_accuracy
from ._accuracy_report import write_accuracy_report
from ._horizon import HORIZON_BUDGETS, reproduce_horizon
from ._horizon_report import write_horizon_report
from ._inner import INNER_BUDGETS, reproduce_inner
from ._inner_report import write_inner_report
from ._omniglot import OMNIGLOT_BUDGETS, reproduce_omniglot
from ._omniglot_budget import UPDATES_BUDGETS, reproduce_updates
from ._omniglot_budget_report import write_updates_report
from ._omniglot_report import write_omniglot_report
from ._synthetic import BUDGETS, reproduce_synthetic
from ._synthetic_report import write_report as write_synthetic_report


@dataclasses.dataclass(frozen=True)
class Reproduction:
    """One experiment: its budgets, ``reproduce(budget, out, progress=)`` and its report's ``write``.

    ``write(results, budget, out, command, commit)`` writes the report and returns its path.

    Attributes:
        budgets: its budgets by name (:data:`BUDGETS`, :data:`OMNIGLOT_BUDGETS`, ...).
        reproduce: ``reproduce(budget, out, progress=)``, e.g. :func:`reproduce_synthetic`.
        write: the report writer, e.g. :func:`write_synthetic_report`.
        results: the output directory's parent (``results/NAME``; the budget's name is appended).
        figures: what the report's figures are called, for the command's last line.
        float64: whether it needs 64-bit floats (enabled before it runs); ``None``: the budget's ``dtype`` says.
        data: the default data directory, for experiments that read one (passed as ``data_dir``).

    Example:
        >>> from amaml.experiments import REPRODUCTIONS
        >>> list(REPRODUCTIONS)
        ['synthetic', 'adjoint-accuracy', 'inner-loop', 'omniglot', 'omniglot-horizon', 'omniglot-updates']
        >>> omniglot = REPRODUCTIONS["omniglot"]
        >>> omniglot.results, omniglot.data, list(omniglot.budgets)
        ('results/omniglot', 'data/omniglot', ['quick', 'standard', 'paper'])
        >>> reproduce, write = omniglot.bound("elsewhere/omniglot")  # data_dir bound to both
        >>> str(reproduce.keywords["data_dir"]), str(write.keywords["data_dir"])
        ('elsewhere/omniglot', 'elsewhere/omniglot')
    """

    budgets: Registry
    reproduce: Callable
    write: Callable
    results: str
    figures: str
    float64: bool | None = False
    data: str | None = None

    def bound(self, data_dir: str | Path | None) -> tuple[Callable, Callable]:
        """``(reproduce, write)`` with the data directory bound, for experiments that read data.

        Args:
            data_dir: the data directory; ``None``: the experiment's default (``data``). Ignored by an
                experiment that reads no data.

        Returns:
            ``(reproduce, write)``, each a ``functools.partial`` with ``data_dir`` (a ``Path``) bound, or
            the two unchanged when the experiment reads no data (``data`` is ``None``).
        """
        if self.data is None:
            return self.reproduce, self.write
        data = Path(data_dir or self.data)
        return partial(self.reproduce, data_dir=data), partial(self.write, data_dir=data)


REPRODUCTIONS: Registry[Reproduction] = Registry(
    "experiment",
    {
        "synthetic": Reproduction(
            BUDGETS, reproduce_synthetic, write_synthetic_report, "results/synthetic", "the panel figures", None
        ),
        "adjoint-accuracy": Reproduction(
            ACCURACY_BUDGETS, reproduce_accuracy, write_accuracy_report, "results/adjoint-accuracy", "accuracy.png",
            True,
        ),
        "inner-loop": Reproduction(
            INNER_BUDGETS, reproduce_inner, write_inner_report, "results/inner-loop", "curves.png", True
        ),
        # float64 for the gradient-error study; the runs themselves are float32
        "omniglot": Reproduction(
            OMNIGLOT_BUDGETS, reproduce_omniglot, write_omniglot_report, "results/omniglot", "curves.png", True,
            "data/omniglot",
        ),
        "omniglot-horizon": Reproduction(
            HORIZON_BUDGETS, reproduce_horizon, write_horizon_report, "results/omniglot-horizon", "horizon.png",
            False, "data/omniglot",
        ),
        "omniglot-updates": Reproduction(
            UPDATES_BUDGETS, reproduce_updates, write_updates_report, "results/omniglot-updates", "updates.png",
            False, "data/omniglot",
        ),
    },
)  # fmt: skip
"""Name -> :class:`Reproduction` (``cf`` is separate: it takes a dataset and features)."""
