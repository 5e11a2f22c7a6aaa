"""SQL storage of the cycles: a rebuild batch computed and written in one statement (PostgreSQL).

Owns: the set-based rebuild of ``cashback_ledger`` and ``debt_ledger``. A batch is two
statements: the next pairs' keys (an index range, so that the domain can plan their ids and
zone-dependent dates, ``domain.cycle_batches``), then one statement of data-modifying CTEs
that sums the pairs' movements (``GROUP BY``), carries debt from cycle to cycle (window
sums), derives each row's columns, upserts the rows and writes only those that differ
(``ON CONFLICT ... DO UPDATE ... WHERE`` the row differs, ``RETURNING`` them), and inserts
one outbox event per written row (plus ``cashback_cycle.closed`` / ``debt.overdue`` where a
row's status became that) from what the upsert returned.

Protects: the rows and events are those of ``cashback_row`` / ``debt_row`` and
``services.cycles.projection.write_*_rows`` for the same movements: the SQL below restates
their column rules, and ``tests/services/test_cycles_rebuild_sets.py`` holds it to them on
generated histories. An unchanged row is not written and has no event. Events are numbered
(``outbox.position``) in the order the per-row path writes them: every ``*.changed`` event
of the batch in key order, then the status events in key order.
"""

from __future__ import annotations

from typing import Any

from rewardledger.domain.cycle_batches import CashbackBatch, DebtBatch
from rewardledger.ledger.storage_unit import StorageUnit
from rewardledger.storage.cycles.base import CycleSqlBase, Pair
from rewardledger.storage.unit import connection_of

# A UUIDv7 (time-ordered, as ``write_rows.new_event_id``), made by PostgreSQL for each row:
# the milliseconds since the epoch over a random UUID's first 48 bits, version bits set to 7.
_EVENT_ID = (
    "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
    "substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) "
    "FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid::text"
)

_KEYS = """SELECT {holder}, cycle_tag FROM {table}
WHERE tenant_id = %(tenant)s AND ({holder}, cycle_tag) > (%(after_holder)s, %(after_tag)s)
GROUP BY {holder}, cycle_tag ORDER BY {holder}, cycle_tag LIMIT %(limit)s"""

_IN_BATCH = (
    "m.tenant_id = %(tenant)s AND (m.{holder}, m.cycle_tag) >= (%(low_holder)s, %(low_tag)s) "
    "AND (m.{holder}, m.cycle_tag) <= (%(high_holder)s, %(high_tag)s)"
)


def decimal_sql(minor: str, scale: int) -> str:
    """SQL for ``money.format_minor(minor, scale)``: the decimal string of integer minor units."""
    if scale == 0:
        return f"({minor})::text"
    digits = f"abs({minor})::text"
    padded = f"lpad({digits}, greatest(length({digits}), {scale + 1}), '0')"
    sign = f"CASE WHEN ({minor}) < 0 THEN '-' ELSE '' END"
    return f"({sign} || left({padded}, -{scale}) || '.' || right({padded}, {scale}))"


