"""Every operation of /openapi.json shows an example of what it takes and of what it answers,
and every example is one the API would take or give.

Each request body and each 2xx answer is a schema with ``examples`` (so /docs and /redoc show
real values, not ``"string"``), and so is every object schema nested in them. An example must
be valid twice: for the pydantic model the route parses or answers with (parsed from its JSON,
as the API parses a request), and for the JSON schema the document gives clients (checked here
by a small validator of the keywords the document uses, so that a schema that drifts from its
model is caught too). An answer's example must also be exactly what the model sends: parsing it
and serializing it again gives it back, so no field is missing and no value is shaped otherwise.
Problem answers show one example per error code they list, each a valid problem of its status.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from rewardledger.http.schemas import ProblemPublic
from tests.http.support import TestClient

Schema = dict[str, Any]
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
# A model read and answered with two shapes has two schemas: "<name>-Input" and "-Output".
MODE_SUFFIX = re.compile(r"-(Input|Output)$")
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def _models() -> dict[str, type[BaseModel]]:
    """Our pydantic models by the names FastAPI gives their schemas: the class name, or, when
    two modules have a class of that name, the module path and name joined by ``__``."""
    found: list[type[BaseModel]] = []
    stack: list[type[BaseModel]] = [BaseModel]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("rewardledger."):
                found.append(sub)
    names = [model.__name__ for model in found]
    by_name = {m.__name__: m for m in found if names.count(m.__name__) == 1}
    by_path = {f"{m.__module__}.{m.__qualname__}".replace(".", "__"): m for m in found}
    return by_name | by_path


def _ref_name(schema: Schema) -> str | None:
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
    return None if ref is None else str(ref).rsplit("/", 1)[-1]


def _used(document: dict[str, Any]) -> Iterator[tuple[str, str, str, Schema]]:
    """(operation, where, schema name or '', schema) of every JSON body and 2xx JSON answer."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            body = operation.get("requestBody", {}).get("content", {}).get(JSON)
            if body is not None:
                schema = body["schema"]
                options = schema.get("anyOf", [schema])  # an optional body: X or null
                refs = [s for s in options if _ref_name(s)]
                yield name, "body", _ref_name(refs[0]) if refs else "", schema
            for status, response in operation["responses"].items():
                answer = response.get("content", {}).get(JSON)
                if status.startswith("2") and answer is not None:
                    schema = answer["schema"]
                    yield name, status, _ref_name(schema) or "", schema


def _answered(document: dict[str, Any]) -> set[str]:
    """The schemas some operation answers with (directly, not nested)."""
    return {name for _, where, name, _ in _used(document) if where != "body" and name}


def _objects(document: dict[str, Any]) -> dict[str, Schema]:
    schemas: dict[str, Schema] = document["components"]["schemas"]
    return {name: schema for name, schema in schemas.items() if schema.get("type") == "object"}


