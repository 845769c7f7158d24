"""Every script in examples/ runs at a tiny size and prints what its guide says it prints.

Each runs in a fresh process, as a reader would run it (``python examples/NAME.py ...``); the
guides include their code from these files, so a guide's code cannot rot either.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUNS = {  # script: (tiny arguments, a line its output must match)
    "equinox_model.py": (["--meta-steps", "2"], r"MLP True"),
    "flax_model.py": (["--steps", "3"], r"linen: meta-loss [0-9.]+, gradient keys \['Dense_0', 'Dense_1'\]"),
    "custom_optax_loop.py": (["--meta-steps", "2"], r"query loss after adaptation: [0-9.]+"),
    "cnn_model.py": (["--steps", "1"], r"gradient keys \['conv1', 'conv2', 'head'\], head \(16, 5\)"),
    "few_shot.py": (["--meta-steps", "1", "--filters", "4", "--test-episodes", "4"], r"test accuracy [0-9.]+%"),
    "head_only_horizon.py": (["--meta-steps", "2", "--steps", "8"], r"horizon T = [0-9.]+"),
}


def test_every_example_is_run_here():
    assert sorted(RUNS) == sorted(p.name for p in EXAMPLES.glob("*.py"))


@pytest.mark.parametrize("script", sorted(RUNS))
def test_example_runs(script):
    arguments, expected = RUNS[script]
    env = {**os.environ, "JAX_ENABLE_X64": "0"}  # as a reader runs them: jax's defaults, float32
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *arguments], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(expected, done.stdout), done.stdout
