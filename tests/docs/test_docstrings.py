"""Every public name's docstring follows one template, and every example in it runs (doctest).

The template (Google style, as the API reference renders it): a summary line; ``Args:`` when the
callable takes arguments; ``Returns:`` for a function that returns something; ``Raises:`` when
the function's own code raises; ``Example:`` with at least one ``>>>`` line; ``References:`` for
the methods a paper defines. The examples run here as doctests, with the suite's settings
(float64 enabled), so they print nothing that depends on the dtype beyond what they state.

The public methods of the public classes (those defined in the class's own body; properties
aside) follow the same template without ``Example:``, each argument named under ``Args:``. An
override that implements its base's contract as the base states it carries no docstring of its
own (not a copy of the base's) and inherits the base's, which ``inspect.getdoc`` reads here; one
with something of its own to say has the whole template.
"""

import ast
import doctest
import importlib
import inspect
import re
import textwrap

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


def public_methods():
    """``(class, name)`` of every public method (function, static or class method) in a public class's own body."""
    for name, cls in OBJECTS.items():
        if inspect.isclass(cls):
            for method, member in vars(cls).items():
                if not method.startswith("_") and (
                    inspect.isfunction(member) or isinstance(member, (staticmethod, classmethod))
                ):
                    yield f"{name}.{method}", (cls, method)


METHODS = dict(public_methods())


def arguments(obj) -> list[str]:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    return [p for p in signature.parameters if p not in ("self", "cls")]


def returns_something(function) -> bool:
    """Whether ``function`` is declared to return something, or (unannotated) its own body returns a value."""
    annotation = inspect.signature(function).return_annotation
    if annotation is not inspect.Signature.empty:
        return annotation not in (None, "None")
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    pending = list(ast.iter_child_nodes(tree.body[0]))
    while pending:  # the function's own statements, not those of functions nested in it
        node = pending.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, ast.Return) and not (node.value is None or ast.unparse(node.value) == "None"):
            return True
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            pending.extend(ast.iter_child_nodes(node))
    return False


def gaps(doc: str, args: list[str], returns: bool, source: str | None, *, attributes=False, example=True, paper=False):
    """What ``doc`` lacks of the template, for a callable taking ``args`` (besides self/cls).

    ``returns``: whether it returns something; ``source``: its own code, for ``Raises:`` (``None``: not
    checked); ``attributes``: an ``Attributes:`` section may stand for ``Args:``; ``example``: an
    ``Example:`` with ``>>>`` is required; ``paper``: a ``References:`` section is.
    """
    missing = []
    if not doc or not doc.splitlines()[0].strip():
        missing.append("a summary line")
    if args and "Args:" not in doc and not (attributes and "Attributes:" in doc):
        missing.append("Args:")
    if returns and "Returns:" not in doc and "Yields:" not in doc:
        missing.append("Returns:")
    if source is not None and re.search(r"^\s+raise \w", source, re.M) and "Raises:" not in doc:
        missing.append("Raises:")
    if example and not re.search(r"^Examples?:\n(\s+.*\n)*?\s+>>> ", doc + "\n", re.M):
        missing.append("Example: with >>>")
    if paper and "References:" not in doc:
        missing.append("References:")
    return missing


def template_gaps(name: str, obj) -> list[str]:
    """What the docstring of ``obj`` (a public function or class) lacks of the template."""
    doc = inspect.getdoc(obj) or ""
    if issubclass(obj, BaseException) if inspect.isclass(obj) else False:
        return [] if doc else ["a docstring"]
    function = inspect.isfunction(obj)
    abstract = inspect.isclass(obj) and inspect.isabstract(obj)
    return gaps(
        doc,
        [] if abstract else arguments(obj),
        function and returns_something(obj),
        inspect.getsource(obj) if function else None,
        attributes=True,
        paper=name.rsplit(".", 1)[-1] in PAPERS,
    )


def method_gaps(cls, name: str) -> list[str]:
    """What the docstring of ``cls.name``, its own or the one it inherits, lacks of the template.

    No ``Example:`` is required; every argument must be named under ``Args:``; an override's own
    docstring must not be a copy of its base's (without one it inherits the base's).
    """
    method = getattr(cls, name)
    doc = inspect.getdoc(method) or ""
    args = arguments(method)
    missing = gaps(doc, args, returns_something(method), inspect.getsource(method), example=False)
    section = re.search(r"^Args:\n((?:[ \t]+.*\n|[ \t]*\n)*)", doc + "\n", re.M)
    unnamed = [a for a in args if section and not re.search(rf"^\s+(\w+, )*{a}\b[\w, ]*:", section[1], re.M)]
    missing += [f"an Args: entry for {', '.join(unnamed)}"] * bool(unnamed)
    own = inspect.cleandoc(method.__doc__ or "")
    bases = [base for base in cls.__mro__[1:] if name in vars(base)]
    if own and bases and own == inspect.cleandoc(getattr(bases[0], name).__doc__ or ""):
        missing.append(f"a docstring of its own (it copies {bases[0].__name__}.{name}'s; drop it to inherit)")
    return missing


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_the_docstring_follows_the_template(name):
    gaps = template_gaps(name, OBJECTS[name])
    assert not gaps, f"{name} lacks {', '.join(gaps)}"


@pytest.mark.parametrize("name", sorted(METHODS))
def test_the_methods_docstring_follows_the_template(name):
    gaps = method_gaps(*METHODS[name])
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
