"""SQL storage of the cycles: a rebuild batch computed and written in one statement (PostgreSQL).

Owns: the set-based rebuild of ``cashback_ledger`` and ``debt_ledger``. A batch is three
statements (and a ``SET LOCAL``, see ``_INDEXES_ONLY``): the next pairs' keys (an index
range, so that the domain can plan their ids and zone-dependent dates,
``domain.cycle_batches``), the stored rows of that range (``_STORED``: which are already
closed / overdue, and each row whole), then one statement of data-modifying CTEs that sums
the pairs' movements (``GROUP BY``; for cashback, the running totals that the rebuild has
just recomputed from the movements in one ``GROUP BY``), carries debt from cycle to cycle
(window sums), derives each row's columns, leaves out those equal to their stored row,
upserts the rest (``ON CONFLICT ... DO UPDATE ... WHERE`` the row differs, ``RETURNING``
them), and inserts one outbox event per written row (plus ``cashback_cycle.closed`` /
``debt.overdue`` where a row's status became that) from what the upsert returned.

Protects: the rows and events are those of ``cashback_row`` / ``debt_row`` and
``services.cycles.projection.write_*_rows`` for the same movements: the SQL below restates
their column rules, and ``tests/services/test_cycles_rebuild_sets.py`` holds it to them on
generated histories. An unchanged row is not written and has no event. Events are numbered
(``outbox.position``) in the order the per-row path writes them: every ``*.changed`` event
of the batch in key order, then the status events in key order.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Connection

from rewardledger.domain.cycle_batches import CashbackBatch, DebtBatch
from rewardledger.ledger.storage_unit import StorageUnit
from rewardledger.storage.cycles.base import CycleSqlBase, Pair
from rewardledger.storage.unit import connection_of

# A UUIDv7 (time-ordered, as ``write_rows.new_event_id``) for the batch's ``n``-th event: the
# milliseconds since the epoch (48 bits) and 10 random bytes of ``entropy`` (bound by the
# client: PostgreSQL's ``gen_random_uuid`` per event cost more than the event's row), with the
# version (7) and variant (RFC 9562) bits set.
_ENTROPY_BYTES = 10
_EVENT_BYTES = (
    "substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) || "
    f"substring(%(entropy)b FROM e.n * {_ENTROPY_BYTES} + 1 FOR {_ENTROPY_BYTES})"
)
_EVENT_ID = (
    "encode(set_byte(set_byte(r.raw, 6, (get_byte(r.raw, 6) & 15) | 112), "
    "8, (get_byte(r.raw, 8) & 63) | 128), 'hex')::uuid::text"
)

# For the rest of the batch's transaction: a lookup by key never becomes a scan of the table.
# The ledger tables fill during a rebuild, faster than their statistics follow (the
# application's role may not ANALYZE them), and a planner that believes a table tiny scans it
# whole for each of the batch's pairs: quadratic in the rows written.
_INDEXES_ONLY = "SET LOCAL enable_seqscan = off"

# The stored rows of the batch's key range, whole (as their text, which the statement casts
# back to the table's row type), one range of the primary key (ordered as it is, so that the
# planner has no reason to take the (tenant, cycle) index).
_STORED = """SELECT {holder}, cycle_tag, status, l::text FROM {table} AS l
WHERE tenant_id = %(tenant)s AND ({holder}, cycle_tag) >= (%(low_holder)s, %(low_tag)s)
  AND ({holder}, cycle_tag) <= (%(high_holder)s, %(high_tag)s)
