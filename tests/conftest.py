"""Test configuration: float64 everywhere; implicit rank promotion and implicit dtype
promotion are errors (the library promises never to cast silently).

Compiled programs are shared through JAX's persistent compilation cache in one directory per
test run (both xdist workers and the CLI subprocesses the tests start): many tests compile the
same meta-update, and a cached executable is the same program, so results are unchanged.

XLA's optimisations are mostly off (``JAX_DISABLE_MOST_OPTIMIZATIONS``, inherited by the
subprocesses too): the suite's programs are small and mostly compiled to run once or twice, so
compiling is most of their cost (an interleaved subset: 107 s with them, 66 s without). Every
assertion compares mathematics with a tolerance or two runs of the same configuration, which
hold either way; benchmarks and experiments run with the optimisations on.

For the same reason XLA's CPU fusion emitters (which lower every fusion through MLIR) are off
when this jaxlib knows the flag: its older emitters compile these programs in about half the
time (the whole suite on 2 cores: 415 s with them, 264 s without).
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jax
import pytest
from _pytest.nodeid import coerce_node_id

# xdist starts its workers as children of the controller, which removes the directory at the end
_RUN = os.getppid() if "PYTEST_XDIST_WORKER" in os.environ else os.getpid()
_CACHE = Path(tempfile.gettempdir()) / f"amaml-tests-jax-cache-{_RUN}"
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(_CACHE))  # inherited by subprocesses
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
_FAST_COMPILE = "--xla_cpu_use_fusion_emitters=false"


def _xla_accepts(flags: str) -> bool:
    """XLA aborts the process on a flag it does not know, so ask a throwaway interpreter first."""
    probe = [sys.executable, "-c", "import jax; jax.devices('cpu')"]
    env = {**os.environ, "XLA_FLAGS": flags}
    return subprocess.run(probe, env=env, capture_output=True, timeout=120).returncode == 0


if "AMAML_TESTS_XLA_PROBED" not in os.environ:  # once per run: the workers and subprocesses inherit the result
    os.environ["AMAML_TESTS_XLA_PROBED"] = "1"
    _flags = f"{os.environ.get('XLA_FLAGS', '')} {_FAST_COMPILE}".strip()
    if _FAST_COMPILE not in os.environ.get("XLA_FLAGS", "") and _xla_accepts(_flags):
        os.environ["XLA_FLAGS"] = _flags
jax.config.update("jax_disable_most_optimizations", os.environ["JAX_DISABLE_MOST_OPTIMIZATIONS"] == "1")
jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update(
    "jax_persistent_cache_min_compile_time_secs", float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"])
)
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Make ``--dist loadgroup`` group again under pytest 9: xdist 3.8 marks a grouped test by
    assigning ``item._nodeid``, which pytest 9 no longer reads (it uses ``item._id``), so the
    tests of one ``xdist_group`` spread over both workers and their module fixtures ran twice."""
    if not getattr(config.option, "loadgroup", False):  # set on the workers by xdist
        return
    for item in items:
        marks = item.iter_markers("xdist_group")
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in marks})
        if names and "@" not in item.nodeid:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(names)}")


def pytest_sessionfinish(session):
    """The controller (not an xdist worker) removes this run's compilation cache."""
    if not hasattr(session.config, "workerinput"):
        shutil.rmtree(_CACHE, ignore_errors=True)
