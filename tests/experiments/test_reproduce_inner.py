"""The inner-loop experiment: every variant at one budget, a table over seeds and a figure."""

from amaml.experiments import InnerBudget, reproduce_inner, write_inner_report


def test_reproduce_inner_writes_a_table_with_the_learned_horizon_and_a_figure(tmp_path):
    budget = InnerBudget("tiny", steps=2, step_sizes=(0.05,), meta_steps=2, seeds=(0,), n_test=3)
    variants = ("head only + learned horizon (COMLN-style)",)
    results = reproduce_inner(budget, tmp_path, variants=variants)
    path = write_inner_report(results, budget, tmp_path, "amaml reproduce inner-loop --budget tiny")
    text = path.read_text()
    assert "commit:" in text and "machine:" in text
    row = next(line for line in text.splitlines() if line.startswith("| 0.05 | head only + learned horizon"))
    assert row.split("|")[6].strip() != "-"  # the learned T column is filled
    assert "lowest nRMSE after K steps" in text and (tmp_path / "curves.png").stat().st_size > 1000
    assert reproduce_inner(budget, tmp_path, variants=variants) == results  # resumed: nothing retrained