ORDER BY {holder}, cycle_tag"""

_KEYS = """SELECT {holder}, cycle_tag FROM {table}
WHERE tenant_id = %(tenant)s AND ({holder}, cycle_tag) > (%(after_holder)s, %(after_tag)s)
GROUP BY {holder}, cycle_tag ORDER BY {holder}, cycle_tag LIMIT %(limit)s"""


def decimal_sql(minor: str, scale: int) -> str:
    """SQL for ``money.format_minor(minor, scale)``: the decimal string of integer minor units."""
    if scale == 0:
        return f"({minor})::text"
    digits = f"abs({minor})::text"
    padded = f"lpad({digits}, greatest(length({digits}), {scale + 1}), '0')"
    sign = f"CASE WHEN ({minor}) < 0 THEN '-' ELSE '' END"
    return f"({sign} || left({padded}, -{scale}) || '.' || right({padded}, {scale}))"


_CASHBACK_COLUMNS = (
    "total_spend_minor",
    "total_cashback_minor",
    "budget_cap_minor",
    "eligibility",
    "remaining_budget_minor",
    "status",
    "notes",
)
_DEBT_COLUMNS = (
    "initial_debt_minor",
    "new_debt_minor",
    "repayments_minor",
    "debt_discount_minor",
    "net_debt_minor",
    "status",
    "due_at",
    "notes",
)


def _written_sql(
    ledger: str,
    holder: str,
    columns: tuple[str, ...],
    payload: tuple[str, tuple[str, ...]],
    status_event: tuple[str, str],
) -> str:
    """The tail every batch statement shares, after its ``computed`` rows: upsert those that
    differ from their stored row (``c.stored``, cast back to the row type), and announce each
    row the upsert returns, then each whose status became ``status_event``'s.

    ``payload``: the event's JSON over ``e`` and the columns it reads. A row equal to its stored
    self never reaches the upsert: ``ON CONFLICT DO UPDATE`` would lock it even with a false
    ``WHERE`` (WAL, and a flush at each commit of an unchanged rebuild). The stored rows are
    read in one range of the primary key (``_STORED``) and bound with the keys, never looked up
    by a plan: a lookup that the planner chooses can go down the (tenant, cycle) index, misled
    by a fresh table's statistics, and scan for each pair every row the rebuild has written. A
    written row in ``status_event``'s status has its event unless its key is one of
    ``already_*`` (the batch's stored rows that were in that status, read just before:
    ``_STORED``); both sides of that anti-join are estimated from arrays, not from a table's
    statistics. The batch holds the projection lock, so no other writer changes a row between
    the two statements."""
    table, (status_type, status), (json, payload_columns) = (
        f"{ledger}_ledger",
        status_event,
        payload,
    )
    listed = ", ".join(columns)
    assigned = ", ".join(f"{c} = excluded.{c}" for c in (f"{table}_id", *columns, "last_updated"))
    carried = ", ".join(payload_columns)

    def row(alias: str) -> str:
        return "(" + ", ".join(f"{alias}.{c}" for c in columns) + ")"

    return f"""written AS (
  INSERT INTO {table} AS l (tenant_id, {holder}, cycle_tag, {table}_id, {listed}, last_updated)
  SELECT %(tenant)s, c.{holder}, c.cycle_tag, c.row_id, {row("c")[1:-1]}, %(now)s
  FROM computed c CROSS JOIN LATERAL (
    SELECT (s.r).* FROM (SELECT c.stored::{table} AS r OFFSET 0) AS s) AS s
  WHERE c.stored IS NULL OR {row("s")} IS DISTINCT FROM {row("c")}
  ON CONFLICT (tenant_id, {holder}, cycle_tag) DO UPDATE SET {assigned}
  WHERE {row("l")} IS DISTINCT FROM {row("excluded")}
  RETURNING l.{holder}, l.cycle_tag, {", ".join(f"l.{c}" for c in payload_columns)}),
