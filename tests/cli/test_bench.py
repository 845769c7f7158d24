"""`amaml bench` runs on a tiny configuration and writes JSON, a table and figures.

Benchmarks are not tests: nothing here asserts a time or a memory size.
"""

import json
import re
import sys

from amaml.cli import main


def test_bench_writes_json_markdown_and_plots(tmp_path, capsys):
    out = tmp_path / "bench"
    code = main(
        [
            "bench",
            "--workloads",
            "paper",
            "--steps",
            "1,3",
            "--methods",
            "A-MAML euler/euler,MAML-1",
            "--repeats",
            "1",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    result = json.loads((out / "bench.json").read_text())
    measured = {(r["method"], r["steps"]) for r in result["rows"]}
    assert measured == {
        ("A-MAML euler/euler", 1),
        ("A-MAML euler/euler", 3),
        ("MAML-1", 1),  # MAML-1 is the one-step MAML: not measured at K=3
    }
    assert all(r["status"] == "ok" and r["seconds"] > 0 and r["peak_rss_bytes"] > 0 for r in result["rows"])
    table = (out / "bench.md").read_text()
    assert "commit:" in table and "machine:" in table and "| A-MAML euler/euler |" in table
    assert (out / "paper.png").stat().st_size > 1000


def test_bench_records_plans_over_the_memory_limit_as_oom(tmp_path):
    out = tmp_path / "bench"
    assert (
        main(
            [
                "bench",
                "--workloads",
                "paper",
                "--steps",
                "2",
                "--methods",
                "MAML",
                "--repeats",
                "1",
                "--memory-limit-gb",
                "0.00001",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    (row,) = json.loads((out / "bench.json").read_text())["rows"]
    assert row["status"] == "oom" and "GiB" in row["reason"]
    # the plan that did not fit is shown beside why it was not run
    assert re.search(r"\| MAML \| [0-9.]+ \(OOM\) \|", (out / "bench.md").read_text())


def test_bench_rejects_unknown_names(capsys):
    assert main(["bench", "--workloads", "huge"]) == 2
    assert "valid names are" in capsys.readouterr().err
    assert main(["bench", "--methods", "MAMLX"]) == 2
    assert "valid names are" in capsys.readouterr().err


def test_conv4_workload_files_hold_conv4_parameters_in_amaml_order(tmp_path):
    from amaml.experiments._bench import WORKLOADS
    from amaml.experiments._bench_worker import load_workload

    workload = WORKLOADS["conv4-omniglot-20w5s-b16"]
    assert (workload.model, workload.ways, workload.points, workload.batch) == ("conv4", 20, 5, 16)
    workload.write(tmp_path / "w.npz", "float32")
    params, tasks, _ = load_workload(tmp_path / "w.npz", "float32")
    assert [b["w"].shape for b in params["blocks"]] == [(3, 3, 1, 64)] + [(3, 3, 64, 64)] * 3
    for block in params["blocks"]:  # the unit scales and zero offsets landed where they belong
        assert (block["scale"] == 1).all() and (block["offset"] == 0).all() and (block["b"] == 0).all()
        assert abs(float(block["w"].std()) - (2 / (9 * block["w"].shape[2])) ** 0.5) < 0.05 * float(block["w"].std())
    assert params["head"]["w"].shape == (64, 20) and (params["head"]["b"] == 0).all()
    assert tasks.support_x.shape == tasks.query_x.shape == (16, 100, 28, 28, 1)
    assert tasks.support_y.dtype.name == "int32" and sorted(set(tasks.query_y[0].tolist())) == list(range(20))


def test_a_measurement_stopped_for_time_keeps_its_compiled_plan():
    """The worker prints its plan after compiling; a timeout afterwards still records the memory."""
    from amaml.experiments._bench import _worker
    from amaml.experiments._bench_report import markdown

    planned = json.dumps({"compiled_bytes": 3 * 2**20, "status": "planned"})
    slow = [sys.executable, "-c", f"import time; print({planned!r}, flush=True); time.sleep(60)"]
    row = _worker(slow, timeout=5)
    assert row["status"] == "timeout" and row["compiled_bytes"] == 3 * 2**20
    silent = _worker([sys.executable, "-c", "import time; time.sleep(60)"], timeout=2)
    assert silent["status"] == "timeout" and "compiled_bytes" not in silent
    measured = {"status": "ok", "seconds": 0.005, "compiled_bytes": 2**20}
    rows = [{"workload": "w", "method": "MAML", "steps": k, **r} for k, r in ((10, measured), (100, row))]
    table = markdown({"rows": rows, "checks": {}}, "# header", "float32")
    assert "| MAML | 5.0 | TIMEOUT |" in table and "| MAML | 1.0 | 3.0 (TIMEOUT) |" in table


def test_bench_against_diffrax_adds_its_rows_checks_equal_gradients_and_divides_the_pairs(tmp_path):
    """One solver: the rows it adds (K-major), its same-gradient check (two real workers, float64), the ratio table."""
    import dataclasses

    from amaml.experiments._bench import WORKLOADS, bench_jobs
    from amaml.experiments._bench_compare import DiffraxComparison
    from amaml.experiments._bench_report import markdown

    comparison = DiffraxComparison(steps=3, solvers=("euler",))
    workload = dataclasses.replace(WORKLOADS["paper"], batch=2, points=10, steps=(2, 4), methods=("discrete adjoint",))
    ours = ["discrete adjoint", "diffrax euler stored", "diffrax euler checkpointed", "A-MAML euler/euler"]
    assert bench_jobs(workload, [comparison]) == [(m, k) for k in (2, 4) for m in ours]
    workload.write(tmp_path / "w.npz", "float64")
    (check,) = comparison.check(tmp_path / "w.npz", "float64")
    assert (check["theirs"], check["ours"], check["steps"]) == ("diffrax euler stored", "discrete adjoint", 3)
    assert check["relative_difference"] < 1e-10
    seconds = dict(zip(ours, (0.010, 0.013, 0.030, 0.020)))
    rows = [{"workload": "paper", "method": m, "steps": 2, "status": "ok", "seconds": t} for m, t in seconds.items()]
    table = markdown({"rows": rows, "checks": [{"workload": "paper", **check}], "comparisons": ["diffrax"]}, "#", "x")
    assert "| discrete adjoint | diffrax euler stored | 1.30x |" in table
    assert "| A-MAML euler/euler | diffrax euler checkpointed | 1.50x |" in table
    assert "diffrax euler stored vs `discrete adjoint` at K=3" in table


def test_bench_rejects_unknown_or_unavailable_comparisons(capsys, monkeypatch):
    assert main(["bench", "--against", "jax"]) == 2
    assert "unknown comparison 'jax'; valid names are: torch, diffrax" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "diffrax", None)  # as if not installed
    assert main(["bench", "--workloads", "paper", "--against", "diffrax"]) == 2
    assert "bench-diffrax" in capsys.readouterr().err
