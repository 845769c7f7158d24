"""The command line: the demo meta-trains, bad names list the valid ones."""

import pytest

from amaml.cli import main


def test_demo_runs_and_the_held_out_meta_loss_falls(capsys):
    code = main(["demo", "--quiet", "--meta-steps", "150", "--steps", "10", "--report-every", "50"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "held-out meta-loss after 150 meta-updates" in out


@pytest.mark.parametrize("flag,name", [("--method", "mamal"), ("--forward", "rk5")])
def test_unknown_names_are_rejected_with_the_valid_ones(capsys, flag, name):
    assert main(["demo", flag, name]) == 2
    err = capsys.readouterr().err
    assert name in err and "valid names are" in err
