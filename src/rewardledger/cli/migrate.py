"""``rewardledger migrate-from seeds``: move a tenant's history from the seeds' tables.

Owns: the command's options, opening the source (``storage.legacy_seeds``), the progress
bars (totals from the source's row counts) and the summary tables. The work is
``services.migrate.migrate_seeds``. Exit 0 when every row was migrated and every figure
agrees; 1 when a row was bad or a figure differs (both listed); 2 on a bad command line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rewardledger.cli import output
from rewardledger.cli.context import ledger_of
from rewardledger.domain.limits import MIGRATE_BATCH_SIZE
from rewardledger.domain.seed_migration import DEFAULT_SCHEMA, seed_tables
from rewardledger.services.migrate import SeedMigration, migrate_seeds
from rewardledger.services.points.views import DEFAULT_ASSET
from rewardledger.storage.engine import safe_url
from rewardledger.storage.legacy_seeds import PostgresLegacySource

migrate_from_app = typer.Typer(
    help="Move a history from another system into a tenant.", no_args_is_help=True
)
BAD_ROWS_PRINTED_MAX = 20


def _summary(result: SeedMigration) -> None:
    console = Console(highlight=False, soft_wrap=True)
    rows = Table("source table", "read", "imported", "already present", "bad", "batches skipped")
    for t in result.counts.tables:
        rows.add_row(
            t.table,
            *(str(n) for n in (t.rows_read, t.imported, t.already_present, t.bad_rows)),
            str(t.batches_skipped),
        )
    console.print(rows)
    for t in result.counts.tables:
        if t.rows_read and t.imported == 0 and t.already_present == t.rows_read:
            console.print(
                f"{t.table}: nothing new to import; all {t.rows_read} rows were migrated "
                "before (found by their derived ids).",
                markup=False,
            )
    for skipped in result.counts.skipped:
        console.print(f"{skipped.table} ({skipped.rows} rows): {skipped.why}", markup=False)
    if result.counts.bad:
        bad = Table("source table", "key", "why")
        for b in result.counts.bad[:BAD_ROWS_PRINTED_MAX]:
            bad.add_row(b.table, b.key, b.message)
        console.print(bad)
    figures = Table("reconciled", "compared", "differing")
    rec = result.reconciliation
    for subject, compared in rec.compared.items():
        figures.add_row(subject, str(compared), str(rec.differing.get(subject, 0)))
    console.print(figures)
    console.print(f"differences: {rec.csv_path} and {rec.json_path}", markup=False)


@migrate_from_app.command("seeds")
def seeds(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Option(
            "--source", metavar="URL", help="postgresql://... of the old system (read only)."
        ),
    ],
    tenant: Annotated[str, typer.Option("--tenant", "-t", metavar="TENANT")],
    schema: Annotated[str, typer.Option(help="The old tables' schema.")] = DEFAULT_SCHEMA,
    table_name: Annotated[
        list[str] | None,
        typer.Option("--table-name", metavar="LOGICAL=ACTUAL", help="A table under another name."),
    ] = None,
    report_dir: Annotated[
        Path, typer.Option(help="Where reconciliation.csv and .json are written.")
    ] = Path("."),
    asset: Annotated[str, typer.Option(help="The points asset.")] = DEFAULT_ASSET,
    batch_size: Annotated[
        int, typer.Option(min=1, max=MIGRATE_BATCH_SIZE, help="Rows per fetch and transaction.")
    ] = MIGRATE_BATCH_SIZE,
    skip_bad_rows: Annotated[
        bool, typer.Option(help="Write a batch's good rows when it has bad ones.")
    ] = False,
) -> None:
    """Migrate the points, debt and cashback tables, then reconcile (docs/migrating.md).

    Idempotent: a second run imports nothing. Exit 1 if a row was bad or a figure differs.
    """
    with ledger_of(ctx) as ledger:
        tables = seed_tables(schema, table_name or [])
        output.note(f"reading {safe_url(source)} (schema {tables.schema})")
        with PostgresLegacySource(source, tables) as legacy, output.progress_with_total() as bar:

            def progress(label: str, total: int | None) -> Callable[[int], None]:
                return output.advancer(bar, bar.add_task(label, total=total, unit="rows"))

            result = migrate_seeds(
                ledger,
                tenant,
                legacy,
                report_dir,
                asset=asset,
                batch_size=batch_size,
                skip_bad_rows=skip_bad_rows,
                progress=progress,
            )
    _summary(result)
    if not result.ok:
        raise typer.Exit(1)
