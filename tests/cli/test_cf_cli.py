"""`amaml data fetch` (official site, else the PyPI wheel) and a tiny `amaml reproduce cf`."""

import dataclasses
import subprocess
from pathlib import Path

import pytest

from amaml.cli import main
from amaml.data import _fetch as _data
from cf_fixtures import random_ratings, write_fake_wheel

ROWS = random_ratings(users=9, items=12, per_user=(3, 8), seed=5)


def expect(monkeypatch, counts):
    """Make the fetch check MovieLens-100K against ``counts`` instead of the real sizes."""
    source = dataclasses.replace(_data.DATASETS["movielens-100k"], expected=counts)
    monkeypatch.setitem(_data.DATASETS._entries, "movielens-100k", source)


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
    expect(monkeypatch, (len(ROWS), 9, None))


def test_fetch_falls_back_to_the_wheel_and_writes_u_data(tmp_path, offline, capsys):
    assert main(["data", "fetch", "movielens-100k", "--dir", str(tmp_path / "ml")]) == 0
    lines = (tmp_path / "ml" / "u.data").read_text().splitlines()
    assert [tuple(map(int, line.split("\t")[:3])) for line in lines] == ROWS
    assert f"{len(ROWS)} ratings, 9 users" in capsys.readouterr().out
    assert "PyPI wheel" in (tmp_path / "ml" / "SOURCE.txt").read_text()


def test_fetch_refuses_data_of_the_wrong_size(tmp_path, offline, monkeypatch, capsys):
    expect(monkeypatch, (100_000, 943, 1682))
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
        (
            [
                "train",
                "--run-dir",
                "x",
                "--set",
                "tasks.source=ratings",
                "--set",
                "tasks.dataset=jester-1",
                "--set",
                "tasks.shots=40",
            ],
            "`min_ratings` (50)",
        ),
        (
            ["train", "--run-dir", "x", "--set", "tasks.source=ratings", "--set", "tasks.data_dir=/nonexistent"],
            "/nonexistent/u.data does not exist",
        ),
    ],
)
def test_bad_names_are_rejected_clearly(capsys, argv, words):
    assert main(argv) == 2
    assert words in capsys.readouterr().err
