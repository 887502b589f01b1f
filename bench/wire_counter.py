"""A TCP relay on 127.0.0.1 that counts the bytes a client sends to a server.

The kill -9 benchmark needs what a kill really costs on the wire: the parts that were in flight
when the process died (sent, never acknowledged) plus whatever the next run sends again. The
uploader cannot report bytes of a process that was killed, so the wire is measured instead.
"""

from __future__ import annotations

import socket
import threading


class WireCounter:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self._lock = threading.Lock()
        self._up = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, name="wire-counter", daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def take(self) -> int:
        """Client-to-server bytes since the last call (request lines, headers and bodies)."""
        with self._lock:
            n, self._up = self._up, 0
        return n

    def close(self) -> None:
        self._stop.set()
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=30)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        try:
            while True:
                data = src.recv(256 * 1024)
                if not data:
                    break
                if upstream:
                    with self._lock:
                        self._up += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
