"""Real receivers for the notification tests: an HTTP server and an SMTP server, in threads.

Both dedupe the way a careful receiving system would: by the delivery's idempotency key (the
`Dampwatch-Delivery` header, the e-mail's Message-ID). Every arrival is kept as well, so a test
can tell "sent twice" from "processed twice".
"""

from __future__ import annotations

import email
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from dampwatch.embedded import free_port


@dataclass
class Arrival:
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    url: str = ""
    fail_first: int = 0
    on_arrival: Callable[[int], None] | None = None
    arrivals: list[Arrival] = field(default_factory=list)
    processed: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def webhook_receiver(tls: ssl.SSLContext | None = None) -> Iterator[WebhookReceiver]:
    """An HTTP receiver on loopback; HTTPS when given a server-side TLS context."""
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.arrivals.append(Arrival(dict(self.headers.items()), body))
                count = len(receiver.arrivals)
            if receiver.on_arrival is not None:
                receiver.on_arrival(count)
            if count <= receiver.fail_first:
                self._reply(500)
                return
            with receiver.lock:
                receiver.processed.setdefault(self.headers["Dampwatch-Delivery"], body)
            self._reply(200)

        def _reply(self, status: int) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender may be gone (the crash tests kill it mid-request)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    receiver.url = f"{scheme}://127.0.0.1:{server.server_address[1]}/hooks/dampwatch"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class MailSink:
    port: int = 0
    on_arrival: Callable[[int], None] | None = None
    arrivals: list[Message] = field(default_factory=list)
    unique: dict[str, Message] = field(default_factory=dict)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        self.arrivals.append(message)
        self.unique.setdefault(str(message["Message-ID"]), message)
        if self.on_arrival is not None:
            self.on_arrival(len(self.arrivals))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[MailSink]:
    sink = MailSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
