"""Settings of the notifier (`dampwatch notify`), read from `DAMP_*` variables once, in the CLI."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from store.settings import DatabaseSettings


class NotifierSettings(DatabaseSettings):
    """Where e-mail goes out, how webhooks are retried, and when the daily digest is sent."""

    smtp_host: str | None = Field(
        default=None, description="SMTP server; unset: e-mails stay queued (webhooks still go)."
    )
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = Field(default="Dampwatch <dampwatch@localhost>")
    smtp_tls: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="starttls (port 587), ssl (port 465) or none (tests)."
    )
    smtp_timeout_s: float = Field(default=30.0, gt=0)

    webhook_timeout_s: float = Field(default=10.0, gt=0)
    # Delay before attempt n+1 is retry_base_s * 2**(n-1), capped at retry_max_s; after
    # max_attempts failed attempts a notification is dead-lettered.
    retry_base_s: float = Field(default=30.0, gt=0)
    retry_max_s: float = Field(default=6 * 3600.0, gt=0)
    max_attempts: int = Field(default=12, ge=1)
    # How long a sender holds a notification it is delivering before another may retry it.
    # A pass stops starting webhooks after half the lease, so keep it above twice
    # webhook_timeout_s.
    lease_s: float = Field(default=120.0, gt=0)
    poll_interval_s: float = Field(default=2.0, gt=0)
    batch_size: int = Field(default=50, ge=1)

    digest_hour: int = Field(
        default=7, ge=0, le=23, description="Hour (Europe/London) of the officers' daily digest."
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Where links in e-mails point."
    )