def _cashback_sql(scale: int) -> str:
    over = decimal_sql("cashback - cap", scale)
    return f"""WITH keys AS (
  SELECT * FROM unnest(%(holders)b::text[], %(tags)b::text[], %(ids)b::text[],
                       %(closed)b::bool[]) AS k(account_id, cycle_tag, row_id, closed)),
totals AS (
  SELECT m.account_id, m.cycle_tag, sum(m.spend_minor)::bigint AS spend,
         sum(m.cashback_minor)::bigint AS cashback,
         (array_agg(m.budget_cap_minor ORDER BY m.occurred_at DESC, m.movement_id DESC)
            FILTER (WHERE m.budget_cap_minor IS NOT NULL))[1] AS latest_cap
  FROM cashback_movements m WHERE {_IN_BATCH.format(holder="account_id")}
  GROUP BY m.account_id, m.cycle_tag),
figures AS (
  SELECT k.account_id, k.cycle_tag, k.row_id, k.closed, t.spend, t.cashback,
         coalesce(t.latest_cap, a.default_cap_minor, %(programme_cap)s::bigint) AS cap,
         coalesce(a.enrolled, true) AS enrolled
  FROM keys k JOIN totals t ON t.account_id = k.account_id AND t.cycle_tag = k.cycle_tag
  LEFT JOIN cashback_accounts a ON a.tenant_id = %(tenant)s AND a.account_id = k.account_id),
computed AS (
  SELECT account_id, cycle_tag, row_id, spend, cashback, cap,
         CASE WHEN cashback >= cap THEN 'reached_cap' WHEN NOT enrolled THEN 'not_eligible'
              WHEN spend >= %(minimum_spend)s::bigint THEN 'eligible'
              WHEN closed THEN 'not_eligible' ELSE 'pending' END AS eligibility,
         cap - cashback AS remaining,
         CASE WHEN closed THEN 'closed' ELSE 'open' END AS status,
         nullif(concat_ws('; ',
           CASE WHEN cap < cashback THEN 'override took the cycle ' || {over} || ' past its cap'
           END,
           CASE WHEN NOT enrolled THEN 'account not enrolled' END), '') AS notes
  FROM figures),
stored AS MATERIALIZED (
  SELECT m.account_id, m.cycle_tag, m.status FROM cashback_ledger m
  WHERE {_IN_BATCH.format(holder="account_id")}),
written AS (
  INSERT INTO cashback_ledger AS l (tenant_id, account_id, cycle_tag, cashback_ledger_id,
    total_spend_minor, total_cashback_minor, budget_cap_minor, eligibility,
    remaining_budget_minor, status, notes, last_updated)
  SELECT %(tenant)s, account_id, cycle_tag, row_id, spend, cashback, cap, eligibility,
         remaining, status, notes, %(now)s FROM computed
  ON CONFLICT (tenant_id, account_id, cycle_tag) DO UPDATE SET
    cashback_ledger_id = excluded.cashback_ledger_id,
    total_spend_minor = excluded.total_spend_minor,
    total_cashback_minor = excluded.total_cashback_minor,
    budget_cap_minor = excluded.budget_cap_minor, eligibility = excluded.eligibility,
    remaining_budget_minor = excluded.remaining_budget_minor, status = excluded.status,
    notes = excluded.notes, last_updated = excluded.last_updated
  WHERE (l.total_spend_minor, l.total_cashback_minor, l.budget_cap_minor, l.eligibility,
         l.remaining_budget_minor, l.status, l.notes)
    IS DISTINCT FROM (excluded.total_spend_minor, excluded.total_cashback_minor,
         excluded.budget_cap_minor, excluded.eligibility, excluded.remaining_budget_minor,
         excluded.status, excluded.notes)
  RETURNING l.account_id, l.cycle_tag, l.total_cashback_minor, l.remaining_budget_minor,
            l.eligibility, l.status),
announced AS (
  INSERT INTO outbox (tenant_id, event_id, event_type, subject_id, payload, created_at)
  SELECT %(tenant)s, {_EVENT_ID}, e.event_type, e.account_id || '/' || e.cycle_tag,
         jsonb_build_object('account_id', e.account_id, 'cycle_tag', e.cycle_tag,
           'total_cashback', {decimal_sql("e.total_cashback_minor", scale)},
           'remaining_budget', {decimal_sql("e.remaining_budget_minor", scale)},
           'eligibility', e.eligibility, 'status', e.status), %(now)s
  FROM (SELECT 0 AS part, 'cashback_ledger.changed' AS event_type, w.* FROM written w
        UNION ALL
        SELECT 1, 'cashback_cycle.closed', w.* FROM written w
        LEFT JOIN stored s ON s.account_id = w.account_id AND s.cycle_tag = w.cycle_tag
        WHERE w.status = 'closed' AND s.status IS DISTINCT FROM 'closed') AS e
  ORDER BY e.part, e.account_id, e.cycle_tag)
SELECT (SELECT count(*) FROM written) AS changed"""


