"""Examples of HTTP API v1's JSON shapes: what /docs and /redoc show for every request body and
every answer, instead of ``"string"`` placeholders.

Owns: one example per schema, written as the JSON that crosses the wire (amounts as decimal
strings, times ISO 8601 with an offset), in the demo tenant's names and figures (``values``,
from ``services.demo`` and ``services.demo_programme``) and the seeds' words (``dtype``
``invoice``, ``cashback_ledger`` and ``debt_ledger`` rows, hard and soft caps).

``example`` attaches them to a model; ``install`` puts them back whole into the OpenAPI
document, whose generation drops every null (FastAPI encodes the document with
``exclude_none``), so that an example of a field that may be null still shows it
(``"resolved_at": null``) and stays valid for its model.
tests/http/test_openapi_examples.py checks that every operation's body and answer carries one
and that each example is valid for its model and its JSON schema.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import JsonValue
from pydantic.config import JsonDict

# The examples given, by the names the OpenAPI document may give their model's schema: its
# class name and its module path joined by "__" (FastAPI's name when two classes share one).
_GIVEN: dict[str, dict[type[Any], list[JsonValue]]] = {}
_MODE_SUFFIX = re.compile(r"-(Input|Output)$")


def example(*values: JsonDict) -> Callable[[JsonDict, type[Any]], None]:
    """A model's ``json_schema_extra`` that shows ``values`` as its schema's examples:
    ``class BudgetPublic(BaseModel, json_schema_extra=example(samples.BUDGET_PUBLIC))``."""
    shown: list[JsonValue] = list(values)

    def extra(schema: JsonDict, model: type[Any]) -> None:
        schema["examples"] = copy.deepcopy(shown)
        for name in (model.__name__, f"{model.__module__}.{model.__qualname__}".replace(".", "__")):
            _GIVEN.setdefault(name, {})[model] = shown

    return extra


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` show each schema's examples as given, nulls included."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            for name, schema in document.get("components", {}).get("schemas", {}).items():
                # A model read and answered with two shapes has two: "<name>-Input", "-Output".
                given = list(_GIVEN.get(_MODE_SUFFIX.sub("", name), {}).values())
                if "examples" in schema and len(given) == 1:  # one model of that name
                    schema["examples"] = copy.deepcopy(given[0])
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
