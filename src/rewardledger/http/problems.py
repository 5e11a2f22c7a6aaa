"""Problems: how every error leaves the HTTP API, as ``application/problem+json`` (RFC 9457).

Owns: the one table that maps each stable error code to an HTTP status, the problem body
``{type, title, status, detail, code, ...context}``, and the exception handlers that turn
``LedgerError``, FastAPI's request validation errors, malformed JSON and Starlette's routing
errors into problems. Nothing below ``http/`` knows about HTTP; this module is where codes meet
statuses, and a test checks that every code the domain can raise has a row here.

Three errors exist only at this edge (a request body that is too large, a method a path does
not take, and a bug) and are defined here, under the same ``LedgerError`` root, so that they
render through the same path as every other error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from rewardledger import metrics
from rewardledger.domain.errors import LedgerError, NotFound, Rejection, ValidationError
from rewardledger.domain.limits import VALIDATION_ERRORS_LISTED_MAX
from rewardledger.http.examples.problems import PROBLEM_DETAILS
from rewardledger.http.schemas import ProblemPublic

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
# A URN rather than a URL: a problem type names a stable code; the API serves no page for it.
PROBLEM_TYPE_PREFIX = "urn:rewardledger:problem:"
# How many field errors the one-line ``detail`` names before "and N more".
VALIDATION_ERRORS_IN_DETAIL_MAX = 3
RETRY_AFTER_SECONDS = 1
# A lost database is usually back in seconds (a restart, a failover); retrying sooner only
# adds load to a server that is starting.
DATABASE_RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True, slots=True)
class ProblemKind:
    status: int
    title: str


# The one table: error code -> HTTP status and a short, fixed title.
PROBLEMS: dict[str, ProblemKind] = {
    "validation_error": ProblemKind(422, "The request is not valid"),
    "not_found": ProblemKind(404, "Not found"),
    "unauthorized": ProblemKind(401, "Not authenticated"),
    "forbidden": ProblemKind(403, "Not allowed"),
    "idempotency_conflict": ProblemKind(409, "Id already used for a different request"),
    "already_exists": ProblemKind(409, "Already exists with other values"),
    "not_pending": ProblemKind(409, "Not a pending transfer"),
    "insufficient_funds": ProblemKind(422, "Insufficient funds"),
    "currency_mismatch": ProblemKind(422, "Currency mismatch"),
    "exceeds_pending_amount": ProblemKind(422, "Amount exceeds the pending amount"),
    "balance_overflow": ProblemKind(422, "Balance would overflow"),
    "batch_failed": ProblemKind(422, "Batch not applied"),
    "managed_account": ProblemKind(409, "Account managed by a service"),
    "rejected": ProblemKind(422, "Transfer refused"),
    "too_many_failed_authentications": ProblemKind(429, "Too many failed authentications"),
    "busy": ProblemKind(503, "Busy, retry the request"),
    "database_unavailable": ProblemKind(503, "Database unavailable"),
    "unsafe_interpreter": ProblemKind(500, "Server misconfigured"),
    "payload_too_large": ProblemKind(413, "Request body too large"),
    "method_not_allowed": ProblemKind(405, "Method not allowed"),
    "internal_error": ProblemKind(500, "Internal error"),
    # Cycles ----
    "program_not_configured": ProblemKind(409, "Programme not set up"),
    "cycle_not_closed": ProblemKind(409, "Cycle not closed yet"),
    # Budgets ----
    "hard_cap_exceeded": ProblemKind(422, "Budget hard cap exceeded"),
    "member_cap_exceeded": ProblemKind(422, "Per-member cap exceeded"),
    "already_charged": ProblemKind(409, "Reservation already charged"),
    # Points
    "insufficient_points": ProblemKind(422, "Not enough points"),
    "already_redeemed": ProblemKind(409, "Redemption code already used"),
    "invalid_redemption_state": ProblemKind(409, "Redemption not in a state that allows this"),
    "points_not_pending": ProblemKind(409, "Points are not pending"),
}


class PayloadTooLarge(LedgerError):
    """The request body is above the limit; it was not read further, let alone parsed."""

    code = "payload_too_large"

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(
            f"The request body is larger than {limit_bytes} bytes, the most this API reads. "
            "Split it into several requests (a batch holds at most 8,000 transfers).",
            limit_bytes=limit_bytes,
        )


class MethodNotAllowed(LedgerError):
    code = "method_not_allowed"


class InternalError(LedgerError):
    """A bug: an exception nobody meant to raise. Its traceback is logged under ``incident``."""

    code = "internal_error"

    def __init__(self, incident: str) -> None:
        super().__init__(
            "An unexpected error occurred and the request was not completed; it has been "
            f"logged as incident {incident}. Retrying with the same id is safe; if it keeps "
            "failing, report the incident id.",
            incident=incident,
        )


def status_for(code: str) -> int:
    kind = PROBLEMS.get(code)
    return kind.status if kind is not None else 500


def problem_body(error: LedgerError, instance: str | None = None) -> dict[str, Any]:
    """The problem document of ``error``: the RFC 9457 members, its code, then its context."""
    kind = PROBLEMS.get(error.code)
    if kind is None:
        # Unreachable while tests/http/test_errors.py passes; kept so that a new code is a 500
        # that names the missing row rather than a crash inside the error handler.
        logger.error(
            "No HTTP status for error code %r; add it to http.problems.PROBLEMS", error.code
        )
        kind = ProblemKind(500, "Unclassified error")
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + error.code,
        "title": kind.title,
        "status": kind.status,
        "detail": error.message,
        "code": error.code,
    }
    if instance is not None:
        body["instance"] = instance
    for key, value in jsonable_encoder(error.context).items():
        body.setdefault(key, value)
    return body


def problem_response(
    error: LedgerError,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = problem_body(error, instance)
    metrics.REFUSALS.labels(error.code).inc()
    merged = dict(headers or {})
    if error.code == "unauthorized":
        merged["WWW-Authenticate"] = "Bearer"
    elif error.code == "busy":
        merged["Retry-After"] = str(RETRY_AFTER_SECONDS)
    elif error.code == "database_unavailable":
        merged["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    elif error.code == "too_many_failed_authentications":
        merged["Retry-After"] = str(error.context["retry_after_seconds"])
    if isinstance(error, Rejection) and error.context.get("replayed") is True:
        merged["Idempotent-Replayed"] = "true"
    return JSONResponse(
        body, status_code=body["status"], headers=merged, media_type=PROBLEM_MEDIA_TYPE
    )


# ---------------------------------------------------------------------------------------------
# Request validation errors (pydantic, via FastAPI) rendered as one readable validation_error.

_BODY_NOT_JSON = (
    "The request body is not valid JSON{why}; send one JSON object with "
    "'Content-Type: application/json'."
)
_JSON_TYPE_NAMES: dict[type, str] = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "true or false",
    int: "a number",
    float: "a number",
    type(None): "null",
}


def _json_type(value: object) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def field_path(location: Sequence[int | str]) -> str:
    """``("body", "transfers", 3, "amount")`` -> ``"transfers[3].amount"``; the body is "body"."""
    parts = list(location)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where = parts.pop(0)
        if not parts or (where == "body" and all(isinstance(p, int) for p in parts)):
            return "body" if where == "body" else str(where)
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _body_message(kind: str, given: object, error: Mapping[str, Any]) -> str | None:
    """The message for an error about the body as a whole, if it is one."""
    if kind == "json_invalid":
        reason = str(error.get("ctx", {}).get("error", ""))
        return _BODY_NOT_JSON.format(why=f" ({reason})" if reason else "")
    if kind == "missing":
        return "The request has no body; send a JSON object with 'Content-Type: application/json'."
    if kind not in ("model_attributes_type", "dict_type", "model_type"):
        return None
    if isinstance(given, bytes | bytearray):
        return (
            "The body was not read as JSON because the request has no "
            "'Content-Type: application/json' header; send it with that header."
        )
    return f"The body must be a JSON object, not {_json_type(given)}."


def _message(error: Mapping[str, Any], field: str) -> str:
    kind = str(error.get("type", ""))
    given = error.get("input")
    if field == "body" and (message := _body_message(kind, given, error)) is not None:
        return message
    text = str(error.get("msg", "")).removeprefix("Value error, ") or "is not valid"
    text = text[0].lower() + text[1:]
    if kind == "extra_forbidden":
        return f"{field} is not a field of this request; remove it (see /docs for the fields)."
    if kind == "missing":
        return f"{field} is required."
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        return f"{field} is not valid: it must match {pattern}."
    if kind.endswith("_type") and kind not in ("model_attributes_type", "union_type"):
        return f"{field}: {text}, not {_json_type(given)}."
    return f"{field}: {text}" if text.endswith(".") else f"{field}: {text}."


def validation_error_from(errors: Sequence[Mapping[str, Any]]) -> ValidationError:
    """One ``ValidationError`` listing each invalid field as ``{field, message}``."""
    listed: list[Mapping[str, Any]] = [
        {"field": (field := field_path(e.get("loc", ()))), "message": _message(e, field)}
        for e in errors[:VALIDATION_ERRORS_LISTED_MAX]
    ]
    if not listed:
        return ValidationError("The request is not valid; see /docs for its shape.")
    shown = " ".join(item["message"] for item in listed[:VALIDATION_ERRORS_IN_DETAIL_MAX])
    hidden = len(errors) - min(len(listed), VALIDATION_ERRORS_IN_DETAIL_MAX)
    where = (
        "listed in errors."
        if len(errors) <= VALIDATION_ERRORS_LISTED_MAX
        else f"errors lists the first {VALIDATION_ERRORS_LISTED_MAX}."
    )
    detail = shown if hidden == 0 else f"{shown} And {hidden} more problems: {where}"
    return ValidationError(detail, errors=listed)


# ---------------------------------------------------------------------------------------------
# Handlers.

BODY_UNREADABLE = (
    "The request body could not be read: it is not UTF-8 JSON, or it holds a number too long "
    'to read. Send one JSON object with amounts as decimal strings, such as "12.50".'
)


async def _on_ledger_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LedgerError)
    return problem_response(exc, request.url.path)


async def _on_request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(validation_error_from(exc.errors()), request.url.path)


def _allowed_methods(request: Request) -> str:
    """Every method the app's routes take at this path, from its OpenAPI document.

    Starlette's router answers 405 with the methods of the first route whose path matched
    only; a path served by two routes (GET and POST /budgets) would list one of them.
    """
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern, _, _ = compile_path(template)
        if pattern.match(request.url.path):
            methods |= {name.upper() for name in operations if name.upper() in _METHOD_ORDER}
    return ", ".join(sorted(methods, key=_METHOD_ORDER.index))


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors: no route, a method the path does not take, an unreadable body."""
    assert isinstance(exc, StarletteHTTPException)
    path = request.url.path
    headers = dict(exc.headers or {})
    error: LedgerError
    if exc.status_code == 404:
        error = NotFound(
            "route", f"{request.method} {path}", "The API's paths are listed at /docs."
        )
    elif exc.status_code == 405:
        allowed = _allowed_methods(request) or headers.get("Allow", "")
        headers["Allow"] = allowed
        error = MethodNotAllowed(
            f"{path} does not take {request.method}; it takes {allowed}.", allowed=allowed
        )
    elif exc.status_code == 400:
        # FastAPI raises a bare 400 when the body cannot be decoded at all.
        error = ValidationError(
            BODY_UNREADABLE, errors=[{"field": "body", "message": BODY_UNREADABLE}]
        )
    else:
        # The framework raises no other status for this app's routes; should one appear, it
        # keeps its status and says so under the generic code http_error.
        body = {
            "type": "about:blank",
            "title": str(exc.detail),
            "status": exc.status_code,
            "detail": str(exc.detail),
            "code": "http_error",
        }
        metrics.REFUSALS.labels("http_error").inc()
        return JSONResponse(
            body, status_code=exc.status_code, headers=headers, media_type=PROBLEM_MEDIA_TYPE
        )
    return problem_response(error, path, headers)


