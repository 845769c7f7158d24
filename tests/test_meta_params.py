"""Meta-learned shared parameters, learning rates and horizon (amaml.MetaParams) against independent oracles.

The inner flow is u' = -r * grad_u L(u; shared), u(0) = init on [0, T]; every field of the meta-gradient is
checked against jax.grad of a hand-written computation (a Python loop, or a matrix exponential).
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import amaml
from oracles import (
    batched,
    euler_adapted,
    fitted_slope,
    linear_tasks,
    relative_error,
    shared_linear_flow_objective,
    tanh_mlp_task,
    unrolled_meta_params_loss,
)

pytestmark = pytest.mark.xdist_group("meta_params")  # its tests share module fixtures

FIELDS = ("init", "shared", "rates", "horizon")
LOSS = amaml.losses.mse(amaml.models.mlp_apply)


# ---------------------------------------------------------------- a tanh MLP: body shared, last layer adapted


def body(shared, x):
    """The hidden tanh layers: the features F = body(shared, x)."""
    for layer in shared:
        x = jnp.tanh(x @ layer["w"] + layer["b"][None, :])
    return x


def head(adapted, features, y):
    """Half mean squared error of the last linear layer on the features."""
    prediction = features @ adapted["w"] + adapted["b"][None, :]
    return 0.5 * jnp.sum((prediction - y) ** 2) / y.shape[0]


def plain_loss(adapted, shared, x, y):
    """The same loss as one unstructured 4-argument function."""
    return head(adapted, body(shared, x), y)


FEATURE_LOSS = amaml.FeatureLoss(features=body, head=head)
LOSSES = {"feature": FEATURE_LOSS, "plain": plain_loss}


def scalar(value):
    return jnp.asarray(value, jnp.float64)


@pytest.fixture(scope="module")
def mlp():
    """MetaParams with every field set (rates: per-parameter on w, one scalar on b) and 3 tasks."""
    layers = amaml.models.mlp_init(jax.random.key(0), [1, 8, 8, 1], jnp.float64)
    rates = {"w": jax.random.uniform(jax.random.key(5), (8, 1), jnp.float64, 0.5, 1.5), "b": scalar(0.8)}
    meta = amaml.MetaParams(init=layers[2], shared=layers[:2], rates=rates, horizon=scalar(1.0))
    tasks = batched(*[tanh_mlp_task(jax.random.key(i), n=20) for i in (1, 2, 3)])
    return meta, tasks


def oracle_value_and_grad(meta, tasks, steps):
    """jax.grad of the task mean of the Python-loop meta-loss, as a MetaParams."""

    def objective(init, shared, rates, horizon):
        per_task = jax.vmap(lambda t: unrolled_meta_params_loss(loss, init, shared, rates, horizon, t, steps))
        return jnp.mean(per_task(tasks))

    # The loop runs eagerly (compiling 50 unrolled steps takes longer); only the loss itself is jitted.
    loss = jax.jit(plain_loss)
    value, grads = jax.value_and_grad(objective, argnums=(0, 1, 2, 3))(*meta)
    return value, amaml.MetaParams(*grads)


def meta_grad_fn(method, loss_fn):
    return jax.jit(lambda m, t: amaml.meta_value_and_grad(method, loss_fn, m, t))


def assert_same_structure(grads, meta):
    assert isinstance(grads, amaml.MetaParams)
    for name in FIELDS:
        got, want = getattr(grads, name), getattr(meta, name)
        if want is None:
            assert got is None, name
            continue
        assert jax.tree_util.tree_structure(got) == jax.tree_util.tree_structure(want), name
        for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
            assert g.shape == w.shape and g.dtype == w.dtype, (name, g.shape, w.shape, g.dtype)


def field_errors(grads, reference):
    return {name: relative_error(getattr(grads, name), getattr(reference, name)) for name in FIELDS}


@pytest.fixture(scope="module")
def unrolled_50(mlp):
    meta, tasks = mlp
    return oracle_value_and_grad(meta, tasks, 50)


@pytest.mark.parametrize("loss_name", list(LOSSES))
@pytest.mark.parametrize(
    "method",
    [amaml.DiscreteAdjoint(50, 0.02, forward=amaml.Euler()), amaml.MAML(50, 0.02)],
    ids=lambda m: type(m).__name__,
)
def test_euler_methods_equal_autodiff_of_the_python_loop_in_every_field(mlp, unrolled_50, method, loss_name):
    """d/d(init, shared, rates, T) of L_q(u_K) with u <- u - (T/K) r grad L_s(u, shared) is jax.grad of the loop."""
    meta, tasks = mlp
    value_ref, grads_ref = unrolled_50
    value, grads = meta_grad_fn(method, LOSSES[loss_name])(meta, tasks)
    assert_same_structure(grads, meta)
    errors = field_errors(grads, grads_ref)
    assert all(error < 1e-10 for error in errors.values()), errors
    assert abs(value - value_ref) <= 1e-12 * abs(value_ref)


def test_step_size_is_ignored_when_a_horizon_is_given(mlp):
    """With horizon T the inner step is T/K whatever method.step_size says: the result does not depend on it."""
    meta, tasks = mlp
    mvg = lambda step_size: amaml.meta_value_and_grad(amaml.MAML(10, step_size), plain_loss, meta, tasks)
    a, b = jax.jit(lambda: (mvg(0.01), mvg(0.3)))()
    assert float(a[0]) == float(b[0])
    assert all(relative_error(getattr(a[1], n), getattr(b[1], n)) == 0.0 for n in FIELDS)


def test_feature_loss_is_the_head_of_the_body(mlp):
    """FeatureLoss(features=body, head=head)(u, shared, x, y) = head(u, body(shared, x), y)."""
    meta, tasks = mlp
    x, y = tasks.support_x[0], tasks.support_y[0]
    assert float(FEATURE_LOSS(meta.init, meta.shared, x, y)) == float(head(meta.init, body(meta.shared, x), y))


def test_a_scalar_rate_is_a_constant_per_parameter_rate_and_gets_the_summed_gradient(mlp):
    """r_leaf = c (scalar) gives the flow of r_leaf = c * ones, and dJ/dc = sum of the per-parameter dJ/dr."""
    meta, tasks = mlp
    full = meta._replace(rates={"w": meta.rates["w"], "b": jnp.full((1,), meta.rates["b"])})
    mvg = lambda m: amaml.meta_value_and_grad(amaml.MAML(10, 0.1), plain_loss, m, tasks)
    (value_s, grads_s), (value_f, grads_f) = jax.jit(lambda: (mvg(meta), mvg(full)))()
    assert abs(value_s - value_f) <= 1e-13 * abs(value_f)
    assert grads_s.rates["b"].shape == ()
    np.testing.assert_allclose(grads_s.rates["b"], jnp.sum(grads_f.rates["b"]), rtol=1e-12)
    for name in ("init", "shared", "horizon"):
        assert relative_error(getattr(grads_s, name), getattr(grads_f, name)) < 1e-12, name


# ---------------------------------------------------------------- linear regression on shared features x @ W


def linear_body(weights, x):
    return x @ weights


def linear_head(adapted, features, y):
    return 0.5 * jnp.mean((features @ adapted["w"] + adapted["b"] - y) ** 2)


LINEAR_LOSS = amaml.FeatureLoss(features=linear_body, head=linear_head)  # = oracles.shared_linear_loss


@pytest.fixture(scope="module")
def linear():
    """Features x @ W (W: 4 x 3, shared), head [b, w] (init), per-parameter rates, horizon 2; exact gradient."""
    d, m = 4, 3
    tasks = linear_tasks(jax.random.key(0), 2, 20, 20, d)
    weights = jax.random.normal(jax.random.key(3), (d, m), jnp.float64) / 2.0
    init = {"b": scalar(0.3), "w": jax.random.normal(jax.random.key(4), (m,), jnp.float64)}
    rates = {"b": scalar(1.3), "w": jax.random.uniform(jax.random.key(5), (m,), jnp.float64, 0.5, 1.5)}
    meta = amaml.MetaParams(init=init, shared=weights, rates=rates, horizon=scalar(2.0))

    def objective(init, weights, rates, horizon):
        per_task = jax.vmap(lambda t: shared_linear_flow_objective(init, weights, rates, horizon, t))
        return jnp.mean(per_task(tasks))

    value, grads = jax.jit(jax.value_and_grad(objective, argnums=(0, 1, 2, 3)))(*meta)
    return meta, tasks, value, amaml.MetaParams(*grads)


def rk4_rk4(steps, horizon):
    return amaml.AdjointMAML(steps, horizon / steps, forward=amaml.RK4(), backward=amaml.RK4())


def test_rk4_adjoint_matches_the_matrix_exponential_gradient_and_its_error_falls_at_fourth_order(linear):
    """Every field is within 1e-6 of the expm gradient at K=200; its error falls like h^4 (slope > 3.5) at fixed T."""
    meta, tasks, value_ref, grads_ref = linear
    steps = [50, 100, 200]
    errors = {name: [] for name in FIELDS}
    for k in steps:
        value, grads = meta_grad_fn(rk4_rk4(k, 2.0), LINEAR_LOSS)(meta, tasks)
        for name, error in field_errors(grads, grads_ref).items():
            errors[name].append(error)
    assert_same_structure(grads, meta)
    assert all(errors[name][-1] < 1e-6 for name in FIELDS), errors
    assert abs(value - value_ref) <= 1e-8 * abs(value_ref)
    slopes = {name: fitted_slope([2.0 / k for k in steps], errors[name]) for name in FIELDS}
    assert all(slope > 3.5 for slope in slopes.values()), (slopes, errors)


# ---------------------------------------------------------------- the horizon gradient


def central_difference_in_horizon(fn, meta, tasks, epsilon):
    """(J(T + eps) - J(T - eps)) / 2 eps with J the meta-loss that ``fn`` (a jitted meta_value_and_grad) returns."""
    at = lambda horizon: float(fn(meta._replace(horizon=scalar(horizon)), tasks)[0])
    horizon = float(meta.horizon)
    return (at(horizon + epsilon) - at(horizon - epsilon)) / (2 * epsilon)


def test_adjoint_horizon_gradient_is_the_final_adjoint_dotted_with_the_final_vector_field(mlp):
    """dJ/dT = mean_b a_b(T) . f(u_K), a = grad_u L_q(u_K), f = -r grad_u L_s(u_K); = dJ_h/dT to O(h^4) + FD error."""
    meta, tasks = mlp
    method = rk4_rk4(200, float(meta.horizon))
    fn = meta_grad_fn(method, FEATURE_LOSS)
    _, grads = fn(meta, tasks)
    adapt = jax.jit(lambda m, x, y: amaml.adapt(method, FEATURE_LOSS, m, x, y))
    by_hand = []
    for b in range(tasks.support_x.shape[0]):
        u = adapt(meta, tasks.support_x[b], tasks.support_y[b])
        a = jax.grad(plain_loss)(u, meta.shared, tasks.query_x[b], tasks.query_y[b])
        g = jax.grad(plain_loss)(u, meta.shared, tasks.support_x[b], tasks.support_y[b])
        f = jax.tree_util.tree_map(lambda r, gi: -r * gi, meta.rates, g)
        by_hand.append(
            sum(jnp.vdot(ai, fi) for ai, fi in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(f)))
        )
    by_hand = float(np.mean(by_hand))
    assert abs(float(grads.horizon) - by_hand) <= 1e-10 * abs(by_hand)
    # Central difference of the method's own J(T), eps = 1e-4: truncation eps^2 J'''/6 ~ 6e-9 relative here
    # (measured: 1.7e-9 at eps = 5e-5, a quarter), rounding ~1e-16 |J| / (eps |dJ/dT|) ~ 1e-10, and the d/dT of
    # the RK4 forward's O(h^4) error at h = 0.005 ~ 1e-10 (K = 2000 moves a.f by 1e-10): 1e-7 is 15x the sum.
    fd = central_difference_in_horizon(fn, meta, tasks, 1e-4)
    assert abs(float(grads.horizon) - fd) <= 1e-7 * abs(fd), (float(grads.horizon), fd)


@pytest.mark.parametrize(
    "method",
    [amaml.DiscreteAdjoint(20, 0.05, forward=amaml.Euler()), amaml.DiscreteAdjoint(10, 0.1, forward=amaml.RK4())],
    ids=lambda m: repr(m.inner_solver),
)
def test_discrete_adjoint_horizon_gradient_is_the_derivative_of_its_own_meta_loss(mlp, method):
    """The exact discrete adjoint's dJ/dT equals the central difference of its own J(T) (eps 1e-4) to 1e-7."""
    meta, tasks = mlp
    fn = meta_grad_fn(method, plain_loss)
    _, grads = fn(meta, tasks)
    fd = central_difference_in_horizon(fn, meta, tasks, 1e-4)
    assert abs(float(grads.horizon) - fd) <= 1e-7 * abs(fd), (float(grads.horizon), fd)


