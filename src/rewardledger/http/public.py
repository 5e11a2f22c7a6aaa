"""The base of answer schemas that are a service's view, field for field.

Owns: reading such an answer from its view. A schema deriving from ``ViewPublic`` names the
fields it answers; ``of`` reads each from the view's attribute of the same name (pydantic's
``from_attributes``, nested answers included), so the list of fields is written once. An
answer that converts a field (an amount to its decimal text, a value to another name) keeps
its own ``of`` and says so there.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict


class ViewPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, view: object) -> Self:
        return cls.model_validate(view)
