"""Settings of `dampwatch ingest`, read once by the command and passed down."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import platformdirs
from pydantic import Field

from store.settings import DatabaseSettings, MqttSettings

# Topic patterns per payload format, relative to DAMP_MQTT_TOPIC_PREFIX. `{name}` matches one
# topic level (or part of one, as in The Things Stack's `{application_id}@{tenant_id}`); the
# subscription uses `+` for every level that holds a placeholder.
DEFAULT_TOPICS: dict[str, str] = {
    "native": "dw/v1/readings/{sensor_id}",
    "senml": "dw/v1/senml/{sensor_id}",
    "lpp": "dw/v1/lpp/{sensor_id}",
    # The Things Stack v3 MQTT server topic for uplinks (TTS docs, "MQTT Server").
    "tts": "v3/{application_id}@{tenant_id}/devices/{device_id}/up",
    # ChirpStack v4 MQTT integration event topic (ChirpStack docs, "MQTT integration").
    "chirpstack": "application/{application_id}/device/{dev_eui}/event/up",
    "outdoor": "dw/v1/outdoor/{borough_code}",
}


class IngestSettings(DatabaseSettings, MqttSettings):
    """Everything `dampwatch ingest` needs: the broker, the database, batching and spool."""

    def client_id(self) -> str:
        """DAMP_INGEST_CLIENT_ID, or one derived from this host and the topic prefix.

        Stable across restarts on one host (a StatefulSet pod keeps its name), so the broker
        finds the persistent session, and the messages queued for it, again. The prefix is part
        of it so that two Dampwatch instances sharing a broker (a demo beside a test run) never
        take over each other's session.
        """
        if self.ingest_client_id:
            return self.ingest_client_id
        base = f"dampwatch-ingest-{socket.gethostname()}"[:48]
        if not self.mqtt_topic_prefix:
            return base
        digest = hashlib.sha256(self.mqtt_topic_prefix.encode()).hexdigest()[:12]
        return f"{base}-{digest}"

    def spool_path(self) -> Path:
        if self.ingest_spool_dir is not None:
            return self.ingest_spool_dir
        return platformdirs.user_state_path("dampwatch") / "spool" / self.client_id()

    ingest_client_id: str = Field(
        default="",
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]*$",
        description=(
            "MQTT client id; keep it stable so the persistent session survives restarts. Empty: "
            "dampwatch-ingest-<hostname>, plus a hash of the topic prefix when there is one."
        ),
    )
    ingest_shared_group: str = Field(
        default="",
        pattern=r"^[^/+#]*$",
        description=(
            "Shared-subscription group: replicas subscribe to $share/<group>/... and split the "
            "load (MQTT 5). Empty (the default, right for one replica) subscribes directly. "
            "Mosquitto 2.0 does not keep shared subscriptions across its own restart, so "
            "messages published before ingest resubscribes are lost there: with several "
            "replicas use Mosquitto 2.1+ or EMQX."
        ),
    )
    ingest_topics: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TOPICS),
        description=(
            "JSON object: payload format -> topic pattern (after the prefix). Formats: native, "
            "senml, lpp, tts, chirpstack, outdoor; omit one to stop subscribing to it."
        ),
    )
    ingest_batch_size: int = Field(
        default=5000, ge=1, le=20000, description="Messages per database transaction, at most."
    )
    ingest_flush_interval_s: float = Field(
        default=0.25,
        gt=0,
        le=60,
        description="A batch is written when it is this old even if it is not full.",
    )
    ingest_receive_maximum: int = Field(
        default=20000,
        ge=1,
        le=65535,
        description=(
            "MQTT 5 Receive Maximum: unacknowledged messages the broker may send us. Keep it "
            "well above the batch size, since messages are acked only after COMMIT."
        ),
    )
    ingest_session_expiry_s: int = Field(
        default=7 * 24 * 3600,
        ge=0,
        description="MQTT 5 session expiry: how long the broker keeps our queue while we are away.",
    )
    ingest_keepalive_s: int = Field(default=30, ge=5, le=3600, description="MQTT keepalive.")
    ingest_reconnect_min_s: float = Field(
        default=0.5, gt=0, description="First delay before reconnecting to the broker."
    )
    ingest_reconnect_max_s: float = Field(
        default=30.0, gt=0, description="Longest delay between broker reconnection attempts."
    )
    ingest_spool_dir: Path | None = Field(
        default=None,
        description=(
            "Durable local spool for batches taken while the database is unreachable "
            "(default: the user's state directory, dampwatch/spool/<client id>). One process "
            "per directory; give it a persistent volume in Kubernetes."
        ),
    )
    ingest_db_retry_s: float = Field(
        default=2.0,
        gt=0,
        description="While spooling, how often to try the database again.",
    )
    ingest_max_future_s: float = Field(
        default=300.0,
        ge=0,
        description="Readings stamped further ahead of the receive time than this are rejected.",
    )
    ingest_max_age_days: float = Field(
        default=400.0,
        gt=0,
        description="Readings older than this are rejected (late backlogs within it are kept).",
    )
    ingest_metrics_port: int = Field(
        default=9108,
        ge=0,
        le=65535,
        description="Port of the Prometheus /metrics endpoint; 0 turns it off.",
    )
    ingest_metrics_host: str = Field(
        default="0.0.0.0",  # noqa: S104 - scraped by Prometheus from outside the pod
        description="Address the /metrics endpoint listens on.",
    )
