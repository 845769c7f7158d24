"""Every public name's docstring follows one template, and every example in it runs (doctest).

The template (Google style, as the API reference renders it): a summary line; ``Args:`` when the
callable takes arguments; ``Returns:`` for a function that returns something; ``Raises:`` when
the function's own code raises; ``Example:`` with at least one ``>>>`` line; ``References:`` for
the methods a paper defines. The examples run here as doctests, with the suite's settings
(float64 enabled), so they print nothing that depends on the dtype beyond what they state.
"""

import doctest
import importlib
import inspect
import re

import pytest

SUBPACKAGES = ("data", "distributed", "experiments", "losses", "models", "tasks", "train")
PACKAGES = ["amaml", *(f"amaml.{p}" for p in SUBPACKAGES)]
PAPERS = {"AdjointMAML", "DiscreteAdjoint", "MAML", "FOMAML", "IMAML", "Reptile", "FeatureLoss", "MetaParams"}


def public_objects():
    seen = set()
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]:
            obj = getattr(module, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and id(obj) not in seen:
                seen.add(id(obj))
                yield f"{package}.{name}", obj


OBJECTS = dict(public_objects())


def arguments(obj) -> list[str]:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    return [p for p in signature.parameters if p not in ("self", "cls")]


def template_gaps(name: str, obj) -> list[str]:
    """What the docstring of ``obj`` lacks of the template."""
    doc = inspect.getdoc(obj) or ""
    if issubclass(obj, BaseException) if inspect.isclass(obj) else False:
        return [] if doc else ["a docstring"]
    gaps = []
    if not doc or not doc.splitlines()[0].strip():
        gaps.append("a summary line")
    abstract = inspect.isclass(obj) and inspect.isabstract(obj)
    if arguments(obj) and not abstract and "Args:" not in doc and "Attributes:" not in doc:
        gaps.append("Args:")
    if inspect.isfunction(obj):
        returns = inspect.signature(obj).return_annotation
        if returns not in (None, "None") and "Returns:" not in doc and "Yields:" not in doc:
            gaps.append("Returns:")
        source = inspect.getsource(obj)
        if re.search(r"^\s+raise \w", source, re.M) and "Raises:" not in doc:
            gaps.append("Raises:")
    if not re.search(r"^Examples?:\n(\s+.*\n)*?\s+>>> ", doc + "\n", re.M):
        gaps.append("Example: with >>>")
    if name.rsplit(".", 1)[-1] in PAPERS and "References:" not in doc:
        gaps.append("References:")
    return gaps


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_the_docstring_follows_the_template(name):
    gaps = template_gaps(name, OBJECTS[name])
    assert not gaps, f"{name} lacks {', '.join(gaps)}"


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_the_docstring_examples_run(name):
    obj = OBJECTS[name]
    finder = doctest.DocTestFinder(recurse=False)
    module = inspect.getmodule(obj)
    globs = {**vars(module), "amaml": importlib.import_module("amaml")}
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(obj, name, module=module, globs=globs):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{name}: {results.failed} of {results.attempted} examples failed (output above)"
