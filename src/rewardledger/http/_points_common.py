"""What the points schemas share: filling a public model from the service's view of the same
fields.

Owns: ``public_of``, the one place that says how a points view's values are spoken by the API
(amounts as decimal strings, enum members as their values), so that each public model names
its fields once (in its declaration) instead of again, field by field, in its ``of``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

from rewardledger.domain.money import Amount

M = TypeVar("M", bound=BaseModel)


def public_of(
    model: type[M], view: object, renamed: Mapping[str, str] | None = None, **given: Any
) -> M:
    """``model`` from ``view``: each field not ``given`` from the view's attribute of the same
    name, or of the name ``renamed`` maps the field to."""
    sources = renamed or {}
    values = {
        name: _spoken(getattr(view, sources.get(name, name)))
        for name in model.model_fields
        if name not in given
    }
    return model(**values, **given)


def _spoken(value: object) -> object:
    if isinstance(value, Amount):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value