def test_every_body_and_answer_of_every_operation_has_an_example(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    used = list(_used(document))
    assert len(used) > 100  # every operation with a JSON body or answer was walked
    unmodelled = [(operation, where, schema) for operation, where, name, schema in used if not name]
    assert unmodelled == []  # a body or answer without a model has no example to show
    missing = [
        f"{operation} {where}: {name} has no example"
        for operation, where, name, _ in used
        if not schemas[name].get("examples")
    ]
    assert not missing, "\n".join(missing)


def test_every_object_schema_has_an_example(document: dict[str, Any]) -> None:
    """Nested schemas too: /docs shows each on its own, and a list's item is one."""
    missing = [name for name, schema in _objects(document).items() if not schema.get("examples")]
    assert missing == []


def test_every_example_is_valid_for_its_model_and_its_json_schema(
    document: dict[str, Any],
) -> None:
    models = _models()
    schemas = document["components"]["schemas"]
    checked = 0
    broken: list[str] = []
    for name, schema in _objects(document).items():
        model = models[MODE_SUFFIX.sub("", name)]
        for example in schema.get("examples", []):
            try:
                model.model_validate_json(json.dumps(example))
            except ValidationError as error:
                broken += [f"{name} (model): {e['loc']}: {e['msg']}" for e in error.errors()]
            broken += [
                f"{name} (JSON schema): {found}"
                for found in _violations(example, schema, schemas, name)
            ]
            checked += 1
    assert not broken, "\n".join(broken)
    assert checked >= len(_objects(document))


def test_every_answer_example_is_exactly_what_its_model_sends(document: dict[str, Any]) -> None:
    models = _models()
    schemas = document["components"]["schemas"]
    differ = []
    for name in sorted(_answered(document)):
        model = models[MODE_SUFFIX.sub("", name)]
        for example in schemas[name].get("examples", []):
            sent = model.model_validate_json(json.dumps(example)).model_dump(mode="json")
            differ += [
                (name, key)
                for key in sorted(sent.keys() | example.keys())
                if sent.get(key, "absent") != example.get(key, "absent")
            ]
    assert differ == []


def test_every_problem_answer_shows_an_example_of_each_of_its_codes(
    document: dict[str, Any],
) -> None:
    seen = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get(PROBLEM_JSON)
                if content is None:
                    continue
                codes = re.findall(r"(?:^|; )([a-z_]+):", response["description"])
                examples = content.get("examples", {})
                assert sorted(examples) == sorted(codes), (method, path, status)
                for code, example in examples.items():
                    problem = ProblemPublic.model_validate(example["value"])
                    assert (problem.code, problem.status) == (code, int(status)), (path, code)
                    assert problem.type.endswith(code)
                    seen += 1
    assert seen > 0


# A validator of the JSON Schema keywords the document uses ------------------------------------


def _violations(value: Any, schema: Schema, schemas: dict[str, Schema], at: str) -> list[str]:
    """Where ``value`` breaks ``schema`` (its ``$ref``s resolved in ``schemas``); [] if nowhere."""
    if "$ref" in schema:
        return _violations(value, schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas, at)
    if "anyOf" in schema:
        branches = [_violations(value, s, schemas, at) for s in schema["anyOf"]]
        return [] if any(not found for found in branches) else [f"{at}: no anyOf branch fits"]
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else types
        allowed = tuple(t for name in names for t in JSON_TYPES[name])
        if not isinstance(value, allowed) or (isinstance(value, bool) and "boolean" not in names):
            return [f"{at}: {value!r} is not {types}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{at}: {value!r} is not one of {schema['enum']}"]
    if "const" in schema and value != schema["const"]:
        return [f"{at}: {value!r} is not {schema['const']!r}"]
    found = _bound_violations(value, schema, at)
    if isinstance(value, list):
        for index, item in enumerate(value):
            found += _violations(item, schema.get("items", {}), schemas, f"{at}[{index}]")
    if isinstance(value, dict):
        found += _object_violations(value, schema, schemas, at)
    return found


def _bound_violations(value: Any, schema: Schema, at: str) -> list[str]:
    found: list[str] = []
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{at}: {value!r} does not match {schema['pattern']}")
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
            found.append(f"{at}: {value!r} has a length out of bounds")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and not schema.get("minimum", value) <= value <= schema.get("maximum", value):
        found.append(f"{at}: {value!r} is out of bounds")
    if isinstance(value, list):
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            found.append(f"{at}: {len(value)} items is out of bounds")
        if schema.get("uniqueItems") and len({json.dumps(v) for v in value}) < len(value):
            found.append(f"{at}: items repeat")
    return found


def _object_violations(
    value: dict[str, Any], schema: Schema, schemas: dict[str, Schema], at: str
) -> list[str]:
    properties: dict[str, Schema] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    found = [f"{at}: {key} is missing" for key in schema.get("required", []) if key not in value]
    for key, item in value.items():
        if key in properties:
            found += _violations(item, properties[key], schemas, f"{at}.{key}")
        elif extra is False:
            found.append(f"{at}: {key} is not a property")
        elif isinstance(extra, dict):
            found += _violations(item, extra, schemas, f"{at}.{key}")
    return found
