"""Test configuration: float64 everywhere; implicit rank promotion and implicit dtype
promotion are errors (the library promises never to cast silently)."""

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")