def install(app: FastAPI) -> None:
    """Register the handlers that render every error of ``app`` as a problem."""
    app.add_exception_handler(LedgerError, _on_ledger_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)


def documented(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problems a route can answer with, by their codes."""
    schema = ProblemPublic.model_json_schema()
    responses: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        kind = PROBLEMS[code]
        entry = responses.setdefault(
            kind.status,
            {
                "description": "",
                "content": {PROBLEM_MEDIA_TYPE: {"schema": schema, "examples": {}}},
            },
        )
        entry["content"][PROBLEM_MEDIA_TYPE]["examples"][code] = {
            "summary": kind.title,
            "value": _example(code, kind),
        }
        described = f"{code}: {kind.title}"
        entry["description"] = (
            f"{entry['description']}; {described}" if entry["description"] else described
        )
    return responses


# What any route under /tenants/{tid} can answer, before what its own work can: a request
# the schema or the domain refuses, no key or a key of another role or tenant, no such thing.
TENANT_ROUTE_CODES = ("validation_error", "unauthorized", "forbidden", "not_found")


def tenant_route_problems(*codes: str) -> dict[int | str, dict[str, Any]]:
    """``documented`` for a tenant route: ``TENANT_ROUTE_CODES``, then the route's own."""
    return documented(*TENANT_ROUTE_CODES, *codes)


def _example(code: str, kind: ProblemKind) -> dict[str, Any]:
    """A problem of ``code`` as the API answers it (``examples.problems`` for its detail)."""
    given = PROBLEM_DETAILS.get(code, {"detail": f"{kind.title}."})
    head = {"type": PROBLEM_TYPE_PREFIX + code, "title": kind.title, "status": kind.status}
    return {**head, "detail": given["detail"], "code": code, **given}
