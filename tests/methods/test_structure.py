"""The abstract/final rule (as in equinox) for methods and solvers, and the method options."""

import dataclasses
import inspect
import warnings

import jax
import jax.numpy as jnp
import pytest

import amaml
from amaml._fields import doc_of
from oracles import batched, compiled_value_and_grad, relative_error, tanh_mlp_task

POSITIONAL = ("steps", "step_size")


def subclasses(cls):
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *subclasses(sub)}
    return sorted(found, key=lambda c: c.__qualname__)


def abstract_attributes(cls):
    """Annotations declared in the bases above ``cls`` that no base gives a value: ``cls`` must."""
    bases = cls.__mro__[1:]
    names = {name for base in bases for name in vars(base).get("__annotations__", {})}
    return {name for name in names if not any(name in vars(base) for base in bases)}


def is_final(cls):
    return getattr(cls, "__final__", False)


@pytest.mark.parametrize("root", [amaml.AbstractMetaMethod, amaml.AbstractSolver], ids=lambda c: c.__name__)
def test_every_class_is_abstract_or_final_and_only_final_classes_hold_fields(root):
    classes = [root, *subclasses(root)]
    finals = [c for c in classes if not c.__name__.startswith("Abstract")]
    assert {c.__name__ for c in finals} >= (
        {"MAML", "FOMAML", "Reptile", "IMAML", "AdjointMAML", "DiscreteAdjoint"}
        if root is amaml.AbstractMetaMethod
        else {"Euler", "Heun", "RK4"}
    )
    for cls in classes:
        if cls.__name__.startswith("Abstract"):
            assert inspect.isabstract(cls) or cls is root, cls
            assert not dataclasses.is_dataclass(cls), f"{cls.__name__} is a base and must not be a dataclass"
            assert "__init__" not in vars(cls) and "__post_init__" not in vars(cls), cls
            for name in abstract_attributes(cls) | set(vars(cls).get("__annotations__", {})):
                assert name not in vars(cls) or isinstance(vars(cls)[name], property), (cls, name)
            continue
        assert is_final(cls), f"{cls.__name__} is concrete and must be @typing.final"
        assert not cls.__subclasses__(), cls
        provided = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
        missing = {name for name in abstract_attributes(cls) if name not in provided and not hasattr(cls, name)}
        assert not missing, f"{cls.__name__} does not provide {missing}"
        # Nothing concrete of a base is overridden (abstract attributes and methods excepted).
        for base in cls.__mro__[1:]:
            if base is object or base.__module__ == "abc":
                continue
            for name, value in vars(base).items():
                if name.startswith("__") or name == "_abc_impl" or getattr(value, "__isabstractmethod__", False):
                    continue
                assert name not in vars(cls) or name in abstract_attributes(cls), (cls, base, name)


@pytest.mark.parametrize("cls", subclasses(amaml.AbstractMetaMethod), ids=lambda c: c.__name__)
def test_methods_are_frozen_dataclasses_whose_options_are_documented_and_keyword_only(cls):
    if not is_final(cls):
        return
    params = dataclasses.fields(cls)
    assert cls.__dataclass_params__.frozen
    assert [f.name for f in params[:2]] == list(POSITIONAL)
    for field in params:
        assert doc_of(field), f"{cls.__name__}.{field.name} has no doc"
        assert field.kw_only == (field.name not in POSITIONAL), (cls, field.name)
    if cls.__module__.startswith("amaml._methods"):  # the library's own loops; diffrax's comparison runs diffrax's
        assert "unroll" in {f.name for f in params}
    method = cls(3, 0.1)
    assert hash(method) == hash(cls(3, 0.1)) and method == cls(3, 0.1)
    with pytest.raises(TypeError):
        cls(3, 0.1, 1)  # a third positional argument means nothing
    signature = inspect.signature(cls)
    kinds = [p.kind for p in signature.parameters.values()]
    assert kinds[:2] == [inspect.Parameter.POSITIONAL_OR_KEYWORD] * 2
    assert all(kind == inspect.Parameter.KEYWORD_ONLY for kind in kinds[2:])


def test_the_exact_option_sets_in_order():
    names = lambda cls: [f.name for f in dataclasses.fields(cls)]
    for cls in (amaml.MAML, amaml.FOMAML, amaml.Reptile):
        assert names(cls) == ["steps", "step_size", "unroll"]
    assert names(amaml.IMAML) == ["steps", "step_size", "prox", "cg_steps", "unroll"]
    assert names(amaml.AdjointMAML) == [
        "steps",
        "step_size",
        "forward",
        "backward",
        "prox",
        "checkpoints",
        "memory_budget",
        "unroll",
    ]
    assert names(amaml.DiscreteAdjoint) == [
        "steps",
        "step_size",
        "forward",
        "prox",
        "checkpoints",
        "memory_budget",
        "unroll",
    ]
    assert amaml.AdjointMAML(5, 0.1).memory_budget is None  # a quarter of the device memory, at trace time


def test_solver_keyword_is_deprecated_and_means_forward():
    with pytest.warns(DeprecationWarning, match="forward"):
        old = amaml.DiscreteAdjoint(10, 0.1, solver=amaml.RK4())
    assert old == amaml.DiscreteAdjoint(10, 0.1, forward=amaml.RK4()) and old.inner_solver == amaml.RK4()
    assert "solver" not in {f.name for f in dataclasses.fields(old)}
    assert "solver" not in repr(old)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        amaml.DiscreteAdjoint(10, 0.1, forward=amaml.Heun())  # the new name does not warn
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="`solver`"):
        amaml.DiscreteAdjoint(10, 0.1, solver="rk4")
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="once"):
        amaml.DiscreteAdjoint(10, 0.1, forward=amaml.Heun(), solver=amaml.RK4())
    params = amaml.models.mlp_init(jax.random.key(0), [1, 4, 1], jnp.float64)
    tasks = batched(tanh_mlp_task(jax.random.key(1), n=8))
    loss = amaml.losses.mse(amaml.models.mlp_apply)
    g_old = compiled_value_and_grad(old, loss, params, tasks)[1]
    g_new = compiled_value_and_grad(amaml.DiscreteAdjoint(10, 0.1, forward=amaml.RK4()), loss, params, tasks)[1]
    assert relative_error(g_old, g_new) == 0.0
