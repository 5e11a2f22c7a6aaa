"""Settings: the only reader of environment variables. Bad values fail at start-up.

REWARDLEDGER_DATABASE_URL   sqlite:///./rewardledger.db (default) or postgresql://...
REWARDLEDGER_ADMIN_TOKEN    enables POST /v1/tenants for the bearer of this token
REWARDLEDGER_HOST / _PORT   where ``rewardledger serve`` listens (127.0.0.1:8000)
REWARDLEDGER_SQL_SCHEMA     PostgreSQL schema of the seeds' views (migration 0005; see docs/sql.md)
REWARDLEDGER_STATE_DIR      where ``serve`` keeps the demo key (cli/demo_key.py says the default)
REWARDLEDGER_CONSOLE_SECRET signs the console's session cookie (else one kept in the state dir)
REWARDLEDGER_WORKER_SCHEDULE  JSON: step -> seconds, or "tenant/step" -> seconds for one tenant
                            (e.g. '{"holds": 30, "acme/reconciliation": 3600}'; worker.steps
                            has the defaults)
REWARDLEDGER_WORKER_LEASE_SECONDS  how long a worker's claim on a step holds (300)
REWARDLEDGER_WORKER_TICK_SECONDS   how often a worker looks for due steps (5)
REWARDLEDGER_EMBEDDED_WORKER  whether ``serve`` runs a worker in each process (serve sets it)
REWARDLEDGER_GROUP_COMMIT   true: a server process writes the single transfers that arrive
                            together in one transaction (http.group_commit; off by default)
REWARDLEDGER_LOG_FORMAT     json (one JSON line per event, the default) or console
PROMETHEUS_MULTIPROC_DIR    where the processes of ``serve --workers N`` count their metrics
REWARDLEDGER_RELAY_TO_NATS  true: the worker publishes every event to NATS (off by default)
REWARDLEDGER_NATS_URL       the NATS server the event feed is relayed to (nats://127.0.0.1:4222)
REWARDLEDGER_NATS_STREAM    its JetStream stream, created if missing (REWARDLEDGER)
REWARDLEDGER_EVENT_RETENTION_DAYS  outbox rows older than this, passed by every sink, are pruned
REWARDLEDGER_KEYED_WRITE_RETENTION_DAYS  how long the answer of a set-up write sent with an
                            Idempotency-Key is kept for its retries (30); the worker's
                            ``keyed_writes`` step deletes older ones
REWARDLEDGER_POINTS_REMINDER_DAYS  the worker's ``points_reminders`` step announces the points
                            that expire within this many days (7)
REWARDLEDGER_WEBHOOK_TIMEOUT_SECONDS  how long a webhook call may take before it fails (10)
REWARDLEDGER_WEBHOOK_LEASE_SECONDS    how long a worker's claim on a webhook delivery holds
                            before another worker sends it again (more than the timeout;
                            default the larger of 30 and three timeouts)
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rewardledger.domain.limits import (
    KEYED_WRITE_RETENTION_DAYS_DEFAULT,
    KEYED_WRITE_RETENTION_DAYS_MAX,
    POINTS_REMINDER_DAYS_DEFAULT,
    POINTS_REMINDER_DAYS_MAX,
)
from rewardledger.domain.webhooks import WEBHOOK_TIMEOUT_SECONDS

DEFAULT_DATABASE_URL = "sqlite:///./rewardledger.db"
ADMIN_TOKEN_LENGTH_MIN = 16
WORKER_LEASE_SECONDS_DEFAULT = 300
WORKER_TICK_SECONDS_DEFAULT = 5.0
WORKER_INTERVAL_SECONDS_MAX = 31 * 86_400
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_NATS_STREAM = "REWARDLEDGER"
EVENT_RETENTION_DAYS_DEFAULT = 30
EVENT_RETENTION_DAYS_MAX = 3_650
API_KEY_CACHE_SECONDS_DEFAULT = 5.0
API_KEY_CACHE_SECONDS_MAX = 300.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REWARDLEDGER_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    admin_token: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    sql_schema: str | None = None
    state_dir: Path | None = None
    console_secret: SecretStr | None = None
    # How long a server process keeps an API key it has read (services.access.KeyCache): a key
    # revoked elsewhere stops working within this many seconds; 0 reads it on every request.
    api_key_cache_seconds: float = Field(
        default=API_KEY_CACHE_SECONDS_DEFAULT, ge=0, le=API_KEY_CACHE_SECONDS_MAX
    )
    worker_schedule: dict[str, int] = Field(default_factory=dict)
    worker_lease_seconds: int = Field(default=WORKER_LEASE_SECONDS_DEFAULT, ge=1, le=86_400)
    worker_tick_seconds: float = Field(default=WORKER_TICK_SECONDS_DEFAULT, gt=0, le=3_600)
    embedded_worker: bool | None = None
    log_format: Literal["json", "console"] = "json"
    # http.group_commit: concurrent POST /transfers of one process share a transaction.
    group_commit: bool = False
    # prometheus-client's own variable (it reads it too): serve --workers N sets it.
    metrics_dir: Path | None = Field(default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR")
    relay_to_nats: bool = False
    nats_url: str = DEFAULT_NATS_URL
    nats_stream: str = Field(default=DEFAULT_NATS_STREAM, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    event_retention_days: int = Field(
        default=EVENT_RETENTION_DAYS_DEFAULT, ge=1, le=EVENT_RETENTION_DAYS_MAX
    )
    keyed_write_retention_days: int = Field(
        default=KEYED_WRITE_RETENTION_DAYS_DEFAULT, ge=1, le=KEYED_WRITE_RETENTION_DAYS_MAX
    )
    points_reminder_days: int = Field(
        default=POINTS_REMINDER_DAYS_DEFAULT, ge=1, le=POINTS_REMINDER_DAYS_MAX
    )
    webhook_timeout_seconds: float = Field(default=WEBHOOK_TIMEOUT_SECONDS, gt=0, le=300)
    # None: the larger of WEBHOOK_LEASE_SECONDS and three timeouts (events.webhooks.delivery)
    webhook_lease_seconds: float | None = Field(default=None, gt=0, le=3_600)

    @field_validator("database_url")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError(
                "REWARDLEDGER_DATABASE_URL must be sqlite:///path/to/file.db or "
                "postgresql://user@host:5432/database"
            )
        return value

    @field_validator("nats_url")
    @classmethod
    def _nats_scheme(cls, value: str) -> str:
        if not value.startswith(("nats://", "tls://")):
            raise ValueError("REWARDLEDGER_NATS_URL must be nats://host:4222 (or tls://host:4222)")
        return value

    @field_validator("admin_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < ADMIN_TOKEN_LENGTH_MIN:
            raise ValueError(
                f"REWARDLEDGER_ADMIN_TOKEN must be at least {ADMIN_TOKEN_LENGTH_MIN} characters"
            )
        return value

    @field_validator("worker_schedule")
    @classmethod
    def _intervals_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        for name, seconds in value.items():
            if not 1 <= seconds <= WORKER_INTERVAL_SECONDS_MAX:
                raise ValueError(
                    f"REWARDLEDGER_WORKER_SCHEDULE: {name} must be from 1 to "
                    f"{WORKER_INTERVAL_SECONDS_MAX} seconds"
                )
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_call(self) -> Settings:
        lease = self.webhook_lease_seconds
        if lease is not None and lease <= self.webhook_timeout_seconds:
            raise ValueError(
                "REWARDLEDGER_WEBHOOK_LEASE_SECONDS must be more than "
                "REWARDLEDGER_WEBHOOK_TIMEOUT_SECONDS: a delivery's lease must outlast its call, "
                "or another worker sends it again while the first is still waiting"
            )
        return self
