"""Settings from ``SHOUBANPING_*`` environment variables (and an optional ``.env`` file)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The key shipped with the code: good enough on a developer's laptop, refused anywhere else.
DEV_SECRET_KEY = "shoubanping-dev-secret-key-not-for-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOUBANPING_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///shoubanping.db",
        description="SQLAlchemy URL. SQLite (default, WAL mode) or postgresql+psycopg://...",
    )
    redis_url: str | None = Field(
        None, description="Redis URL for the dramatiq broker. Unset: embedded StubBroker + in-process worker."
    )
    redis_namespace: str = Field("shoubanping", description="Prefix of the dramatiq keys in Redis.")
    # dramatiq's RedisBroker takes a worker for dead once its last heartbeat (any broker command it
    # sends, about every 20 ms while it runs) is this old, and the queue maintenance that some
    # commands run puts the messages that worker had fetched back on the queue. dramatiq's default
    # is 60 s; a killed worker's message must be back within 30 s.
    redis_heartbeat_timeout_seconds: float = Field(
        10, ge=1, le=3600, description="Seconds without a heartbeat after which a worker is taken for dead and the "
        "messages it had fetched are put back on the queue.")
    redis_maintenance_chance: int = Field(
        20_000, ge=1, le=1_000_000, description="Broker commands out of a million that also run the queue "
        "maintenance (requeue the messages of dead workers, expire dead-lettered ones).")
    secret_key: str = Field(DEV_SECRET_KEY, description="Key for token hashing and signatures.")
    dev_mode: bool = Field(False, description="Allows the built-in secret key. Never in production.")
    timezone: str = Field("Asia/Shanghai", description="Local time zone for periods and deadlines.")
    token_ttl_hours: int = Field(24 * 7, ge=1, description="Lifetime of a login token in hours.")
    login_window_minutes: int = Field(15, ge=1, description="The window the login limits count attempts in.")
    login_failures_per_name: int = Field(
        5, ge=1, description="Failed logins of one username in the window after which it must wait (429).")
    login_failures_per_address: int = Field(
        30, ge=1, description="Failed logins from one client address in the window after which it must wait "
                              "(429), whatever the names: one office behind one address logs in freely.")
    open311_submissions_per_minute: int = Field(
        60, ge=1, description="Service requests one Open311 client key may file in a minute; more wait (429).")
    open311_submissions_per_contact_per_hour: int = Field(
        10, ge=1, description="Service requests filed through Open311 with one e-mail address or phone number, "
                              "whatever the client, in an hour; more wait (429).")
    media_dir: str = Field("media", description="Directory where uploaded photos are stored.")
    secure_cookies: bool = Field(
        False, description="Always mark the pages' session cookie Secure. Without it the cookie is Secure when the "
        "request came over https as uvicorn sees it (behind a TLS proxy on another host, set this or uvicorn's "
        "FORWARDED_ALLOW_IPS).")
    max_photo_bytes: int = Field(5 * 1024 * 1024, ge=1024, description="Largest photo accepted, in bytes.")
    worker_threads: int = Field(4, ge=1, le=64, description="Threads of the in-process or dramatiq worker.")
    relay_interval_seconds: float = Field(
        1.0, gt=0, description="How often the outbox relay retries rows it could not publish."
    )
    default_claim_limit: int = Field(3, ge=1, le=50, description="Open claims a member may hold at once.")
    evaluation_window_days: int = Field(7, ge=1, description="Working days a resident has to evaluate a result.")
    sweep_interval_seconds: float = Field(60, gt=0, description="How often the scheduler sweeps deadlines.")
    visit_sweep_seconds: float = Field(
        3600, gt=0, description="How often the scheduler reminds members of households due for a visit.")
    score_refresh_seconds: float = Field(
        300, gt=0, description="How often the scheduler recomputes the current and previous periods' draft scores "
        "when facts arrived since (and computes any of the last 12 periods that have none).")
    pdf_font: str | None = Field(
        None, description="A TrueType font (.ttf/.ttc) with Chinese glyphs for PDF reports; by default the first "
        "of the Debian fonts-wqy-zenhei, fonts-wqy-microhei or fonts-arphic-uming files found.")
    # Shorter than the 24-hour respond window of normal requests: a task nobody claims goes back to
    # community staff while they still have time to respond before it is escalated.
    claim_window_hours: int = Field(12, ge=1, description="Hours a published task waits for a claim.")
    # Outgoing webhooks: the deliver_webhook actor retries a failed POST with exponential backoff
    # (doubling from the minimum, capped at the maximum) and gives up after the last attempt.
    webhook_min_backoff_ms: int = Field(2000, ge=1, description="Wait before the first webhook retry, in ms.")
    webhook_max_backoff_ms: int = Field(600_000, ge=1, description="Longest wait between webhook retries, in ms.")
    webhook_max_attempts: int = Field(8, ge=1, le=50, description="POSTs of one webhook event before it fails.")
    webhook_timeout_seconds: float = Field(10, gt=0, le=120, description="Timeout of one webhook POST, in seconds.")
    zone_offer_minutes: int = Field(
        120, ge=0, description="Minutes a new task is offered only to the members whose zone covers it."
    )

    @model_validator(mode="after")
    def _refuse_dev_key(self) -> Settings:
        if self.secret_key == DEV_SECRET_KEY and not self.dev_mode:
            raise ValueError(
                "SHOUBANPING_SECRET_KEY is the built-in development key. Set a secret of your own, "
                "or set SHOUBANPING_DEV_MODE=1 on a development machine."
            )
        if len(self.secret_key) < 16:
            raise ValueError("SHOUBANPING_SECRET_KEY must be at least 16 characters long.")
        return self

    @model_validator(mode="after")
    def _webhook_backoff_order(self) -> Settings:
        if self.webhook_max_backoff_ms < self.webhook_min_backoff_ms:
            raise ValueError("SHOUBANPING_WEBHOOK_MAX_BACKOFF_MS must not be below SHOUBANPING_WEBHOOK_MIN_BACKOFF_MS.")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def today(self) -> date:
        """The local date now, in the configured time zone: the day pages and checks speak of."""
        return datetime.now(ZoneInfo(self.timezone)).date()


@lru_cache
def get_settings() -> Settings:
    return Settings()


def problem(exc: ValidationError) -> str:
    """What is wrong with the settings, on one line, for a person starting a process."""
    parts = []
    for error in exc.errors():
        message = error.get("msg", "")
        message = message.removeprefix("Value error, ")
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"SHOUBANPING_{where.upper()}: {message}" if where else message)
    return "; ".join(parts) or str(exc).splitlines()[0]