def _debt_sql(scale: int) -> str:
    overpaid = decimal_sql("-net", scale)

    def total(kind: str) -> str:
        return f"coalesce(sum(m.amount_minor) FILTER (WHERE m.kind = '{kind}'), 0)::bigint"

    return f"""WITH keys AS (
  SELECT * FROM unnest(%(holders)b::text[], %(tags)b::text[], %(ids)b::text[],
                       %(due)b::timestamptz[], %(overdue)b::timestamptz[])
    AS k(person_id, cycle_tag, row_id, statement_due_at, statement_overdue_at)),
totals AS (
  SELECT m.person_id, m.cycle_tag, {total("opening")} AS opening,
         bool_or(m.kind = 'opening') AS has_opening, {total("charge")} AS charges,
         {total("repayment")} AS repayments, {total("discount")} AS discounts,
         max(m.due_at) AS latest_due_at
  FROM debt_movements m WHERE {_IN_BATCH.format(holder="person_id")}
  GROUP BY m.person_id, m.cycle_tag),
chained AS (
  SELECT k.*, t.opening, t.has_opening, t.charges, t.repayments, t.discounts,
         t.latest_due_at,
         CASE WHEN t.has_opening THEN t.opening ELSE 0 END
           + t.charges - t.repayments - t.discounts AS delta,
         count(*) FILTER (WHERE t.has_opening)
           OVER (PARTITION BY k.person_id ORDER BY k.cycle_tag ROWS UNBOUNDED PRECEDING) AS run
  FROM keys k JOIN totals t ON t.person_id = k.person_id AND t.cycle_tag = k.cycle_tag),
netted AS (
  SELECT *, (sum(delta) OVER (PARTITION BY person_id, run ORDER BY cycle_tag
                              ROWS UNBOUNDED PRECEDING)
             + CASE WHEN run = 0 AND person_id = %(carried_person)s::text
                    THEN %(carried_net)s::bigint ELSE 0 END)::bigint AS net
  FROM chained),
computed AS (
  SELECT person_id, cycle_tag, row_id, net,
         CASE WHEN has_opening THEN opening ELSE net - (charges - repayments - discounts)
         END AS initial, charges, repayments, discounts,
         CASE WHEN net <= 0 THEN 'repaid'
              WHEN %(now)s >= coalesce(latest_due_at + make_interval(days => %(grace)s::int),
                                      statement_overdue_at) THEN 'overdue'
              WHEN repayments + discounts > 0 THEN 'partial' ELSE 'open' END AS status,
         coalesce(latest_due_at, statement_due_at) AS due_at,
         CASE WHEN net < 0 THEN 'overpaid by ' || {overpaid} END AS notes
  FROM netted),
stored AS MATERIALIZED (
  SELECT m.person_id, m.cycle_tag, m.status FROM debt_ledger m
  WHERE {_IN_BATCH.format(holder="person_id")}),
written AS (
  INSERT INTO debt_ledger AS l (tenant_id, person_id, cycle_tag, debt_ledger_id,
    initial_debt_minor, new_debt_minor, repayments_minor, debt_discount_minor, net_debt_minor,
    status, due_at, notes, last_updated)
  SELECT %(tenant)s, person_id, cycle_tag, row_id, initial, charges, repayments, discounts,
         net, status, due_at, notes, %(now)s FROM computed
  ON CONFLICT (tenant_id, person_id, cycle_tag) DO UPDATE SET
    debt_ledger_id = excluded.debt_ledger_id,
    initial_debt_minor = excluded.initial_debt_minor,
    new_debt_minor = excluded.new_debt_minor, repayments_minor = excluded.repayments_minor,
    debt_discount_minor = excluded.debt_discount_minor,
    net_debt_minor = excluded.net_debt_minor, status = excluded.status,
    due_at = excluded.due_at, notes = excluded.notes, last_updated = excluded.last_updated
  WHERE (l.initial_debt_minor, l.new_debt_minor, l.repayments_minor, l.debt_discount_minor,
         l.net_debt_minor, l.status, l.due_at, l.notes)
    IS DISTINCT FROM (excluded.initial_debt_minor, excluded.new_debt_minor,
         excluded.repayments_minor, excluded.debt_discount_minor, excluded.net_debt_minor,
         excluded.status, excluded.due_at, excluded.notes)
  RETURNING l.person_id, l.cycle_tag, l.net_debt_minor, l.status),
announced AS (
  INSERT INTO outbox (tenant_id, event_id, event_type, subject_id, payload, created_at)
  SELECT %(tenant)s, {_EVENT_ID}, e.event_type, e.person_id || '/' || e.cycle_tag,
         jsonb_build_object('person_id', e.person_id, 'cycle_tag', e.cycle_tag,
           'net_debt', {decimal_sql("e.net_debt_minor", scale)}, 'status', e.status),
         %(now)s
  FROM (SELECT 0 AS part, 'debt_ledger.changed' AS event_type, w.* FROM written w
        UNION ALL
        SELECT 1, 'debt.overdue', w.* FROM written w
        LEFT JOIN stored s ON s.person_id = w.person_id AND s.cycle_tag = w.cycle_tag
        WHERE w.status = 'overdue' AND s.status IS DISTINCT FROM 'overdue') AS e
  ORDER BY e.part, e.person_id, e.cycle_tag)
SELECT (SELECT count(*) FROM written) AS changed,
       (SELECT net FROM computed WHERE person_id = %(high_holder)s
          AND cycle_tag = %(high_tag)s) AS last_net"""


class BatchesSql(CycleSqlBase):
    @property
    def rebuilds_in_sets(self) -> bool:
        """Whether ``write_*_batch`` compute a rebuild batch in the database (PostgreSQL)."""
        return self.postgres

    def cashback_pairs_after(self, unit: StorageUnit, after: Pair | None, limit: int) -> list[Pair]:
        """The next ``limit`` (account, cycle) pairs of cashback movements after ``after``."""
        return self._keys(unit, "cashback_movements", "account_id", after, limit)

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
        assert self.postgres and batch.account_ids, "a set-based batch is PostgreSQL's"
        params = {
            **self._batch_params(unit, batch.account_ids, batch.cycle_tags, batch.row_ids),
            "closed": batch.closed,
            "programme_cap": batch.program.default_cap_minor,
            "minimum_spend": batch.program.minimum_spend_minor,
            "now": batch.now,
        }
        row = connection_of(unit).exec_driver_sql(_cashback_sql(batch.scale), params).one()
        return int(row[0])

    def write_debt_batch(self, unit: StorageUnit, batch: DebtBatch) -> tuple[int, int]:
        """Compute and write the batch's rows that changed, with their events; return their
        count and the net debt of the batch's last pair (the next batch carries it)."""
        assert self.postgres and batch.person_ids, "a set-based batch is PostgreSQL's"
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
        row = connection_of(unit).exec_driver_sql(_debt_sql(batch.scale), params).one()
        return int(row[0]), int(row[1])

    @staticmethod
    def _batch_params(
        unit: StorageUnit, holders: list[str], tags: list[str], ids: list[str]
    ) -> dict[str, Any]:
        return {
            "tenant": unit.tenant_id,
            "holders": holders,
            "tags": tags,
            "ids": ids,
            "low_holder": holders[0],
            "low_tag": tags[0],
            "high_holder": holders[-1],
            "high_tag": tags[-1],
        }
