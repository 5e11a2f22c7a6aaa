"""Every operation's summary in the OpenAPI document: the one given to the route, else the
first sentence of its docstring (never the title made from the function's name, which
repeats across routers: "Create Movement" for cashback and debt)."""

from __future__ import annotations

import re

from fastapi import APIRouter
from fastapi.routing import APIRoute

# A summary is one line in the docs' sidebar; longer first sentences are cut at a word.
SUMMARY_LENGTH_MAX = 90


def summary_of(description: str) -> str:
    """The first sentence of a docstring, without reST's double backticks, on one line."""
    text = " ".join(description.replace("``", "").split())
    first = re.split(r"(?<=\.)\s", text, maxsplit=1)[0].rstrip(".")
    if len(first) > SUMMARY_LENGTH_MAX:
        first = first[:SUMMARY_LENGTH_MAX].rsplit(" ", 1)[0] + "..."
    return first


def install(router: APIRouter) -> None:
    """Give each route of ``router`` without a summary the first sentence of its docstring
    (before the router is included in the app)."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.summary is None and route.description:
            route.summary = summary_of(route.description)