announced AS (
  INSERT INTO outbox (tenant_id, event_id, event_type, subject_id, payload, created_at)
  SELECT %(tenant)s, {_EVENT_ID}, e.event_type, e.{holder} || '/' || e.cycle_tag, {json},
         %(now)s
  FROM (SELECT *, (row_number() OVER (ORDER BY part, {holder}, cycle_tag))::int - 1 AS n FROM (
          SELECT 0 AS part, '{table}.changed' AS event_type, {holder}, cycle_tag, {carried}
          FROM written
          UNION ALL
          SELECT 1, '{status_type}', {holder}, cycle_tag, {carried} FROM written w
          WHERE status = '{status}' AND NOT EXISTS (
            SELECT 1 FROM unnest(%(already_holders)b::text[], %(already_tags)b::text[])
              AS a(holder, tag) WHERE a.holder = w.{holder} AND a.tag = w.cycle_tag)) AS u) AS e
  CROSS JOIN LATERAL (SELECT {_EVENT_BYTES} AS raw) AS r
  ORDER BY e.part, e.{holder}, e.cycle_tag)"""  # noqa: S608 - constant SQL, values bound


def _cashback_sql(scale: int) -> str:
    over = decimal_sql("cashback - cap", scale)
    json = f"""jsonb_build_object('account_id', e.account_id, 'cycle_tag', e.cycle_tag,
           'total_cashback', {decimal_sql("e.total_cashback_minor", scale)},
           'remaining_budget', {decimal_sql("e.remaining_budget_minor", scale)},
           'eligibility', e.eligibility, 'status', e.status)"""
    payload = (json, ("total_cashback_minor", "remaining_budget_minor", "eligibility", "status"))
    written = _written_sql(
        "cashback", "account_id", _CASHBACK_COLUMNS, payload, ("cashback_cycle.closed", "closed")
    )
    return f"""WITH keys AS (
  SELECT * FROM unnest(%(holders)b::text[], %(tags)b::text[], %(ids)b::text[],
                       %(closed)b::bool[], %(stored)b::text[])
    AS k(account_id, cycle_tag, row_id, closed, stored)),
figures AS (
  SELECT k.account_id, k.cycle_tag, k.row_id, k.closed, k.stored, t.spend, t.cashback,
         coalesce(t.latest_cap, a.default_cap_minor, %(programme_cap)s::bigint) AS cap,
         coalesce(a.enrolled, true) AS enrolled
  FROM keys k
  CROSS JOIN LATERAL (
    SELECT m.spend_minor AS spend, m.cashback_minor AS cashback, m.cap_minor AS latest_cap
    FROM cashback_totals m WHERE m.tenant_id = %(tenant)s AND m.account_id = k.account_id
      AND m.cycle_tag = k.cycle_tag OFFSET 0) AS t
  LEFT JOIN LATERAL (
    SELECT a.default_cap_minor, a.enrolled FROM cashback_accounts a
    WHERE a.tenant_id = %(tenant)s AND a.account_id = k.account_id OFFSET 0) AS a ON true),
computed AS (
  SELECT account_id, cycle_tag, row_id, stored, spend AS total_spend_minor,
         cashback AS total_cashback_minor, cap AS budget_cap_minor,
         (CASE WHEN cashback >= cap THEN 'reached_cap' WHEN NOT enrolled THEN 'not_eligible'
              WHEN spend >= %(minimum_spend)s::bigint THEN 'eligible'
              WHEN closed THEN 'not_eligible' ELSE 'pending' END)::varchar AS eligibility,
         cap - cashback AS remaining_budget_minor,
         (CASE WHEN closed THEN 'closed' ELSE 'open' END)::varchar AS status,
         nullif(concat_ws('; ',
           CASE WHEN cap < cashback THEN 'override took the cycle ' || {over} || ' past its cap'
           END,
           CASE WHEN NOT enrolled THEN 'account not enrolled' END), '') AS notes
  FROM figures),
{written}
SELECT (SELECT count(*) FROM written) AS changed"""  # noqa: S608 - constant SQL, values bound


def _debt_sql(scale: int) -> str:
    overpaid = decimal_sql("-net", scale)
    json = f"""jsonb_build_object('person_id', e.person_id, 'cycle_tag', e.cycle_tag,
           'net_debt', {decimal_sql("e.net_debt_minor", scale)}, 'status', e.status)"""
    payload = (json, ("net_debt_minor", "status"))
    written = _written_sql("debt", "person_id", _DEBT_COLUMNS, payload, ("debt.overdue", "overdue"))

    def total(kind: str) -> str:
        return f"coalesce(sum(m.amount_minor) FILTER (WHERE m.kind = '{kind}'), 0)::bigint"

    return f"""WITH keys AS (
  SELECT * FROM unnest(%(holders)b::text[], %(tags)b::text[], %(ids)b::text[],
                       %(due)b::timestamptz[], %(overdue)b::timestamptz[], %(stored)b::text[])
    AS k(person_id, cycle_tag, row_id, statement_due_at, statement_overdue_at, stored)),
