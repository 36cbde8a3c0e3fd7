"""A TCP proxy that a test can cut and restore, standing in for a database outage or restart.

The shared PostgreSQL is never restarted by a test. Ingest is pointed at this proxy instead; `cut()`
closes every open connection and refuses new ones (as a server that is down does), `restore()`
accepts again.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading

from dampwatch.embedded import free_port


class CuttableProxy:
    def __init__(self, target_host: str, target_port: int, *, port: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> CuttableProxy:
        self._listen()
        self._thread = threading.Thread(target=self._run, name="cuttable-proxy", daemon=True)
        self._thread.start()
        return self

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.setblocking(False)
        with self._lock:
            self._listener = listener

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        with self._lock:
            listener, self._listener = self._listener, None
            pairs, self._pairs = self._pairs, []
        if listener is not None:
            listener.close()
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def restore(self) -> None:
        self._listen()

    def stop(self) -> None:
        self._stop.set()
        self.cut()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                listener = self._listener
                pairs = list(self._pairs)
            sockets: list[socket.socket] = [s for pair in pairs for s in pair]
            if listener is not None:
                sockets.append(listener)
            if not sockets:
                self._stop.wait(0.02)
                continue
            try:
                readable, _, _ = select.select(sockets, [], [], 0.05)
            except (OSError, ValueError):
                continue  # a socket was closed by cut() meanwhile
            for sock in readable:
                if sock is listener:
                    self._accept(listener)
                else:
                    self._forward(sock, pairs)

    def _accept(self, listener: socket.socket) -> None:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        client.setblocking(True)
        with self._lock:
            if self._listener is None:  # cut meanwhile
                client.close()
                upstream.close()
                return
            self._pairs.append((client, upstream))

    def _forward(
        self, sock: socket.socket, pairs: list[tuple[socket.socket, socket.socket]]
    ) -> None:
        for a, b in pairs:
            if sock is a or sock is b:
                other = b if sock is a else a
                try:
                    data = sock.recv(65536)
                    if data:
                        other.sendall(data)
                        return
                except OSError:
                    pass
                self._drop(a, b)
                return

    def _drop(self, a: socket.socket, b: socket.socket) -> None:
        with self._lock:
            if (a, b) in self._pairs:
                self._pairs.remove((a, b))
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
