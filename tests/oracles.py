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


# ---------------------------------------------------------------- meta-parameters: shared, rates, horizon
# The inner flow u' = -r * grad_u L(u, shared), u(0) = init, t in [0, T]; rates r broadcast per leaf
# (a leaf of r is either the parameter's shape or a scalar).


def euler_adapted(loss_fn, init, shared, rates, horizon, support_x, support_y, steps):
    """u_K of ``steps`` Euler steps u <- u - (T/K) r grad_u L(u, shared) on the support set, a plain Python loop.

    ``loss_fn(u, shared, x, y)``; a leaf of ``rates`` is the parameter's shape or a scalar.
    """
    step = horizon / steps
    u = init
    for _ in range(steps):
        grad = jax.grad(loss_fn)(u, shared, support_x, support_y)
        u = jax.tree_util.tree_map(lambda p, r, g: p - step * r * g, u, rates, grad)
    return u


def unrolled_meta_params_loss(loss_fn, init, shared, rates, horizon, task, steps):
    """Query loss L(u_K, shared) after :func:`euler_adapted`; differentiate it in any of its four inputs."""
    u = euler_adapted(loss_fn, init, shared, rates, horizon, task.support_x, task.support_y, steps)
    return loss_fn(u, shared, task.query_x, task.query_y)


def shared_linear_loss(head, weights, x, y):
    """0.5 mean((x W w + b - y)^2): a linear head {"b": (), "w": (m,)} on shared features x @ W (d x m)."""
    return 0.5 * jnp.mean((x @ weights @ head["w"] + head["b"] - y) ** 2)


def shared_linear_flow_objective(init, weights, rates, horizon, task):
    """L_val(u(T)) with the exact u(T) of u' = -D (A u + g), D = diag(r), u = [b, w] (ravel order).

    A, g from the support loss on the features x @ W; the affine term rides in an augmented matrix
    z = [u, 1], z' = [[-D A, -D g], [0, 0]] z, so z(T) = expm(T M) z(0) (no inverse).
    """
    X = design(task.support_x @ weights)
    n, p = X.shape
    A, g = X.T @ X / n, -X.T @ task.support_y / n
    d = jnp.concatenate([jnp.reshape(rates["b"], (1,)), jnp.broadcast_to(rates["w"], init["w"].shape)])
    M = jnp.zeros((p + 1, p + 1), X.dtype)
    M = M.at[:p, :p].set(-d[:, None] * A).at[:p, p].set(-d * g)
    z0 = jnp.concatenate([jnp.reshape(init["b"], (1,)), init["w"], jnp.ones((1,), X.dtype)])
    u = (expm(horizon * M) @ z0)[:p]
    head = {"b": u[0], "w": u[1:]}
    return shared_linear_loss(head, weights, task.query_x, task.query_y)


def compiled_value_and_grad(method, loss_fn, params, tasks):
    """``amaml.meta_value_and_grad`` as one compiled program: op-by-op dispatch of its scans and
    solves costs about twice the compile time, and tests call it once per configuration."""
    return jax.jit(lambda p, t: amaml.meta_value_and_grad(method, loss_fn, p, t))(params, tasks)
