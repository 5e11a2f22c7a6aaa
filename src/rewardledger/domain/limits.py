"""Named limits on everything a caller can make the ledger do (TIGER_STYLE: put a limit on it).

Owns: every bound that the domain, storage and HTTP layers enforce. Changing one is a
deliberate, reviewed decision; none is inlined elsewhere as a literal.
"""

from __future__ import annotations

from typing import Final

# Identifiers.
TENANT_ID_LENGTH_MAX: Final = 64
ACCOUNT_ID_LENGTH_MAX: Final = 128
# Client transfer ids leave room for the suffixes of derived ids (".post", ".void", ".expire").
TRANSFER_ID_LENGTH_MAX: Final = 120
DERIVED_ID_LENGTH_MAX: Final = 128
ASSET_CODE_LENGTH_MAX: Final = 16
KIND_LENGTH_MAX: Final = 32
REASON_LENGTH_MAX: Final = 64
NAME_LENGTH_MAX: Final = 200
# The name of the service that manages an account (accounts.managed_by).
MANAGED_BY_LENGTH_MAX: Final = 16

# Money. Amounts fit 15 decimal digits of minor units; account totals must stay within BIGINT.
AMOUNT_MINOR_MAX: Final = 999_999_999_999_999
BIGINT_MAX: Final = 2**63 - 1
ASSET_SCALE_MAX: Final = 8

# Requests.
BATCH_SIZE_MAX: Final = 8_000
METADATA_BYTES_MAX: Final = 4_096
METADATA_DEPTH_MAX: Final = 32
TIMEZONE_NAME_LENGTH_MAX: Final = 64
# Longest decimal string worth reading: 18 whole digits, a point, 8 decimals, a sign.
AMOUNT_TEXT_LENGTH_MAX: Final = 28
# Longest ISO 8601 time worth reading (fractional seconds and an offset included).
TIME_TEXT_LENGTH_MAX: Final = 40
# Instants are accepted in these years only: far enough from datetime's limits (years 1 and
# 9999) that converting one to UTC or to a tenant's time zone cannot overflow.
TIME_YEAR_MIN: Final = 1900
TIME_YEAR_MAX: Final = 9000
PENDING_TIMEOUT_SECONDS_MAX: Final = 10 * 366 * 24 * 3600
EFFECTIVE_AT_FUTURE_SECONDS_MAX: Final = 300
REQUEST_BODY_BYTES_MAX: Final = 16 * 1024 * 1024

# Reads.
PAGE_SIZE_DEFAULT: Final = 50
PAGE_SIZE_MAX: Final = 500
CURSOR_DIGITS_MAX: Final = 19
# An opaque page cursor (domain.paging): the base64url of its sort key, at most this long.
CURSOR_LENGTH_MAX: Final = 1_000

# Authentication. After this many failed authentications from one client address within the
# window, the client is answered 429 with Retry-After until the window has passed (per server
# process; at most AUTH_FAILURE_CLIENTS_TRACKED_MAX clients are remembered).
AUTH_FAILURES_PER_CLIENT_MAX: Final = 20
AUTH_FAILURE_WINDOW_SECONDS: Final = 60
AUTH_FAILURE_CLIENTS_TRACKED_MAX: Final = 10_000

# Answers. A request with thousands of invalid fields is answered with the first ones only.
VALIDATION_ERRORS_LISTED_MAX: Final = 100

