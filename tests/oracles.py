"""Analytic solutions and hand-written references the tests compare against.

Nothing here calls amaml's solvers or methods: each oracle is an independent way to get the
right answer (matrix exponentials, linear solves, a plain Python loop under ``jax.grad``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import expm

import amaml

# ---------------------------------------------------------------- linear regression tasks
# params = {"b": (), "w": (d,)}; ravel_pytree sorts dict keys, so the flat vector is [b, w].


def linear_apply(params, x):
    return x @ params["w"] + params["b"]


def linear_params(key, d, dtype=jnp.float64):
    kw, kb = jax.random.split(key)
    return {"b": jax.random.normal(kb, (), dtype), "w": jax.random.normal(kw, (d,), dtype)}


def design(x):
    """Rows [1, x_i], matching the flat order [b, w]."""
    return jnp.concatenate([jnp.ones((x.shape[0], 1), x.dtype), x], axis=1)


def linear_tasks(key, batch, n_support, n_query, d, dtype=jnp.float64):
    """Noisy linear targets with a task-specific slope; inputs scaled for moderate curvature."""
    ks = jax.random.split(key, 5)
    slope = jax.random.normal(ks[0], (batch, d), dtype)
    xs = jax.random.normal(ks[1], (batch, n_support, d), dtype)
    xq = jax.random.normal(ks[2], (batch, n_query, d), dtype)
    ys = jnp.einsum("bnd,bd->bn", xs, slope) + 0.1 * jax.random.normal(ks[3], (batch, n_support), dtype)
    yq = jnp.einsum("bnd,bd->bn", xq, slope) + 0.1 * jax.random.normal(ks[4], (batch, n_query), dtype)
    return amaml.Task(xs, ys, xq, yq)


def quadratic(x, y):
    """Hessian A and gradient offset g of L(u) = 0.5 mean((X u - y)^2): grad L = A u + g."""
    X = design(x)
    return X.T @ X / x.shape[0], -X.T @ y / x.shape[0]


def quadratic_loss(u, x, y):
    X = design(x)
    return 0.5 * jnp.mean((X @ u - y) ** 2)


def flow_solution(theta, task, horizon, prox=0.0):
    """Exact u(T) of u' = -(A u + g) - prox (u - theta), u(0) = theta."""
    A, g = quadratic(task.support_x, task.support_y)
    M = A + prox * jnp.eye(A.shape[0], dtype=A.dtype)
    fixed = jnp.linalg.solve(M, prox * theta - g)
    return fixed + expm(-M * horizon) @ (theta - fixed)


def closed_form_meta_grad(theta, task, horizon):
    """dJ/dtheta = expm(-A T)^T grad L_val(u(T)) for J = L_val(u(T)), no prox."""
    A, _ = quadratic(task.support_x, task.support_y)
    u_final = flow_solution(theta, task, horizon)
    grad_val = jax.grad(quadratic_loss)(u_final, task.query_x, task.query_y)
    return expm(-A * horizon).T @ grad_val


def closed_form_prox_objective(theta, task, horizon, prox):
    """J(theta) = L_val(u(T)) + prox/2 ||u(T) - theta||^2 with the exact u(T)."""
    u_final = flow_solution(theta, task, horizon, prox)
    return quadratic_loss(u_final, task.query_x, task.query_y) + 0.5 * prox * jnp.sum((u_final - theta) ** 2)


def imaml_closed_form(theta, task, prox):
    """(I + A/prox)^{-1} grad L_val(u*), u* the minimiser of L_tr + prox/2 ||u - theta||^2."""
    A, g = quadratic(task.support_x, task.support_y)
    eye = jnp.eye(A.shape[0], dtype=A.dtype)
    u_star = jnp.linalg.solve(A + prox * eye, prox * theta - g)
    grad_val = jax.grad(quadratic_loss)(u_star, task.query_x, task.query_y)
    return jnp.linalg.solve(eye + A / prox, grad_val)


# ---------------------------------------------------------------- nonlinear references


def tanh_mlp_task(key, n=100, d=1, dtype=jnp.float64):
    """One smooth regression task for an MLP (no task axis)."""
    ks = jax.random.split(key, 2)
    xs = jax.random.uniform(ks[0], (n, d), dtype, -2.0, 2.0)
    xq = jax.random.uniform(ks[1], (n, d), dtype, -2.0, 2.0)

    def target(x):
        return jnp.sin(2 * x) + 0.3 * x**2

    return amaml.Task(xs, target(xs), xq, target(xq))


def batched(*tasks):
    return jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *tasks)


def unrolled_maml_loss(loss_fn, params, task, steps, step_size):
    """MAML's meta-loss with the inner loop written as a plain Python loop."""
    u = params
    for _ in range(steps):
        grad = jax.grad(loss_fn)(u, task.support_x, task.support_y)
        u = jax.tree_util.tree_map(lambda p, g: p - step_size * g, u, grad)
    return loss_fn(u, task.query_x, task.query_y)


def relative_error(a, b):
    a = np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(a)])
    b = np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(b)])
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def fitted_slope(hs, errors):
    """Least-squares slope of log(error) against log(h)."""
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])
