"""The Omniglot reproduction on a tiny fixture set."""

from amaml.experiments import OmniglotBudget, reproduce_omniglot, write_omniglot_report
from omniglot_fixtures import write_tiny_omniglot


def test_reproduce_writes_an_accuracy_table_beside_the_published_numbers(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = write_tiny_omniglot(tmp_path / "data")
    budget = OmniglotBudget(
        "tiny", ("5w1s",), ("FOMAML",), meta_steps=2, n_test=4, queries=1, meta_batch={5: 2}, filters=4
    )
    results = reproduce_omniglot(budget, tmp_path / "out", data)
    path = write_omniglot_report(results, budget, tmp_path / "out", "amaml reproduce omniglot --budget tiny")
    text = path.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| 5w1s | FOMAML |"))
    assert "| 1 | 0.4 | 2 | 2 |" in row  # K, h, meta-batch, updates
    assert 0 <= results["5w1s"]["FOMAML"]["accuracy"]["mean"] <= 100
    assert (tmp_path / "out" / "curves.png").stat().st_size > 1000
    assert reproduce_omniglot(budget, tmp_path / "out", data) == results  # resumed: nothing retrained
