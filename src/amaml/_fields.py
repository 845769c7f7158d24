"""Documented dataclass fields: each option of a method, task source or model says what it means.

The run configuration (:mod:`amaml.train`) is built from these fields: a section's keys are
the fields of the class chosen for it, their types are the declared annotations, and
``amaml config show`` prints each key's one-line meaning from here. So the meaning of an
option is written once, beside the option.
"""

from __future__ import annotations

import dataclasses
from typing import Any

_DOC = "amaml.doc"


def option(default: Any = dataclasses.MISSING, *, doc: str, kw_only: bool = True, **kwargs: Any) -> Any:
    """A ``dataclasses.field`` carrying a one-line meaning, keyword-only unless asked otherwise.

    Args:
        default: the default value (omit for a required option).
        doc: what the option means, in one line (units, range, what ``None`` means).
        kw_only: whether the option is keyword-only in ``__init__`` (the default: only a
            documented positional few, such as ``steps`` and ``step_size``, are positional).
        **kwargs: passed on to ``dataclasses.field``.

    Returns:
        The field, for use as a dataclass attribute's default.

    Raises:
        ValueError: if ``doc`` is empty.

    Example:
        >>> import dataclasses
        >>> @dataclasses.dataclass(frozen=True)
        ... class Example:
        ...     steps: int = option(doc="number of inner steps K", kw_only=False)
        >>> doc_of(dataclasses.fields(Example)[0])
        'number of inner steps K'
    """
    if not doc:
        raise ValueError("`doc` must say what the option means.")
    metadata = {**kwargs.pop("metadata", {}), _DOC: doc}
    return dataclasses.field(default=default, kw_only=kw_only, metadata=metadata, **kwargs)


def doc_of(field: dataclasses.Field) -> str:
    """The one-line meaning of a field declared with :func:`option` (``""`` for others)."""
    return field.metadata.get(_DOC, "")
