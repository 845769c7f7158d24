"""Test configuration: float64 everywhere; implicit rank promotion and implicit dtype
promotion are errors (the library promises never to cast silently)."""

import jax
import pytest
from _pytest.nodeid import coerce_node_id

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
