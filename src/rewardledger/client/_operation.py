"""One operation, written once, called from the sync and the async client alike.

Owns: the ``operation`` decorator. An area of the API (``client.accounts``, ...) writes each
operation as a method that builds a ``Call``; on a ``Client`` the attribute is a function
that sends it and returns the answer, on an ``AsyncClient`` one that returns an awaitable of
it. Both keep the method's parameters for the type checker. An operation that takes no
arguments is one line, ``fixed(method, template, answer, doc)``: it has nothing to build.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload
from urllib.parse import quote

from pydantic import BaseModel

from rewardledger.client._transport import AsyncSender, Call, SyncSender

P = ParamSpec("P")
Model = TypeVar("Model")


class SyncBase:
    """What a sync client has: the sender of its calls, and its tenant (for path building)."""

    _sender: SyncSender


class AsyncBase:
    _sender: AsyncSender


def ask(
    answer: type[Model],
    *,
    path: Mapping[str, str] | None = None,
    body: BaseModel | None = None,
    query: Mapping[str, Any] | None = None,
    keyed: bool = False,
    key: str | None = None,
    safe: bool = True,
    admin: bool = False,
) -> Call[Model]:
    """A call without its method and path yet: ``operation`` adds them from its route, filling
    the template with ``path`` (each value quoted)."""
    return Call(
        "",
        "",
        answer,
        body=body,
        query=dict(query or {}),
        keyed=keyed,
        idempotency_key=key,
        safe_to_repeat=safe,
        admin=admin,
        path_params=dict(path or {}),
    )


def keyed(
    answer: type[Model],
    body: BaseModel,
    key: str | None,
    *,
    path: Mapping[str, str] | None = None,
) -> Call[Model]:
    """A write sent with an Idempotency-Key: the caller's ``key``, else one made for it (and
    kept for its retries) unless ``body`` carries its own."""
    return ask(answer, path=path, body=body, keyed=True, key=key)


class Operation(Generic[P, Model]):
    """A method building a ``Call`` for the route ``method template``, bound as its sender."""

    def __init__(
        self, method: str, template: str, build: Callable[Concatenate[Any, P], Call[Model]]
    ) -> None:
        self.method = method
        self.template = template
        self.build = build
        self.__doc__ = build.__doc__
        self.name = build.__name__

    def call(self, instance: object, *args: Any, **kwargs: Any) -> Call[Model]:
        made = self.build(instance, *args, **kwargs)
        values = {"tid": "{tid}"} | {k: quote(v, safe=":@") for k, v in made.path_params.items()}
        return replace(made, method=self.method, path=self.template.format(**values))

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> Operation[P, Model]: ...

    @overload
    def __get__(self, instance: SyncBase, owner: type) -> Callable[P, Model]: ...

    @overload
    def __get__(self, instance: AsyncBase, owner: type) -> Callable[P, Awaitable[Model]]: ...

    def __get__(self, instance: object, owner: type) -> Any:
        if instance is None:
            return self
        sender = instance._sender  # type: ignore[attr-defined]

        def send(*args: P.args, **kwargs: P.kwargs) -> Any:
            return sender.send(self.call(instance, *args, **kwargs))

        send.__name__ = self.name
        send.__doc__ = self.__doc__
        return send


def operation(
    method: str, template: str
) -> Callable[[Callable[Concatenate[Any, P], Call[Model]]], Operation[P, Model]]:
    """Make the decorated builder the operation ``method template`` (its OpenAPI route)."""

    def decorate(build: Callable[Concatenate[Any, P], Call[Model]]) -> Operation[P, Model]:
        return Operation(method, template, build)

    return decorate


def fixed(
    method: str, template: str, answer: type[Model], doc: str | None = None
) -> Operation[[], Model]:
    """The operation ``method template`` that takes no arguments: the same call every time,
    answered by ``answer``; ``doc`` is the method's docstring."""

    def build(self: object) -> Call[Model]:
        return ask(answer)

    build.__doc__ = doc
    return Operation(method, template, build)
