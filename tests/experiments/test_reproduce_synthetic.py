"""The synthetic reproduction: runs every (panel, method), writes a table and a figure per panel."""

from amaml.experiments import Budget, reproduce_synthetic, write_synthetic_report


def test_reproduce_writes_a_table_and_a_figure_per_panel(tmp_path):
    budget = Budget(
        "tiny", steps=3, meta_steps=2, dtype="float32", n_test=3, modes=("adam", "inner"), adapt_steps=100, every=50
    )
    results = reproduce_synthetic(budget, tmp_path, panels=(("alpine", 50),), methods=("A-MAML", "MAML-1"))
    path = write_synthetic_report(results, budget, tmp_path, "amaml reproduce synthetic --budget tiny")
    text = path.read_text()
    assert "| Alpine 50shot-50val | A-MAML | 3 |" in text and "| Alpine 50shot-50val | MAML-1 | 1 |" in text
    assert "commit:" in text and "machine:" in text and "0.19" in text  # paper's A-MAML number
    assert "lowest mean nRMSE at step 0" in text
    assert (tmp_path / "alpine-50.png").stat().st_size > 1000
    assert (tmp_path / "alpine-50-inner.png").exists()
    # a second call finds every run trained and evaluated, and returns the same numbers
    again = reproduce_synthetic(budget, tmp_path, panels=(("alpine", 50),), methods=("A-MAML", "MAML-1"))
    assert again == results
