"""`amaml throughput` runs a tiny configuration and writes JSON, a table and figures; its FLOP count is right.

Benchmarks are not tests: nothing here asserts a time or a rate, only what the rows hold and
that XLA's FLOP count extrapolated from a few unrolled compiles equals a longer unrolled one.
"""

import dataclasses
import importlib.util
import json
import sys

import pytest

from amaml.cli import main
from amaml.experiments._bench import WORKLOADS
from amaml.experiments._bench_compare import SAME_ALGORITHM, TORCH_METHOD, TorchComparison
from amaml.experiments._throughput import add_rates, fitted_flops, unrolled_flops
from amaml.experiments._throughput_report import _batch_table, _target

HAS_TORCH = importlib.util.find_spec("torch") is not None


def test_throughput_writes_json_markdown_and_plots(tmp_path, monkeypatch):
    checked = []  # the PyTorch script's meta-gradient check: two more processes (13 s), not the subject here

    def gradient_check(self, data, dtype):
        checked.append(data.name)
        return [{"steps": 10, "relative_difference": 1.25e-7, "dtype": dtype}]

    monkeypatch.setattr(TorchComparison, "check", gradient_check)
    out = tmp_path / "throughput"
    argv = ["throughput", "--batches", "2,3", "--widths", "16", "--steps", "2", "--repeats", "1"]
    argv += ["--torch-batches", "2" if HAS_TORCH else "none", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    result = json.loads((out / "throughput.json").read_text())
    rows = {(r["batch"], r["method"]): r for r in result["batch_rows"]}
    torch_rows = {(2, TORCH_METHOD)} if HAS_TORCH else set()
    assert set(rows) == {(2, SAME_ALGORITHM), (3, SAME_ALGORITHM), *torch_rows}
    assert all(r["status"] == "ok" and r["seconds"] > 0 for r in rows.values()), rows
    for (batch, _), row in rows.items():
        assert row["tasks_per_second"] == pytest.approx(batch / row["seconds"])
        assert row["ms_per_task"] == pytest.approx(1e3 / row["tasks_per_second"])
    if HAS_TORCH:  # measured beside PyTorch at 2 tasks; at 3, against PyTorch's time per task at 2
        assert "torch_ratio" in rows[2, SAME_ALGORITHM] and "torch_ratio_from_batch" not in rows[2, SAME_ALGORITHM]
        assert rows[3, SAME_ALGORITHM]["torch_ratio_from_batch"] == 2
        assert checked == ["batch2.npz"] and "relative difference 1.2e-07" in (out / "throughput.md").read_text()
    assert [(r["width"], r["method"]) for r in result["width_rows"]] == [(16, SAME_ALGORITHM)]
    for row in result["width_rows"]:
        assert row["status"] == "ok" and not row["flops"]["loops"], row
        assert row["flops"]["fit_steps"] == [2]  # K = 2 is counted as it is: nothing to extrapolate
        assert row["gflops_per_second"] == pytest.approx(row["flops"]["flops"] / row["seconds"] / 1e9)
        assert row["fraction_of_peak"] == pytest.approx(row["gflops_per_second"] / result["peak"]["gflops_per_second"])
    assert result["peak"]["status"] == "ok" and result["peak"]["size"] == 2048
    table = (out / "throughput.md").read_text()
    assert "commit:" in table and "machine:" in table and "amaml throughput --batches 2,3" in table
    assert f"\n| 2 | {SAME_ALGORITHM} |" in table and f"\n| 16 | 337 | {SAME_ALGORITHM} |" in table
    assert "not measured" in table and "useful work, not the recomputation of checkpointing" in table
    assert (out / "tasks.png").stat().st_size > 1000 and (out / "gflops.png").stat().st_size > 1000


def test_flops_extrapolated_from_small_unrolled_compiles_match_a_longer_unrolled_one(tmp_path):
    """XLA counts a loop body once, so the count at K comes from a line through unrolled K = 4, 5, 6.
    The line holds further out (K = 8), and not at the smallest K (here K = 2 is 8% above it).

    Euler/Euler, not the RK4 forward of the report's default: the same fit, and half the compile
    time (that one's line was checked by hand at widths 16 to 1024, and every report row has its fit)."""
    data, method = tmp_path / "w.npz", "A-MAML euler/euler"
    dataclasses.replace(WORKLOADS["paper"], batch=2, width=8, points=10).write(data, "float32")
    fitted = fitted_flops(data, method, 8)
    assert fitted["fit_steps"] == [4, 5, 6] and fitted["residual"] < 1e-9 and not fitted["loops"]
    counted = unrolled_flops(data, method, 8)
    assert not counted["loops"] and fitted["flops"] == pytest.approx(counted["flops"], rel=1e-6)
    below = unrolled_flops(data, method, 2)["flops"]
    assert abs(below - (fitted["fixed"] + 2 * fitted["per_step"])) > 0.04 * below


def test_rates_ratios_and_the_target_line():
    rows = [
        {"batch": b, "method": m, "status": "ok", "seconds": s, "compile_seconds": 1.0, "load_before": 0.5}
        for b, m, s in ((10, SAME_ALGORITHM, 0.01), (10, TORCH_METHOD, 0.9), (1000, SAME_ALGORITHM, 0.5))
    ] + [{"batch": 2000, "method": SAME_ALGORITHM, "status": "timeout", "reason": "over 9 s"}]
    width = {"width": 64, "method": SAME_ALGORITHM, "status": "ok", "seconds": 0.5, "flops": {"flops": 2e10}}
    result = add_rates({"batch_rows": rows, "width_rows": [width], "peak": {"status": "ok", "gflops_per_second": 80}})
    assert rows[0]["tasks_per_second"] == pytest.approx(1000) and rows[0]["ms_per_task"] == pytest.approx(1)
    assert rows[0]["torch_ratio"] == pytest.approx(90) and "torch_ratio" not in rows[1]
    # PyTorch's loop costs the same per task at any batch: 1000 tasks compare with its 90 ms per task at 10
    assert rows[2]["torch_ratio"] == pytest.approx(180) and rows[2]["torch_ratio_from_batch"] == 10
    assert width["gflops_per_second"] == pytest.approx(40) and width["fraction_of_peak"] == pytest.approx(0.5)
    assert _target(rows).endswith("180x, against PyTorch at 10 tasks, met.\n")
    result |= {"workload": {"dim": 2, "width": 32, "points": 50}, "steps": 50, "dtype": "float32", "repeats": 5}
    table = "".join(_batch_table(result))
    assert "| 10 | A-MAML rk4/euler stored | 10.0 | 100.00 | 1000 | 1.000 | 90x | 1.0 | 0.5 |" in table
    assert "| 1000 | A-MAML rk4/euler stored | 500.0 | 2.00 | 2000 | 0.500 | 180x* |" in table
    assert "| 2000 | A-MAML rk4/euler stored | TIMEOUT: over 9 s |" in table


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--batches", "5,0"], ["`--batches`", "positive"]),
        (["--batches", "5,x"], ["`--batches`", "integers"]),
        (["--batches", ""], ["`--batches`", "at least one"]),
        (["--widths", ","], ["`--widths`", "at least one"]),
        (["--width-batch", "0"], ["`--width-batch`", "positive"]),
        (["--methods", "MAMLX"], ["benchmark method 'MAMLX'", "valid names are"]),
        (["--methods", ""], ["`--methods`", "at least one"]),
        (["--torch-batches", "7"], ["`--torch-batches`", "[7]"]),
        (["--batches", "5,5"], ["`--batches`", "repeat"]),
    ],
)
def test_throughput_rejects_bad_arguments_before_any_work(tmp_path, capsys, argv, words):
    assert main(["throughput", "--out", str(tmp_path / "t"), "--quiet", *argv]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and all(w in error for w in words), error
    assert not (tmp_path / "t").exists()


def test_throughput_without_pytorch_says_so_unless_it_is_not_asked_for(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    assert main(["throughput", "--out", str(tmp_path / "t")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "needs PyTorch" in error, error
    from amaml.experiments._throughput import check_throughput

    assert check_throughput([5, 10], [32], torch_batches=[]) == 2 + 1 + 1