# ---------------------------------------------------------------- feature structure: the body outside the loop


class Counter:
    def __init__(self):
        self.calls = 0

    def bump(self, x):
        self.calls += 1

    def body(self, shared, x):
        """``body``, counting its evaluations at run time (x is batched under vmap: one call per task)."""
        jax.debug.callback(self.bump, x)
        return body(shared, x)


@pytest.mark.parametrize("make", [amaml.DiscreteAdjoint], ids=lambda c: c.__name__)  # AdjointMAML: same sweep
def test_feature_loss_evaluates_the_body_a_number_of_times_independent_of_the_steps(mlp, make):
    """Body evaluations per meta-gradient: constant in K for FeatureLoss, growing in K unstructured; same gradient."""
    meta, tasks = mlp
    counters = {"structured": Counter(), "unstructured": Counter()}
    losses = {
        "structured": amaml.FeatureLoss(features=counters["structured"].body, head=head),
        "unstructured": lambda u, s, x, y: head(u, counters["unstructured"].body(s, x), y),
    }
    counts = {}
    for k in (5, 40):
        method = make(k, 1.0 / k)
        both = jax.jit(
            lambda m, t, method=method: {
                name: amaml.meta_value_and_grad(method, loss, m, t) for name, loss in losses.items()
            }
        )
        jax.effects_barrier()
        for counter in counters.values():
            counter.calls = 0
        results = jax.block_until_ready(both(meta, tasks))  # callbacks fire when the compiled code runs
        jax.effects_barrier()
        counts.update({(name, k): counter.calls for name, counter in counters.items()})
        (value_s, grads_s), (value_u, grads_u) = results["structured"], results["unstructured"]
        errors = field_errors(grads_s, grads_u)
        assert all(error < 1e-10 for error in errors.values()), (k, errors)
        assert abs(value_s - value_u) <= 1e-12 * abs(value_u)
    batch = tasks.support_x.shape[0]
    assert counts["structured", 5] == counts["structured", 40], counts
    assert counts["structured", 5] == 2 * batch, counts  # once per task on the support set, once on the query set
    assert counts["unstructured", 40] > counts["unstructured", 5], counts


