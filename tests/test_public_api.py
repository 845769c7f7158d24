"""The public API is deliberate: every public name is documented, and importing amaml brings every subpackage."""

import dataclasses
import inspect

import pytest

import amaml

PACKAGES = ["data", "distributed", "experiments", "losses", "models", "tasks", "train"]


def public_names(module):
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    for name in names:
        obj = getattr(module, name)
        if not inspect.ismodule(obj) and (inspect.isclass(obj) or callable(obj)):
            yield name, obj


@pytest.mark.parametrize("package", PACKAGES)
def test_import_amaml_makes_every_public_subpackage_available(package):
    assert inspect.ismodule(getattr(amaml, package))


@pytest.mark.parametrize("module", [amaml, *(getattr(amaml, p) for p in PACKAGES)], ids=lambda m: m.__name__)
def test_every_public_name_has_a_docstring_of_its_own(module):
    undocumented = []
    for name, obj in public_names(module):
        doc = (obj.__doc__ or "").strip()
        generated = dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}(")
        if not doc or generated:
            undocumented.append(name)
    assert not undocumented, f"{module.__name__}: {undocumented}"


def test_the_command_line_is_a_thin_shell():
    from pathlib import Path

    cli = Path(amaml.__file__).parent / "cli"
    assert sum(len(p.read_text().splitlines()) for p in cli.glob("*.py")) < 600
    longest = max(Path(amaml.__file__).parent.rglob("*.py"), key=lambda p: len(p.read_text().splitlines()))
    assert len(longest.read_text().splitlines()) <= 300, longest
