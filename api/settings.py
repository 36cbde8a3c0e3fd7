"""Settings of `dampwatch api`: where it listens, its sessions, rate limit and limits."""

from __future__ import annotations

from pydantic import Field, SecretStr

from store.settings import DatabaseSettings


class ApiSettings(DatabaseSettings):
    """Read once by `dampwatch api` (DAMP_API_HOST, DAMP_API_PORT, ...) and passed to create_app."""

    api_host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port the API listens on.")
    api_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes serving the API (uvicorn workers). Each has its own pool of "
        "DAMP_POOL_MAX_SIZE connections and its own rate limiter.",
    )
    session_cookie_name: str = Field(
        default="dw_session", description="Name of the officers' session cookie."
    )
    session_cookie_secure: bool = Field(
        default=False,
        description="Send the session cookie over HTTPS only; set true behind TLS.",
    )
    session_ttl_s: int = Field(
        default=8 * 3600, ge=60, description="How long a login lasts, in seconds (a work day)."
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs the login form's CSRF token. Unset: random per process, which is "
        "fine for one replica; set the same value on every replica behind a load balancer.",
    )
    rate_limit_per_s: float = Field(
        default=20.0, gt=0, description="Sustained requests per second allowed per key or login."
    )
    rate_limit_burst: int = Field(
        default=200, ge=1, description="Requests a key or login may make at once above the rate."
    )
    pool_wait_s: float = Field(
        default=2.0,
        gt=0,
        description="How long a request waits for a pooled database connection before it is "
        "answered 503 with Retry-After.",
    )
    # The notifier's switch too (alerts.settings): one variable says where webhooks may go.
    notify_allow_private_webhooks: bool = Field(
        default=False,
        description=(
            "Deliver webhooks to loopback, private, link-local and multicast addresses "
            "(off: such deliveries are refused and dead-lettered, and the API refuses to "
            "subscribe such URLs). For tests and closed networks only."
        ),
    )
    default_time_zone: str = Field(
        default="Europe/London",
        description="IANA time zone for times in responses when the caller names none.",
    )
    oidc_issuer_url: str | None = Field(
        default=None,
        description="Extension point, not yet used: an OpenID Connect issuer for officer logins.",
    )

    @property
    def host(self) -> str:
        return self.api_host

    @property
    def port(self) -> int:
        return self.api_port