# Background work and contention.
EXPIRY_BATCH_SIZE: Final = 1_000
INTEGRITY_CHUNK_SIZE: Final = 1_000
# A seal covers what was created up to this many seconds before it, so that a write still in
# flight (its rows carry the instant it began) is never left out of the segment it belongs to.
SEAL_MARGIN_SECONDS: Final = 60
# Reports list at most this many discrepancies (and count them all), so that a badly damaged
# ledger cannot make verify or repair use memory in proportion to its size. Repair records
# every change in the database regardless.
REPORT_DISCREPANCIES_MAX: Final = 1_000
WRITE_RETRIES_MAX: Final = 8
# A failed due-jobs step is recorded with its error's message, cut to this many characters.
JOB_FAILURE_MESSAGE_LENGTH_MAX: Final = 1_000
JOB_STEP_LENGTH_MAX: Final = 32
# A sink of the event feed: a broker, or the webhook fan-out (events.relay).
SINK_NAME_LENGTH_MAX: Final = 64
# A worker process names itself host:pid:random (worker.runner) in the claims it holds.
WORKER_ID_LENGTH_MAX: Final = 128
# Pruning the outbox (events.retention): rows deleted per transaction.
EVENT_PRUNE_BATCH_SIZE_DEFAULT: Final = 1_000
EVENT_PRUNE_BATCH_SIZE_MAX: Final = 10_000
# Pruning the kept answers of keyed set-up writes (services.keyed_writes): rows deleted per
# transaction, and how long an answer is kept by default (REWARDLEDGER_KEYED_WRITE_RETENTION_DAYS;
# as long as the outbox keeps its events).
KEYED_WRITE_PRUNE_BATCH_SIZE: Final = 1_000
KEYED_WRITE_RETENTION_DAYS_DEFAULT: Final = 30
KEYED_WRITE_RETENTION_DAYS_MAX: Final = 3_650

# Cycles (cashback and debt ledgers).
CYCLE_GRACE_DAYS_MAX: Final = 366
# Dirty (holder, cycle) pairs one refresh transaction recomputes; a refresh runs batches until
# none is left or it has run CYCLE_REFRESH_BATCHES_MAX of them (writers may keep adding).
CYCLE_REFRESH_BATCH_SIZE: Final = 500
CYCLE_REFRESH_BATCHES_MAX: Final = 10_000
# Pairs one rebuild transaction recomputes (keyset over pairs; memory stays flat).
CYCLE_REBUILD_BATCH_SIZE: Final = 2_000
# Movement and holder ids leave room for the prefixes of the journal ids derived from them.
CYCLE_MOVEMENT_ID_LENGTH_MAX: Final = 100
CYCLE_HOLDER_ID_LENGTH_MAX: Final = 100
# Budgets.
BUDGET_ID_LENGTH_MAX: Final = 40
# References (issuance ids, idempotency keys, member keys) become part of journal ids.
BUDGET_REFERENCE_LENGTH_MAX: Final = 64
BUDGET_THRESHOLDS_MAX: Final = 8
BUDGET_NOTE_LENGTH_MAX: Final = 1_000
# One tenant-wide reconciliation or report covers at most this many budgets.
BUDGETS_PER_TENANT_REPORT_MAX: Final = 1_000
# Points (issue 4).
POINTS_EXPIRY_DAYS_MAX: Final = 100 * 366
POINTS_PENDING_SECONDS_MAX: Final = 10 * 366 * 24 * 3600
POINTS_JOBS_BATCH_SIZE: Final = 500
POINTS_IMPORT_BATCH_SIZE: Final = 2_000
POINTS_IMPORT_BAD_ROWS_LISTED_MAX: Final = 100
POINTS_IMPORT_FIELD_LENGTH_MAX: Final = 200
POINTS_FORECAST_DATES_MAX: Final = 366
# Expiring-soon reminders: how many days ahead (REWARDLEDGER_POINTS_REMINDER_DAYS), and how
# many holders one transaction of the reminders step covers.
POINTS_REMINDER_DAYS_DEFAULT: Final = 7
POINTS_REMINDER_DAYS_MAX: Final = 366
POINTS_REMINDER_HOLDERS_BATCH_SIZE: Final = 200
REDEMPTION_TTL_SECONDS_DEFAULT: Final = 24 * 3600
REDEMPTION_TTL_SECONDS_MAX: Final = 366 * 24 * 3600
REDEMPTION_CODE_ATTEMPTS_MAX: Final = 8
OFFER_ID_LENGTH_MAX: Final = 128
HOLDER_ID_LENGTH_MAX: Final = 96
REDEMPTION_ID_LENGTH_MAX: Final = 100
# Moving from the seeds' tables (``rewardledger migrate-from seeds``, issue 12): rows read per
# server-side fetch and written per transaction, and the bad rows a report lists by key.
MIGRATE_BATCH_SIZE: Final = 1_000
MIGRATE_BAD_ROWS_LISTED_MAX: Final = 1_000

# API key rotation: how long the old key keeps working beside the new one (services.api_keys).
ROTATION_OVERLAP_DEFAULT_SECONDS: Final = 86_400
ROTATION_OVERLAP_MAX_SECONDS: Final = 30 * 86_400
