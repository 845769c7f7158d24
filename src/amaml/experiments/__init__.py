"""The paper's experiments, the field's benchmarks and their reports.

- :func:`reproduce_synthetic` + :func:`write_synthetic_report`: the synthetic
  meta-regression panels (budgets :data:`BUDGETS`);
- :func:`reproduce_cf` + :func:`write_cf_report`: meta collaborative filtering on a rating
  dataset (budgets :data:`CF_BUDGETS`);
- :func:`reproduce_inner` + :func:`write_inner_report`: what to meta-learn about the inner
  loop (rates, a horizon, a shared body) at equal budgets (budgets :data:`INNER_BUDGETS`);
- :func:`reproduce_omniglot` + :func:`write_omniglot_report`: Omniglot N-way K-shot accuracy of
  every method beside the published numbers (budgets :data:`OMNIGLOT_BUDGETS`);
- :func:`reproduce_horizon` + :func:`write_horizon_report`: long inner loops on Omniglot 20-way
  5-shot, head-only adaptation up to K = 1000 and a learned horizon (budgets :data:`HORIZON_BUDGETS`);
- :func:`reproduce_updates` + :func:`write_updates_report`: one Omniglot method's accuracy against
  meta-updates, to measure how much of a gap is budget (budgets :data:`UPDATES_BUDGETS`);
- :func:`reproduce_accuracy` + :func:`write_accuracy_report`: every meta-gradient's error against
  the step size, against the continuous gradient and against MAML's (budgets :data:`ACCURACY_BUDGETS`);
- :data:`REPRODUCTIONS`: every experiment above but ``cf``, by the name ``amaml reproduce`` takes;
- :func:`run_bench` + :func:`write_bench_report`: time and memory per meta-update against
  the number of inner steps, one fresh process per point (workloads :data:`WORKLOADS`), beside
  other implementations (:data:`COMPARISONS`: the authors'-style PyTorch loop, diffrax);
- :func:`run_scaling` + :func:`write_scaling_report`: meta-updates per second against devices;
- :func:`run_throughput` + :func:`write_throughput_report`: meta-updates and tasks per second
  against the meta-batch size beside the authors'-style PyTorch loop, and GFLOP/s against the
  model width beside the machine's measured matmul peak.

Every report's header names the command, the commit and the machine (:func:`header`);
files are written atomically, only under the directory the caller passes.
"""

from ._accuracy import ACCURACY_BUDGETS as ACCURACY_BUDGETS
from ._accuracy import AccuracyBudget as AccuracyBudget
from ._accuracy import reproduce_accuracy as reproduce_accuracy
from ._accuracy_report import write_accuracy_report as write_accuracy_report
from ._bench import WORKLOADS as WORKLOADS
from ._bench import Workload as Workload
from ._bench import bench_workloads as bench_workloads
from ._bench import run_bench as run_bench
from ._bench_compare import COMPARISONS as COMPARISONS
from ._bench_report import write_outputs as write_bench_report
from ._cf import CF_BUDGETS as CF_BUDGETS
from ._cf import CFBudget as CFBudget
from ._cf import reproduce_cf as reproduce_cf
from ._cf_report import write_cf_report as write_cf_report
from ._horizon import HORIZON_BUDGETS as HORIZON_BUDGETS
from ._horizon import HorizonBudget as HorizonBudget
from ._horizon import reproduce_horizon as reproduce_horizon
from ._horizon_report import write_horizon_report as write_horizon_report
from ._inner import INNER_BUDGETS as INNER_BUDGETS
from ._inner import VARIANTS as INNER_VARIANTS
from ._inner import InnerBudget as InnerBudget
from ._inner import reproduce_inner as reproduce_inner
from ._inner_report import write_inner_report as write_inner_report
from ._omniglot import OMNIGLOT_BUDGETS as OMNIGLOT_BUDGETS
from ._omniglot import OmniglotBudget as OmniglotBudget
from ._omniglot import reproduce_omniglot as reproduce_omniglot
from ._omniglot_budget import UPDATES_BUDGETS as UPDATES_BUDGETS
from ._omniglot_budget import UpdatesBudget as UpdatesBudget
from ._omniglot_budget import reproduce_updates as reproduce_updates
from ._omniglot_budget_report import write_updates_report as write_updates_report
from ._omniglot_report import write_omniglot_report as write_omniglot_report
from ._report import git_commit as git_commit
from ._report import header as header
from ._report import reproduce_and_report as reproduce_and_report
from ._reproductions import REPRODUCTIONS as REPRODUCTIONS
from ._reproductions import Reproduction as Reproduction
from ._scaling import run_scaling as run_scaling
from ._scaling import write_outputs as write_scaling_report
from ._synthetic import BUDGETS as BUDGETS
from ._synthetic import METHODS as METHODS
from ._synthetic import Budget as Budget
from ._synthetic import reproduce_synthetic as reproduce_synthetic
from ._synthetic_report import write_report as write_synthetic_report
from ._throughput import run_throughput as run_throughput
from ._throughput_report import write_outputs as write_throughput_report

__all__ = [
    "ACCURACY_BUDGETS",
    "AccuracyBudget",
    "reproduce_accuracy",
    "write_accuracy_report",
    "BUDGETS",
    "CF_BUDGETS",
    "COMPARISONS",
    "HORIZON_BUDGETS",
    "HorizonBudget",
    "REPRODUCTIONS",
    "Reproduction",
    "INNER_BUDGETS",
    "OMNIGLOT_BUDGETS",
    "OmniglotBudget",
    "UPDATES_BUDGETS",
    "UpdatesBudget",
    "INNER_VARIANTS",
    "InnerBudget",
    "METHODS",
    "WORKLOADS",
    "Budget",
    "CFBudget",
    "Workload",
    "bench_workloads",
    "git_commit",
    "header",
    "reproduce_and_report",
    "reproduce_cf",
    "reproduce_horizon",
    "reproduce_inner",
    "reproduce_omniglot",
    "reproduce_synthetic",
    "reproduce_updates",
    "run_bench",
    "run_scaling",
    "run_throughput",
    "write_bench_report",
    "write_cf_report",
    "write_horizon_report",
    "write_inner_report",
    "write_updates_report",
    "write_omniglot_report",
    "write_scaling_report",
    "write_synthetic_report",
    "write_throughput_report",
]
