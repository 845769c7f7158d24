"""`amaml scaling` runs the sharded benchmark worker per device count and writes its table.

A benchmark, not a test of speed: nothing here asserts a time.
"""

import json

import pytest

from amaml.cli import main
from amaml.experiments._scaling import add_rates, markdown


def test_scaling_writes_json_markdown_and_plot(tmp_path):
    out = tmp_path / "scaling"
    assert (
        main(
            [
                "scaling",
                "--devices",
                "2",
                "--batch",
                "2",
                "--steps",
                "1",
                "--method",
                "FOMAML",
                "--repeats",
                "1",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    result = json.loads((out / "scaling.json").read_text())
    (row,) = result["rows"]
    assert row["devices"] == 2 and row["status"] == "ok" and row["finite"] and row["load_before"] >= 0, row
    assert row["updates_per_second"] == pytest.approx(1 / row["seconds"]) and "speedup" not in row
    table = (out / "scaling.md").read_text()
    assert "commit:" in table and "machine:" in table and "meta-batch 2" in table
    assert "\n| 2 |" in table and "simulated" in table
    assert (out / "scaling.png").stat().st_size > 1000


def test_speedup_and_efficiency_are_relative_to_one_device():
    rows = add_rates(
        [
            {"devices": d, "status": "ok", "seconds": s, "compile_seconds": 1.0, "device": "cpu"}
            for d, s in ((1, 0.4), (2, 0.25), (4, 0.2))
        ]
        + [{"devices": 8, "status": "timeout"}]
    )
    assert [r.get("speedup") for r in rows] == [1.0, 1.6, 2.0, None]
    assert [r.get("efficiency") for r in rows] == [1.0, 0.8, 0.5, None]
    workload = {"batch": 8, "dim": 2, "width": 32, "points": 50}
    table = markdown({"workload": workload, "method": "A-MAML", "steps": 100, "dtype": "float32", "rows": rows}, "")
    assert "| 4 | 200.0 | 5.00 | 2.00x | 50% | 1.0 |  |" in table and "| 8 | TIMEOUT" in table


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--devices", "1,0"], ["--devices", "positive"]),
        (["--devices", "1,x"], ["--devices"]),
        (["--batch", "6", "--devices", "1,4"], ["--batch", "(6)", "[4]"]),
        (["--method", "MAMLX"], ["valid names are"]),
    ],
)
def test_scaling_rejects_bad_arguments(tmp_path, capsys, argv, words):
    assert main(["scaling", "--out", str(tmp_path / "s"), *argv]) == 2
    error = capsys.readouterr().err
    assert all(w in error for w in words), error
    assert not (tmp_path / "s").exists()
