"""A fault-injecting HTTP proxy on 127.0.0.1 in front of the S3 server.

One request per connection (it asks the server to close), so each part upload meets the fault
scheduled for it: "reset" (RST halfway through the body), "stall" (never answers), "slowdown"
(503 SlowDown), "latency" (delay, then forward), "corrupt" (one byte of the body flipped, then forwarded), "ok". ``complete_faults`` apply to
CompleteMultipartUpload: "lost" forwards it, then resets the connection instead of answering;
"swap" forwards it and, before answering, calls ``on_complete()`` (a test overwrites the object:
a storage that ends up holding other bytes). Part faults also include "wrong-etag" (forwarded,
but the answer's ETag is another MD5 and its checksum another one: a server that reports a wrong part). ``list_faults`` apply
to ListParts: "nomarker" (says truncated, gives no NextPartNumberMarker) and "stuck" (says
truncated, and the next marker is the one asked for).
"""

from __future__ import annotations

import socket
import struct
import threading
import time

SLOWDOWN = (b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n%s")
SLOWDOWN_BODY = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
                 b"<Message>Please reduce your request rate.</Message></Error>")


class FaultProxy:
    def __init__(self, upstream_port: int, faults: list[str], *, stall_seconds: float = 4.0, latency: float = 0.2,
                 complete_faults: list[str] | None = None, list_faults: list[str] | None = None,
                 on_complete=None):  # noqa: ANN001 - () -> None
        self.upstream = ("127.0.0.1", upstream_port)
        self.faults = list(faults)        # consumed in order by part uploads (PUT ...partNumber=)
        self.complete_faults = list(complete_faults or [])
        self.list_faults = list(list_faults or [])   # consumed by ListParts requests; "always:" prefix repeats
        self.on_complete = on_complete
        self.stall_seconds = stall_seconds
        self.latency = latency
        self.applied: list[str] = []
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _next_fault(self, head: bytes) -> str:
        line = head.split(b"\r\n", 1)[0]
        if line.startswith(b"POST ") and b"uploadId=" in line:
            with self._lock:
                fault = self.complete_faults.pop(0) if self.complete_faults else "ok"
                self.applied.append("complete:" + fault)
                return fault
        if line.startswith(b"GET ") and b"uploadId=" in line and b"partNumber=" not in line:
            with self._lock:
                fault = self.list_faults[0] if self.list_faults else "ok"
                if not fault.startswith("always:"):
                    self.list_faults = self.list_faults[1:]
                fault = fault.removeprefix("always:")
                self.applied.append("list:" + fault)
                return "list-" + fault if fault != "ok" else "ok"
        if not (line.startswith(b"PUT ") and b"partNumber=" in line):
            return "ok"
        with self._lock:
            fault = self.faults.pop(0) if self.faults else "ok"
            self.applied.append(fault)
            return fault

    def _serve(self, conn: socket.socket) -> None:
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                head += chunk
            head, body = head.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            headers = {ln.split(b":", 1)[0].strip().lower(): ln.split(b":", 1)[1].strip() for ln in lines[1:]}
            kept = [ln for ln in lines[1:] if ln.split(b":", 1)[0].strip().lower() not in (b"connection", b"expect")]
            if headers.get(b"expect", b"").lower() == b"100-continue":
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            length = int(headers.get(b"content-length", b"0"))
            fault = self._next_fault(head)
            if fault == "reset":
                while len(body) < length // 2:
                    body += conn.recv(65536)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            while len(body) < length:
                chunk = conn.recv(min(1 << 20, length - len(body)))
                if not chunk:
                    return
                body += chunk
            if fault == "stall":
                self._stop.wait(self.stall_seconds)
                return
            if fault == "slowdown":
                conn.sendall(SLOWDOWN % (len(SLOWDOWN_BODY), SLOWDOWN_BODY))
                return
            if fault == "latency":
                time.sleep(self.latency)
            if fault == "corrupt":
                middle = len(body) // 2
                body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1:]
            request = b"\r\n".join([lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n" + body
            if fault in ("wrong-etag", "swap") or fault.startswith("list-"):
                conn.sendall(self._rewritten(request, fault, lines[0]))
                return
            with socket.create_connection(self.upstream) as up:
                up.sendall(request)
                if fault == "lost":   # the server did it, the answer never arrives
                    while up.recv(1 << 20):
                        pass
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                while True:
                    data = up.recv(1 << 20)
                    if not data:
                        break
                    conn.sendall(data)
        except OSError:
            pass
        finally:
            conn.close()

    # -- answers rewritten: the whole upstream answer is read, changed, and sent with a new length
    def _rewritten(self, request: bytes, fault: str, request_line: bytes) -> bytes:
        import re

        raw = b""
        with socket.create_connection(self.upstream) as up:
            up.sendall(request)
            while chunk := up.recv(1 << 20):
                raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        if any(ln.lower().startswith(b"transfer-encoding:") and b"chunked" in ln.lower() for ln in lines):
            body = _dechunk(body)
        if fault == "swap" and self.on_complete is not None:
            self.on_complete()
        if fault == "wrong-etag":   # the answer describes other bytes: another MD5, another checksum
            lines = [re.sub(rb'(?i)^(etag:\s*)"?[0-9a-f]{32}"?', rb'\1"00000000000000000000000000000bad"', ln)
                     for ln in lines]
            lines = [re.sub(rb"(?i)^(x-amz-checksum-(?:sha256|crc32c?):\s*)\S+", rb"\1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", ln)
                     for ln in lines]
        if fault.startswith("list-"):
            marker = re.search(rb"part-number-marker=(\d+)", request_line)
            asked = marker.group(1) if marker else b"0"
            body = re.sub(rb"<IsTruncated>\w+</IsTruncated>", b"<IsTruncated>true</IsTruncated>", body)
            if fault == "list-nomarker":
                body = re.sub(rb"<NextPartNumberMarker>\d*</NextPartNumberMarker>", b"", body)
            else:
                body = re.sub(rb"<NextPartNumberMarker>\d*</NextPartNumberMarker>",
                              b"<NextPartNumberMarker>" + asked + b"</NextPartNumberMarker>", body)
                if b"<NextPartNumberMarker>" not in body:
                    body = body.replace(b"</IsTruncated>", b"</IsTruncated><NextPartNumberMarker>" + asked +
                                        b"</NextPartNumberMarker>", 1)
        kept = [ln for ln in lines[1:] if not ln.lower().startswith((b"content-length:", b"transfer-encoding:",
                                                                       b"connection:"))]
        return b"\r\n".join([lines[0], *kept, b"Content-Length: %d" % len(body), b"Connection: close"]) + \
            b"\r\n\r\n" + body


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return out