totals AS (
  SELECT k.*, t.* FROM keys k CROSS JOIN LATERAL (
    SELECT {total("opening")} AS opening, bool_or(m.kind = 'opening') AS has_opening,
           {total("charge")} AS charges, {total("repayment")} AS repayments,
           {total("discount")} AS discounts, max(m.due_at) AS latest_due_at
    FROM debt_movements m WHERE m.tenant_id = %(tenant)s AND m.person_id = k.person_id
      AND m.cycle_tag = k.cycle_tag) AS t),
chained AS (
  SELECT *, CASE WHEN has_opening THEN opening ELSE 0 END
              + charges - repayments - discounts AS delta,
         count(*) FILTER (WHERE has_opening)
           OVER (PARTITION BY person_id ORDER BY cycle_tag ROWS UNBOUNDED PRECEDING) AS run
  FROM totals),
netted AS (
  SELECT *, (sum(delta) OVER (PARTITION BY person_id, run ORDER BY cycle_tag
                              ROWS UNBOUNDED PRECEDING)
             + CASE WHEN run = 0 AND person_id = %(carried_person)s::text
                    THEN %(carried_net)s::bigint ELSE 0 END)::bigint AS net
  FROM chained),
computed AS (
  SELECT person_id, cycle_tag, row_id, stored,
         CASE WHEN has_opening THEN opening ELSE net - (charges - repayments - discounts)
         END AS initial_debt_minor, charges AS new_debt_minor, repayments AS repayments_minor,
         discounts AS debt_discount_minor, net AS net_debt_minor,
         (CASE WHEN net <= 0 THEN 'repaid'
              WHEN %(now)s >= coalesce(latest_due_at + make_interval(days => %(grace)s::int),
                                      statement_overdue_at) THEN 'overdue'
              WHEN repayments + discounts > 0 THEN 'partial' ELSE 'open' END)::varchar
           AS status,
         coalesce(latest_due_at, statement_due_at) AS due_at,
         CASE WHEN net < 0 THEN 'overpaid by ' || {overpaid} END AS notes
  FROM netted),
{written}
SELECT (SELECT count(*) FROM written) AS changed,
       (SELECT net_debt_minor FROM computed WHERE person_id = %(high_holder)s
          AND cycle_tag = %(high_tag)s) AS last_net"""  # noqa: S608 - constant SQL, values bound


class BatchesSql(CycleSqlBase):
    @property
    def rebuilds_in_sets(self) -> bool:
        """Whether ``write_*_batch`` compute a rebuild batch in the database (PostgreSQL)."""
        return self.postgres

    def cashback_pairs_after(self, unit: StorageUnit, after: Pair | None, limit: int) -> list[Pair]:
        """The next ``limit`` (account, cycle) pairs of cashback movements after ``after``, from
        their running totals (``rebuild_cashback_totals`` made them those of the movements)."""
        return self._keys(unit, "cashback_totals", "account_id", after, limit)

    def debt_pairs_after(self, unit: StorageUnit, after: Pair | None, limit: int) -> list[Pair]:
        """The next ``limit`` (person, cycle) pairs of debt movements after ``after``."""
        return self._keys(unit, "debt_movements", "person_id", after, limit)

    def _keys(
        self, unit: StorageUnit, table: str, holder: str, after: Pair | None, limit: int
    ) -> list[Pair]:
        # Every key is above ('', ''): ids are never empty.
        low = after or ("", "")
        rows = connection_of(unit).exec_driver_sql(
            _KEYS.format(holder=holder, table=table),
            {"tenant": unit.tenant_id, "after_holder": low[0], "after_tag": low[1], "limit": limit},
        )
        return [(row[0], row[1]) for row in rows]

    def write_cashback_batch(self, unit: StorageUnit, batch: CashbackBatch) -> int:
        """Compute and write the batch's rows that changed, with their events; count them."""
        assert self.postgres, "a set-based batch is PostgreSQL's"
        assert batch.account_ids, "a batch has pairs"
        params = {
            **self._batch_params(unit, batch.account_ids, batch.cycle_tags, batch.row_ids),
            "closed": batch.closed,
            "programme_cap": batch.program.default_cap_minor,
            "minimum_spend": batch.program.minimum_spend_minor,
            "now": batch.now,
        }
        connection = connection_of(unit)
        connection.exec_driver_sql(_INDEXES_ONLY)
        params.update(_stored(connection, "cashback_ledger", "account_id", "closed", params))
        row = connection.exec_driver_sql(_cashback_sql(batch.scale), params).one()
        return int(row[0])

    def write_debt_batch(self, unit: StorageUnit, batch: DebtBatch) -> tuple[int, int]:
        """Compute and write the batch's rows that changed, with their events; return their
        count and the net debt of the batch's last pair (the next batch carries it)."""
        assert self.postgres, "a set-based batch is PostgreSQL's"
        assert batch.person_ids, "a batch has pairs"
        carried_person, carried_net = batch.carried or (None, 0)
        params = {
            **self._batch_params(unit, batch.person_ids, batch.cycle_tags, batch.row_ids),
            "due": batch.statement_due_at,
            "overdue": batch.statement_overdue_at,
            "carried_person": carried_person,
            "carried_net": carried_net,
            "grace": batch.program.grace_days,
            "now": batch.now,
        }
        connection = connection_of(unit)
        connection.exec_driver_sql(_INDEXES_ONLY)
        params.update(_stored(connection, "debt_ledger", "person_id", "overdue", params))
        row = connection.exec_driver_sql(_debt_sql(batch.scale), params).one()
        return int(row[0]), int(row[1])

    @staticmethod
    def _batch_params(
        unit: StorageUnit, holders: list[str], tags: list[str], ids: list[str]
    ) -> dict[str, Any]:
        return {
            "tenant": unit.tenant_id,
            # Each pair has at most two events: its row's and a status event.
            "entropy": os.urandom(2 * len(holders) * _ENTROPY_BYTES),
            "holders": holders,
            "tags": tags,
            "ids": ids,
            "low_holder": holders[0],
            "low_tag": tags[0],
            "high_holder": holders[-1],
            "high_tag": tags[-1],
        }


def _stored(
    connection: Connection, table: str, holder: str, status: str, params: dict[str, Any]
) -> dict[str, list[Any]]:
    """From one read of the batch's range of stored rows: ``stored``, each pair's stored row as
    text (``None`` where there is none), so that the statement leaves out the rows that would
    not change before its upsert (``ON CONFLICT DO UPDATE`` locks a conflicting row even when
    its ``WHERE`` is false, and a lock writes WAL); ``already_holders`` / ``already_tags``, the
    keys whose stored row is in ``status`` (a row written into it again has no status event)."""
    rows = connection.exec_driver_sql(_STORED.format(holder=holder, table=table), params).all()
    texts = {(r[0], r[1]): r[3] for r in rows}
    already = [r for r in rows if r[2] == status]
    return {
        "stored": [texts.get(key) for key in zip(params["holders"], params["tags"], strict=True)],
        "already_holders": [r[0] for r in already],
        "already_tags": [r[1] for r in already],
    }