# ---------------------------------------------------------------- memory


def test_compiled_memory_with_every_field_stays_nearly_flat_in_steps():
    """XLA's temp memory of the meta-gradient with shared, rates and horizon at K=1600 is <= 1.5x that at K=100."""
    layers = amaml.models.mlp_init(jax.random.key(0), [1, 256, 256, 1], jnp.float64)
    per_parameter = jnp.full((256, 256), 0.9, jnp.float64)
    rates = [{"w": per_parameter, "b": scalar(1.1)}, {"w": scalar(0.7), "b": scalar(1.2)}]
    meta = amaml.MetaParams(init=layers[1:], shared=layers[0], rates=rates, horizon=scalar(1.0))
    tasks = batched(tanh_mlp_task(jax.random.key(1), n=20))
    loss = amaml.FeatureLoss(
        features=lambda s, x: jnp.tanh(x @ s["w"] + s["b"][None, :]),
        head=lambda u, f, y: 0.5 * jnp.sum((amaml.models.mlp_apply(u, f) - y) ** 2) / y.shape[0],
    )

    def temp_bytes(method):
        fn = jax.jit(lambda m, t: amaml.meta_value_and_grad(method, loss, m, t))
        return fn.lower(meta, tasks).compile().memory_analysis().temp_size_in_bytes

    # One method keeps the suite short: both adjoints share the checkpointed forward_and_sweep,
    # and DiscreteAdjoint's extra accumulators are vectors of the same size as AdjointMAML's.
    # A fixed budget of 16 MiB (about 15 states): the default, a share of the machine's memory, would store all.
    budget = 16 * 2**20
    small = temp_bytes(amaml.AdjointMAML(100, 0.01, memory_budget=budget))
    large = temp_bytes(amaml.AdjointMAML(1600, 0.01, memory_budget=budget))
    assert large <= 1.5 * small, (small, large)


