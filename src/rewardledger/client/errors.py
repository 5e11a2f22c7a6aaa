"""The client's errors: a problem document (RFC 9457) raised as a typed exception.

Owns: turning an error answer into an exception. Every error answer of the API is a problem
with a stable ``code``; the exception raised for it is an ``ApiError`` carrying that ``code``,
the ``status``, the ``detail`` sentence and the whole ``problem``. Where the server has a
domain error class for the code (``domain.errors``), the exception is an instance of that class
too, so ``except InsufficientFunds`` works the same in process and over HTTP.
"""

from __future__ import annotations

from typing import Any

from rewardledger.domain import errors as domain


class ApiError(domain.LedgerError):
    """An error answer of the API (or one the client could not get past: see ``code``)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        detail = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        context = {k: v for k, v in problem.items() if k not in {"detail", "status", "code"}}
        # Not super(): the next class may be a domain error with an __init__ of its own.
        domain.LedgerError.__init__(self, detail, **context)
        self.status = status
        self.detail = detail
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.detail}"


def _domain_classes() -> dict[str, type[domain.LedgerError]]:
    """code -> the domain error class that has it (the most general one if several do)."""
    found: dict[str, type[domain.LedgerError]] = {}
    pending: list[type[domain.LedgerError]] = [domain.LedgerError]
    while pending:
        cls = pending.pop(0)
        found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    found.pop(domain.LedgerError.code, None)
    return found


_BY_CODE = _domain_classes()
_CLASSES: dict[str, type[ApiError]] = {}


def error_class(code: str) -> type[ApiError]:
    """The exception class raised for ``code``: an ``ApiError`` and its domain class."""
    known = _CLASSES.get(code)
    if known is None:
        base = _BY_CODE.get(code)
        bases: tuple[type, ...] = (ApiError,) if base is None else (ApiError, base)
        name = "ApiError" if base is None else f"Api{base.__name__}"
        known = type(name, bases, {"code": code})
        _CLASSES[code] = known
    return known


def problem_error(status: int, problem: dict[str, Any]) -> ApiError:
    return error_class(str(problem.get("code", "http_error")))(status, problem)
