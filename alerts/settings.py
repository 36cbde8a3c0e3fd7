"""Settings of the notifier (`dampwatch notify`), read from `DAMP_*` variables once, in the CLI.

The notifier's own knobs carry a `notify_` prefix (`DAMP_NOTIFY_LEASE_S`, ...) so they cannot be
mistaken for another runnable's batch sizes or retry delays; the SMTP connection keeps the
conventional `DAMP_SMTP_*` names, and `DAMP_PUBLIC_BASE_URL` is the site's address.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from store.settings import DatabaseSettings


class NotifierSettings(DatabaseSettings):
    """Where e-mail goes out, how webhooks are retried, and when the daily digest is sent."""

    smtp_host: str | None = Field(
        default=None, description="SMTP server; unset: e-mails stay queued (webhooks still go)."
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    smtp_user: str | None = Field(
        default=None, description="SMTP login user name; unset: no login."
    )
    smtp_password: SecretStr | None = Field(
        default=None, description="SMTP login password (a secret)."
    )
    smtp_from: str = Field(
        default="Dampwatch <dampwatch@localhost>", description="Sender (From) of officer e-mail."
    )
    smtp_tls: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="starttls (port 587), ssl (port 465) or none (tests)."
    )
    smtp_timeout_s: float = Field(
        default=30.0, gt=0, description="Timeout of each SMTP connection and command."
    )

    notify_webhook_timeout_s: float = Field(
        default=10.0, gt=0, description="Timeout of one webhook request (connect and answer)."
    )
    # Delay before attempt n+1 is retry_base_s * 2**(n-1), capped at retry_max_s; after
    # max_attempts failed attempts a notification is dead-lettered.
    notify_retry_base_s: float = Field(
        default=30.0, gt=0, description="Delay before the first retry; doubled for each next."
    )
    notify_retry_max_s: float = Field(
        default=6 * 3600.0, gt=0, description="Longest delay between two delivery attempts."
    )
    notify_max_attempts: int = Field(
        default=12, ge=1, description="Attempts before a notification is dead-lettered."
    )
    # A pass stops starting webhooks after half the lease, so keep it above twice
    # notify_webhook_timeout_s.
    notify_lease_s: float = Field(
        default=120.0,
        gt=0,
        description=(
            "How long a notifier holds a notification it is sending before another may retry "
            "it; keep it above twice the webhook timeout."
        ),
    )
    notify_poll_interval_s: float = Field(
        default=2.0, gt=0, description="Pause between outbox polls when nothing is due."
    )
    notify_batch_size: int = Field(
        default=50, ge=1, description="Notifications claimed per delivery pass."
    )
    notify_allow_private_webhooks: bool = Field(
        default=False,
        description=(
            "Deliver webhooks to loopback, private, link-local and multicast addresses "
            "(off: such deliveries are refused and dead-lettered). For tests and closed "
            "networks only."
        ),
    )
    notify_digest_hour: int = Field(
        default=7, ge=0, le=23, description="Hour (Europe/London) of the officers' daily digest."
    )

    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Where links in e-mails point."
    )