# ---------------------------------------------------------------- smaller checks


# Three methods, for the suite's time: the continuous sweep, the discrete sweep and a first-order method;
# the plain results of every method are pinned numerically by their own tests in tests/methods.
PLAIN_METHODS = [amaml.AdjointMAML(8, 0.05), amaml.DiscreteAdjoint(8, 0.05), amaml.FOMAML(8, 0.05)]


@pytest.mark.parametrize("method", PLAIN_METHODS, ids=lambda m: type(m).__name__)
def test_plain_params_give_bitwise_the_result_of_metaparams_with_init_only(method):
    """meta_value_and_grad and adapt on params equal, bit for bit, those on MetaParams(init=params)."""
    params = amaml.models.mlp_init(jax.random.key(0), [1, 8, 8, 1], jnp.float64)
    tasks = batched(tanh_mlp_task(jax.random.key(1), n=15), tanh_mlp_task(jax.random.key(2), n=15))

    def both(p):
        results = []
        for given in (p, amaml.MetaParams(init=p)):
            results.append(amaml.meta_value_and_grad(method, LOSS, given, tasks))
            results.append(amaml.adapt(method, LOSS, given, tasks.support_x[0], tasks.support_y[0]))
        return results

    (value_p, grad_p), adapted_p, (value_m, grad_m), adapted_m = jax.jit(both)(params)
    assert jax.tree_util.tree_structure(grad_p) == jax.tree_util.tree_structure(params)
    assert isinstance(grad_m, amaml.MetaParams)
    assert grad_m.shared is None and grad_m.rates is None and grad_m.horizon is None
    assert float(value_p) == float(value_m)
    for plain, wrapped in ((grad_p, grad_m.init), (adapted_p, adapted_m)):
        assert jax.tree_util.tree_structure(wrapped) == jax.tree_util.tree_structure(params)
        assert all(
            np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(plain), jax.tree_util.tree_leaves(wrapped))
        )


