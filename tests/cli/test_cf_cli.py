"""`amaml data fetch` (official site, else the PyPI wheel) and a tiny `amaml reproduce cf`."""

import dataclasses
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cf_fixtures import random_ratings, write_fake_wheel, write_u_data

from amaml.cli import _data, main
from amaml.cli._report_cf import write_cf_report
from amaml.cli._reproduce_cf import CFBudget, reproduce_cf

ROWS = random_ratings(users=9, items=12, per_user=(3, 8), seed=5)


@pytest.fixture
def offline(monkeypatch):
    """No official site; `pip download` leaves a fake RecBole wheel holding ROWS."""
    def no_internet(source, timeout):
        raise OSError("no route to host")

    def fake_pip(command, **kw):
        assert command[1:5] == ["-m", "pip", "download", "--no-deps"] and "recbole==1.2.1" in command
        write_fake_wheel(Path(command[command.index("-d") + 1]) / "recbole-1.2.1-py3-none-any.whl", ROWS)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(_data, "_official", no_internet)
    monkeypatch.setattr(_data.subprocess, "run", fake_pip)
    source = _data.DATASETS["movielens-100k"]
    monkeypatch.setitem(_data.DATASETS, "movielens-100k", dataclasses.replace(source, expected=(len(ROWS), 9, None)))


def test_fetch_falls_back_to_the_wheel_and_writes_u_data(tmp_path, offline, capsys):
    assert main(["data", "fetch", "movielens-100k", "--dir", str(tmp_path / "ml")]) == 0
    lines = (tmp_path / "ml" / "u.data").read_text().splitlines()
    assert [tuple(map(int, line.split("\t")[:3])) for line in lines] == ROWS
    assert f"{len(ROWS)} ratings, 9 users" in capsys.readouterr().out
    assert "PyPI wheel" in (tmp_path / "ml" / "SOURCE.txt").read_text()


def test_fetch_refuses_data_of_the_wrong_size(tmp_path, offline, monkeypatch, capsys):
    source = _data.DATASETS["movielens-100k"]
    monkeypatch.setitem(_data.DATASETS, "movielens-100k", dataclasses.replace(source, expected=(100_000, 943, 1682)))
    assert main(["data", "fetch", "movielens-100k", "--dir", str(tmp_path)]) == 2
    assert "expected (100000, 943, 1682)" in capsys.readouterr().err


def test_without_a_source_fetch_says_which_file_to_put_where(tmp_path, offline, capsys):
    assert main(["data", "fetch", "jester-1", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "jester_dataset_1_1.zip" in err and f"put it at {tmp_path / 'jester-data-1.xls'}" in err
    assert main(["reproduce", "cf", "--dataset", "movielens-1m", "--data-dir", str(tmp_path)]) == 2
    assert f"{tmp_path / 'ratings.dat'} does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv,words",
    [
        (["data", "fetch", "netflix"], "valid names are"),
        (["reproduce", "cf", "--dataset", "movielens-10m"], "valid names are"),
        (["reproduce", "cf", "--dataset", "movielens-100k", "--features", "pca"], "valid names are"),
        (["reproduce", "cf"], "needs --dataset"),
        (["reproduce", "tabular"], "unknown experiment"),
        (["train", "--run-dir", "x", "--set", "dataset=\"jester-1\"", "--set", "shots=40"], "`min_ratings` (50)"),
    ],
)
def test_bad_names_are_rejected_clearly(capsys, argv, words):
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_reproduce_cf_end_to_end_on_a_fixture_dataset(tmp_path):
    # 110 users rating 60 of the 100 items each: 100 test users and 10 training users
    rows = random_ratings(users=110, items=100, per_user=(60, 60), seed=7)
    write_u_data(tmp_path / "ml", rows)
    budget = CFBudget("tiny", meta_steps=2, description="a test")
    methods = {"A-MAML": ("amaml", (2,)), "Reptile": ("reptile", (1,))}
    results = reproduce_cf(budget, "movielens-100k", str(tmp_path / "ml"), "onehot", tmp_path / "out", quiet=True,
                           methods=methods, settings=((10, 15),))
    entry = results["settings"]["10/15"]
    assert entry["n_test_users"] == 100 and entry["n_train_users"] == 10
    assert entry["methods"]["A-MAML"]["2"]["inner"]["steps"] == [0, 2] and set(entry["methods"]["Reptile"]) == {"1"}
    path = write_cf_report(results, budget, tmp_path / "out", "amaml reproduce cf --dataset movielens-100k")
    text = path.read_text()
    assert "commit:" in text and "machine:" in text and "| A-MAML | 2 |" in text and "| 0.053 |" in text
    assert "| Reptile | 1 |" in text and "| 0.166 |" in text  # the paper's numbers (50 steps)
    for name in ("global mean", "item mean", "user mean", "item mean + user offset"):
        assert f"| baseline: {name} |" in text
    user = entry["baselines"]["user mean"]["mean"]
    losers = [k for runs in entry["methods"].values() for k, ev in runs.items() if ev["inner"]["mean"][-1] >= user]
    line = next(line for line in text.splitlines() if line.startswith("- 10/15: the user mean baseline scores"))
    assert ("**Not beating it**" in line or "**no meta-learned run beats it**" in line) == bool(losers)
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert np.isclose(saved["settings"]["10/15"]["baselines"]["user mean"]["mean"], user)
    assert (tmp_path / "out" / "nrmse.png").stat().st_size > 1000
    assert (tmp_path / "out" / "runs" / "10-15" / "A-MAML-K2" / "eval.json").exists()
