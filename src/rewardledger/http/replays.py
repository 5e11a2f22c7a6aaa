"""The 200 of a replay, in the OpenAPI document of every idempotent write.

A write answers 201 when it writes and 200, with ``Idempotent-Replayed: true`` and the stored
result, when the same request comes again under the same idempotency key (or the same values
for a create). Each route says its 201; this says their 200 once, with the 201's content.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

REPLAY_DESCRIPTION = (
    "A replay: the same request was made before under this idempotency key; its stored result, "
    "with `Idempotent-Replayed: true`."
)
# Writes that are never replayed (none today: every write answers its replay as 200).
NOT_REPLAYED: frozenset[str] = frozenset()


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` document the replay of each write that answers 201."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            for path, operations in document.get("paths", {}).items():
                if path not in NOT_REPLAYED:
                    for operation in operations.values():
                        _add_replay(operation.get("responses", {}))
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _add_replay(responses: dict[str, Any]) -> None:
    created = responses.get("201")
    if created is not None and "200" not in responses:
        responses["200"] = {"description": REPLAY_DESCRIPTION, **_content(created)}


def _content(response: dict[str, Any]) -> dict[str, Any]:
    return {"content": response["content"]} if "content" in response else {}