def test_meta_train_step_with_sgd_moves_every_field_by_minus_lr_times_its_gradient(mlp):
    """One optax.sgd(lr) step: field <- field - lr * dJ/dfield for init, shared, rates and horizon."""
    meta, tasks = mlp
    method, lr = amaml.DiscreteAdjoint(10, 0.1), 0.05
    optimizer = optax.sgd(lr)

    def run(m, t):
        step = amaml.meta_train_step(method, plain_loss, optimizer, m, optimizer.init(m), t)
        return step, amaml.meta_value_and_grad(method, plain_loss, m, t)

    step, (value, grads) = jax.jit(run)(meta, tasks)
    assert isinstance(step.params, amaml.MetaParams)
    expected = jax.tree_util.tree_map(lambda p, g: p - lr * g, meta, grads)
    for name in FIELDS:
        assert relative_error(getattr(step.params, name), getattr(expected, name)) < 1e-13, name
        assert relative_error(getattr(step.params, name), getattr(meta, name)) > 0, name  # it moved
    assert abs(step.meta_loss - value) <= 1e-13 * abs(value)


def test_check_meta_grad_reports_each_field_of_the_exact_method_as_exact(mlp):
    """DiscreteAdjoint's gradient in every field agrees with central differences of its meta-loss to < 1e-6."""
    meta, tasks = mlp
    check = amaml.check_meta_grad(amaml.DiscreteAdjoint(10, 0.1), plain_loss, meta, tasks, directions=3, refine=1)
    assert set(check.field_errors) == set(FIELDS), check.field_errors
    assert all(error < 1e-6 for error in check.field_errors.values()), check.field_errors


