"""Every script in examples/ runs at a tiny size and prints what its guide says it prints.

Each runs in a fresh process, as a reader would run it (``python examples/NAME.py ...``); the
guides include their code from these files, so a guide's code cannot rot either.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUNS = {  # script: (tiny arguments, a line its output must match)
    "equinox_model.py": (["--meta-steps", "2"], r"MLP True"),
    "flax_model.py": (["--steps", "3"], r"linen: meta-loss [0-9.]+, gradient keys \['Dense_0', 'Dense_1'\]"),
    "custom_optax_loop.py": (["--meta-steps", "2"], r"query loss after adaptation: [0-9.]+"),
    "cnn_model.py": (["--steps", "1"], r"gradient keys \['conv1', 'conv2', 'head'\], head \(16, 5\)"),
    "few_shot.py": (["--meta-steps", "1", "--filters", "4", "--test-episodes", "4"], r"test accuracy [0-9.]+%"),
    "head_only_horizon.py": (["--meta-steps", "2", "--steps", "8"], r"horizon T = [0-9.]+"),
}


RUNNER = """
import runpy, sys
for script, arguments in SCRIPTS:
    sys.argv = [script, *arguments]
    print(f"=== {script}", flush=True)
    runpy.run_path(script, run_name="__main__")
"""


def test_every_example_is_run_here():
    assert sorted(RUNS) == sorted(p.name for p in EXAMPLES.glob("*.py"))


def test_every_example_runs_and_prints_what_its_guide_says():
    """All in one fresh interpreter, one after another, as ``python examples/NAME.py ...`` would run them."""
    scripts = [(str(EXAMPLES / name), arguments) for name, (arguments, _) in sorted(RUNS.items())]
    env = {**os.environ, "JAX_ENABLE_X64": "0"}  # as a reader runs them: jax's defaults, float32
    program = f"SCRIPTS = {scripts!r}" + RUNNER
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    outputs = dict(re.findall(r"=== (\S+)\n(.*?)(?==== |\Z)", done.stdout, re.S))
    for name, (_, expected) in RUNS.items():
        assert re.search(expected, outputs[str(EXAMPLES / name)]), (name, outputs[str(EXAMPLES / name)])
