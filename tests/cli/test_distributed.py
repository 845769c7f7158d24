"""`amaml train --devices/--coordinator/...`: bad flags are refused clearly, before any work."""

import pytest

from amaml.cli import main

MULTI = ["--coordinator", "127.0.0.1:1234", "--num-processes", "2", "--process-id", "0"]


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--devices", "0"], ["--devices", "'auto' or a positive integer", "'0'"]),
        (["--devices", "many"], ["--devices", "'many'"]),
        (["--devices", "3"], ["--devices", "3 devices", "jax sees 1", "xla_force_host_platform_device_count=3"]),
        (["--coordinator", "127.0.0.1:1234"], ["--num-processes", "--process-id", "missing"]),
        (["--coordinator", "localhost", "--num-processes", "2", "--process-id", "0"], ["--coordinator", "HOST:PORT"]),
        (["--coordinator", "h:70000", "--num-processes", "2", "--process-id", "0"], ["--coordinator", "1 ... 65535"]),
        (["--coordinator", "h:1", "--num-processes", "0", "--process-id", "0"], ["--num-processes", "positive"]),
        (["--coordinator", "h:1", "--num-processes", "2", "--process-id", "2"], ["--process-id", "0 ... 1"]),
        ([*MULTI, "--cluster"], ["--cluster", "not both"]),
    ],
)
def test_bad_device_and_host_flags_are_rejected(tmp_path, capsys, flags, words):
    run = tmp_path / "run"
    assert main(["train", "--quiet", "--run-dir", str(run), *flags]) == 2
    error = capsys.readouterr().err
    for word in words:
        assert word in error, (word, error)
    assert not run.exists()


def test_one_device_is_the_plain_single_device_run(tmp_path):
    from amaml.cli import _distributed, build_parser

    for devices in ("1", "auto"):  # this process sees one CPU device
        args = build_parser().parse_args(["train", "--run-dir", str(tmp_path), "--devices", devices])
        assert _distributed.setup(args) is None