def test_fomaml_fields_are_the_first_order_formulas(mlp):
    """FOMAML, g = grad L_q(u_K): d/dinit = g, d/dshared = partial L_q, d/dr = g (u_K - u0)/r, d/dT = g.(u_K - u0)/T."""
    meta, tasks = mlp
    steps = 10
    value, grads = meta_grad_fn(amaml.FOMAML(steps, 0.3), plain_loss)(meta, tasks)
    init, shared, rates, horizon = meta
    leaves = jax.tree_util.tree_leaves

    def per_task(task):
        u = euler_adapted(plain_loss, init, shared, rates, horizon, task.support_x, task.support_y, steps)
        g, g_shared = jax.grad(plain_loss, argnums=(0, 1))(u, shared, task.query_x, task.query_y)
        moved = jax.tree_util.tree_map(lambda uk, u0: uk - u0, u, init)
        # d/dr of u_K - u0 = -(T/K) r sum_k g_k at frozen g_k is (u_K - u0)/r; a scalar rate sums over its leaf
        g_rates = jax.tree_util.tree_map(
            lambda gi, m, r: jnp.sum(gi * m / r) if r.shape == () else gi * m / r, g, moved, rates
        )
        g_horizon = sum(jnp.vdot(gi, m) for gi, m in zip(leaves(g), leaves(moved))) / horizon
        return plain_loss(u, shared, task.query_x, task.query_y), amaml.MetaParams(g, g_shared, g_rates, g_horizon)

    values, expected = jax.jit(jax.vmap(per_task))(tasks)
    expected = jax.tree_util.tree_map(lambda a: jnp.mean(a, axis=0), expected)
    errors = field_errors(grads, expected)
    assert all(error < 1e-10 for error in errors.values()), errors
    assert abs(value - jnp.mean(values)) <= 1e-12 * abs(value)


@pytest.mark.parametrize("method", [amaml.Reptile(5, 0.1), amaml.IMAML(5, 0.1)], ids=lambda m: type(m).__name__)
def test_reptile_and_imaml_refuse_rates_and_horizon_but_take_shared(mlp, method):
    """Reptile/iMAML have no rate or horizon gradient (ValueError naming the field) but a finite shared one."""
    meta, tasks = mlp
    with pytest.raises(ValueError, match="rates"):
        amaml.meta_value_and_grad(method, plain_loss, meta._replace(horizon=None), tasks)
    with pytest.raises(ValueError, match="horizon"):
        amaml.meta_value_and_grad(method, plain_loss, meta._replace(rates=None), tasks)
    shared_only = meta._replace(rates=None, horizon=None)
    value, grads = jax.jit(lambda m, t: amaml.meta_value_and_grad(method, plain_loss, m, t))(shared_only, tasks)
    assert_same_structure(grads, shared_only)
    assert jnp.isfinite(value) and all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree_util.tree_leaves(grads))


def invalid_cases(meta):
    rates = meta.rates
    return {
        "negative rate": (meta._replace(rates={**rates, "b": scalar(-0.5)}), "rates"),
        "zero rate": (meta._replace(rates={**rates, "w": rates["w"].at[3, 0].set(0.0)}), "rates"),
        "rates missing a leaf": (meta._replace(rates={"w": rates["w"]}), "rates"),
        "rate leaf of a third shape": (meta._replace(rates={**rates, "w": jnp.ones((8,), jnp.float64)}), "rates"),
        "float32 rates": (meta._replace(rates={**rates, "b": jnp.asarray(0.8, jnp.float32)}), "rates"),
        "horizon of shape (2,)": (meta._replace(horizon=jnp.asarray([1.0, 2.0], jnp.float64)), "horizon"),
        "negative horizon": (meta._replace(horizon=scalar(-1.0)), "horizon"),
        "float32 shared": (
            meta._replace(shared=jax.tree_util.tree_map(lambda a: a.astype(jnp.float32), meta.shared)),
            "shared",
        ),
    }


INVALID = (
    "negative rate",
    "zero rate",
    "rates missing a leaf",
    "rate leaf of a third shape",
    "float32 rates",
    "horizon of shape (2,)",
    "negative horizon",
    "float32 shared",
)


@pytest.mark.parametrize("case", INVALID)
def test_invalid_meta_params_are_refused_before_any_work_naming_the_argument(mlp, case):
    """Each bad field raises TypeError/ValueError naming it, before the loss is ever called."""
    meta, tasks = mlp
    bad, name = invalid_cases(meta)[case]
    calls = []

    def loss(u, s, x, y):
        calls.append(1)
        return plain_loss(u, s, x, y)

    for run in (
        lambda: amaml.meta_value_and_grad(amaml.DiscreteAdjoint(5, 0.1), loss, bad, tasks),
        lambda: amaml.adapt(amaml.AdjointMAML(5, 0.1), loss, bad, tasks.support_x[0], tasks.support_y[0]),
    ):
        with pytest.raises((TypeError, ValueError)) as caught:
            run()
        assert name in str(caught.value), str(caught.value)
    assert not calls
