"""`amaml scaling` runs the sharded benchmark worker per device count and writes its table.

A benchmark, not a test of speed: nothing here asserts a time.
"""

import json

import pytest

from amaml.cli import main


def test_scaling_writes_json_markdown_and_plot(tmp_path):
    out = tmp_path / "scaling"
    assert main(["scaling", "--devices", "1,2", "--batch", "2", "--steps", "1", "--method", "FOMAML",
                 "--repeats", "1", "--out", str(out), "--quiet"]) == 0
    result = json.loads((out / "scaling.json").read_text())
    assert [r["devices"] for r in result["rows"]] == [1, 2]
    assert all(r["status"] == "ok" and r["finite"] for r in result["rows"]), result["rows"]
    first, second = result["rows"]
    assert first["speedup"] == 1.0 and second["speedup"] == pytest.approx(first["seconds"] / second["seconds"])
    assert second["efficiency"] == pytest.approx(second["speedup"] / 2)
    table = (out / "scaling.md").read_text()
    assert "commit:" in table and "machine:" in table and "meta-batch 2" in table
    assert table.count("\n| 1 |") == 1 and table.count("\n| 2 |") == 1 and "simulated" in table
    assert (out / "scaling.png").stat().st_size > 1000


@pytest.mark.parametrize("argv, words", [
    (["--devices", "1,0"], ["--devices", "positive"]),
    (["--devices", "1,x"], ["--devices"]),
    (["--batch", "6", "--devices", "1,4"], ["--batch", "(6)", "[4]"]),
    (["--method", "MAMLX"], ["valid names are"]),
])
def test_scaling_rejects_bad_arguments(tmp_path, capsys, argv, words):
    assert main(["scaling", "--out", str(tmp_path / "s"), *argv]) == 2
    error = capsys.readouterr().err
    assert all(w in error for w in words), error
    assert not (tmp_path / "s").exists()
