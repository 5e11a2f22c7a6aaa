"""CSV exports over HTTP, streamed: a chunk of text per page of rows, never the whole file."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from fastapi.responses import StreamingResponse

from rewardledger.domain.limits import PAGE_SIZE_MAX

# Rows written before the text so far is handed to the response.
CSV_ROWS_PER_CHUNK = PAGE_SIZE_MAX


def stream_csv(columns: Sequence[str], records: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """A header of ``columns``, then each record's values in that order, in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for count, record in enumerate(records, start=1):
        writer.writerow([record[column] for column in columns])
        if count % CSV_ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(
    columns: Sequence[str], records: Iterable[Mapping[str, Any]], filename: str
) -> StreamingResponse:
    """A streamed ``text/csv`` attachment named ``filename`` of ``records`` under ``columns``."""
    return StreamingResponse(
        stream_csv(columns, records),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
