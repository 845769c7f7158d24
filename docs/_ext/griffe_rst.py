"""A griffe extension: the docstrings' reStructuredText roles as the Markdown the site renders.

amaml's docstrings are read in a terminal (``help()``) as much as on the site, so they keep
Sphinx's ``:math:`...``` and ``.. math::`` for maths and ``:class:`...``` for names. This
rewrites them when mkdocstrings loads the package (maths for arithmatex and KaTeX, names as
code), so the source stays as it is and the site shows rendered maths.
"""

from __future__ import annotations

import re

import griffe

INLINE_MATH = re.compile(r":math:`([^`]+)`")
NAME_ROLE = re.compile(r":(?:class|func|meth|data|mod|attr|exc|obj):`~?([^`]+)`")
# griffe reads a Google "Examples:" section as code (doctest blocks); "Example:" would be an admonition
EXAMPLE_HEADING = re.compile(r"^(?P<indent>[ \t]*)Example:[ \t]*$", re.M)
MATH_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*\n(?P<body>(?:(?P=indent)[ \t]+\S.*\n|[ \t]*\n)+)", re.M)


def markdown(text: str) -> str:
    """``text`` with its reST maths and name roles in Markdown, and ``Example:`` read as ``Examples:``."""

    def block(match: re.Match) -> str:
        indent, lines = match["indent"], [line.strip() for line in match["body"].strip("\n").splitlines()]
        return f"{indent}$$\n" + "".join(f"{indent}{line}\n" for line in lines if line) + f"{indent}$$\n\n"

    text = EXAMPLE_HEADING.sub(lambda m: f"{m['indent']}Examples:", text)
    text = MATH_BLOCK.sub(block, text)
    text = INLINE_MATH.sub(lambda m: f"${m[1]}$", text)
    return NAME_ROLE.sub(lambda m: f"`{m[1]}`", text)


class RstRoles(griffe.Extension):
    """Rewrite every loaded object's docstring with :func:`markdown`."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
