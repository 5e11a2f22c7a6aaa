"""Structured logs: one JSON line per event (or a readable line on a console), on stderr.

Owns: the one configuration of structlog, made once per process by ``rewardledger worker``
and ``serve`` (and each of serve's worker processes) through ``configure``. Events are named
in snake case (``worker_step_finished``) with their facts as keys (``tenant_id``, ``step``,
``counts``, ``duration_seconds``, ``code``); every line has ``timestamp`` (UTC, ISO 8601) and
``level``. Records of the standard ``logging`` module at WARNING and above (a library's, or
an internal error's traceback) go through the same renderer, so a JSON log stays JSON.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Literal, TextIO

import structlog

LogFormat = Literal["json", "console"]
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "console")
_HANDLER_NAME = "rewardledger"


class _Stderr:
    """Whatever ``sys.stderr`` is when a line is written (a test runner swaps it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(log_format: LogFormat = "json", stream: TextIO | None = None) -> None:
    """Render every event as ``log_format`` on ``stream`` (standard error by default)."""
    out: Any = stream if stream is not None else _Stderr()
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.set_name(_HANDLER_NAME)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != _HANDLER_NAME]
    root.addHandler(handler)


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    """The structured logger of module ``name``."""
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(logger_name=name)
    return logger
