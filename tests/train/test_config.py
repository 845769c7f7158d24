"""The run configuration: typed keys, keys that do not apply, round trips, one registry per kind."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import amaml
from amaml import train
from amaml.train import RunConfig
from amaml.train._config import SECTIONS


def test_overrides_are_parsed_by_the_declared_type():
    config = RunConfig().with_overrides(
        [
            "method.steps=200",
            "model.hidden=64,64",
            "method.forward=euler",
            "method.checkpoints=7",
            "tasks.family=alpine",
            "tasks.dim=3",
            "optimizer.name=adam",
            "optimizer.learning_rate=1e-4",
            "meta.on_divergence=skip",
            "meta.max_meta_loss=none",
            "run.dtype=float32",
        ]
    )
    assert config.method == amaml.AdjointMAML(200, 0.01, forward=amaml.Euler(), checkpoints=7)
    assert config.model.hidden == (64, 64) and config.tasks.family == amaml.tasks.Alpine(dim=3)
    assert config.optimizer == train.Adam(1e-4) and config.meta.max_meta_loss is None
    assert config.run.dtype == "float32" and config.meta.skip_diverged
    assert RunConfig().with_overrides(["method.checkpoints=none"]).method.checkpoints is None
    assert RunConfig().with_overrides(["model.hidden="]).model.hidden == ()


@pytest.mark.parametrize(
    "item, words",
    [
        ("method.steps=2.5", ["`method.steps`", "an integer", "2.5"]),
        ("model.hidden=64,x", ["`model.hidden`", "comma-separated ints", "64,x"]),
        ("method.checkpoints=some", ["`method.checkpoints`", "'auto'", "some"]),
        ("meta.on_divergence=ignore", ["`meta.on_divergence`", "'raise' or 'skip'", "ignore"]),
        ("method.forward=rk5", ["`method.forward`", "unknown solver 'rk5'", "euler, heun, rk4"]),
    ],
)
def test_a_value_of_the_wrong_type_names_key_type_and_value(item, words):
    with pytest.raises(ValueError) as caught:
        RunConfig().with_overrides([item])
    assert all(w in str(caught.value) for w in words), caught.value


@pytest.mark.parametrize(
    "items, key, valid",
    [
        (["method.name=fomaml", "method.prox=3"], "method.prox", "name, steps, step_size"),
        (["method.name=maml", "method.backward=euler"], "method.backward", "steps"),
        (["tasks.family=sinusoid", "tasks.dim=1"], "tasks.dim", "n_train"),
        (["tasks.cg_steps=3"], "tasks.cg_steps", "family"),
    ],
)
def test_a_key_that_does_not_apply_is_named_with_the_keys_that_do(items, key, valid):
    with pytest.raises(ValueError, match=f"`{key}` does not apply") as caught:
        RunConfig().with_overrides(items)
    assert valid in str(caught.value)


def test_another_class_keeps_the_keys_set_on_purpose_and_takes_its_own_defaults():
    base = RunConfig().with_overrides(["method.steps=40", "method.prox=0.5"])
    assert base.with_overrides(["method.name=discrete-adjoint"]).method == amaml.DiscreteAdjoint(40, 0.01, prox=0.5)
    imaml = RunConfig().with_overrides(["method.name=imaml"]).method  # A-MAML's default prox 0 is not carried
    assert imaml == amaml.IMAML(100, 0.01) and imaml.prox == 1.0
    sinusoid = RunConfig().with_overrides(["tasks.family=sinusoid"])  # no `dim` to set for it
    assert sinusoid.tasks.input_dim == 1 and "dim" not in sinusoid.to_dict()["tasks"]


CONFIGS = [
    RunConfig(),
    RunConfig().with_overrides(["method.name=imaml", "method.cg_steps=3", "tasks.family=sinusoid"]),
    RunConfig().with_overrides(["tasks.source=ratings", "tasks.features=svd", "tasks.dim=20", "method.name=reptile"]),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_json_and_the_described_form_read_back_to_the_same_configuration(config):
    assert RunConfig.from_dict(json.loads(config.to_json())) == config
    described = config.describe()
    assert RunConfig.from_dict(json.loads(json.dumps(described))) == config
    for section in described.values():
        for key, entry in section.items():
            assert entry["doc"] and entry["type"] and "default" in entry, key
    assert config.differences(config) == []


def test_every_registry_holds_each_class_once_and_names_resolve_back():
    for registry in (
        train.METHODS,
        train.SOLVERS,
        train.TASK_SOURCES,
        train.FAMILIES,
        train.FEATURES,
        train.MODELS,
        train.OPTIMIZERS,
    ):
        assert len(set(registry.values())) == len(registry)
        for name, cls in registry.items():
            if name in train.METHODS:
                obj = cls(3, 0.1)
            else:
                obj = cls()
            assert registry.name_of(obj) == name
    assert set(train.METHODS.values()) == {
        amaml.AdjointMAML,
        amaml.DiscreteAdjoint,
        amaml.MAML,
        amaml.FOMAML,
        amaml.IMAML,
        amaml.Reptile,
    }
    assert [s.name for s in SECTIONS] == ["tasks", "model", "method", "optimizer", "meta", "run"]


FAST = settings(max_examples=25, deadline=None)


@FAST
@given(section=st.sampled_from([s.name for s in SECTIONS]), key=st.text("abcdefghij_", min_size=1, max_size=10))
def test_unknown_keys_are_refused_naming_them(section, key):
    valid = set(RunConfig().to_dict()[section])
    if key in valid:
        return
    with pytest.raises(ValueError, match=f"`{section}.{key}` does not apply"):
        RunConfig.from_dict({section: {key: 1}})


@FAST
@given(name=st.text(min_size=1, max_size=12))
def test_unknown_names_list_the_valid_ones(name):
    if name in train.METHODS:
        return
    with pytest.raises(ValueError) as caught:
        RunConfig().with_overrides([f"method.name={name}"])
    assert all(valid in str(caught.value) for valid in train.METHODS)


@pytest.mark.parametrize(
    "item",
    [
        "method.steps=0",
        "method.step_size=-1",
        "optimizer.learning_rate=0",
        "meta.steps=0",
        "meta.batch=-1",
        "tasks.shots=0",
        "run.seed=-3",
        "run.checkpoint_every=0",
    ],
)
def test_non_positive_values_are_refused_naming_them(item):
    name = item.split(".")[1].split("=")[0]
    with pytest.raises((ValueError, TypeError), match=f"`{name}`"):
        RunConfig().with_overrides([item])
