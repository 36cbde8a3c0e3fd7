"""Settings shared by every runnable, read from `DAMP_*` environment variables.

Each runnable has its own settings class that extends these (`ingest.settings.IngestSettings`,
...). They are read once, in `dampwatch.cli`, and passed down as arguments: nothing reads the
environment at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Kubernetes mounts secrets as files; the Helm chart puts them here.
SECRETS_DIR = Path("/run/secrets/dampwatch")


class Settings(BaseSettings):
    """Base for all settings classes: the `DAMP_` prefix and the secrets directory."""

    model_config: ClassVar[SettingsConfigDict] = SettingsConfigDict(
        env_prefix="DAMP_", extra="ignore", frozen=True
    )

    @classmethod
    def load(cls, **overrides: Any) -> Self:
        """Read the environment (and the secrets directory, where it exists)."""
        if SECRETS_DIR.is_dir():
            return cls(_secrets_dir=SECRETS_DIR, **overrides)
        return cls(**overrides)


class DatabaseSettings(Settings):
    """Where the database is, and how many connections a process may hold."""

    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL/TimescaleDB URL. Unset: `dampwatch demo` starts an embedded one.",
    )
    pool_min_size: int = Field(default=1, ge=0, description="Connections a process keeps open.")
    pool_max_size: int = Field(default=8, ge=1, description="Connections a process may open.")

    def require_database_url(self) -> str:
        if self.database_url is None:
            raise MissingSettingError("DAMP_DATABASE_URL is not set")
        return self.database_url.get_secret_value()


class ScoringSettings(DatabaseSettings):
    """The scoring job (`dampwatch score`): how much risk-assessment history it keeps in full."""

    # The alert rules read 30 days of assessments (alerts.policy.AlertPolicy.
    # assessment_lookback); keeping a day more in full leaves every row they read in place.
    assessments_full_days: int = Field(
        default=31,
        ge=1,
        description=(
            "Days of risk assessments kept in full; of older days each room and home keeps "
            "its last assessment of the day and those where its band or faults changed."
        ),
    )


class MqttSettings(Settings):
    """Where the broker is, and the topic root all of Dampwatch's topics hang under."""

    mqtt_url: SecretStr | None = Field(
        default=None,
        description="mqtt://[user:password@]host[:port] or mqtts://...; unset: embedded broker.",
    )
    mqtt_protocol: str = Field(
        default="5", pattern=r"^(5|3\.1\.1)$", description="MQTT version: 5 or 3.1.1."
    )
    mqtt_topic_prefix: str = Field(
        default="",
        description="Prepended to every topic, e.g. 'test/run-1/'; empty in production.",
    )

    def require_mqtt_url(self) -> str:
        if self.mqtt_url is None:
            raise MissingSettingError("DAMP_MQTT_URL is not set")
        return self.mqtt_url.get_secret_value()


class MissingSettingError(ValueError):
    """A runnable was started without a setting it cannot do without."""
