"""Helpers of the backend tests (not fixtures; a uniquely named module, see tests/support/cli_runner.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
STARTUP_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def s3_client(config: dict):
    """An S3 client that shares no code with the backend or the uploader: the independent witness."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=config["endpoint"], aws_access_key_id=config["access_key"],
                        aws_secret_access_key=config["secret_key"], region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))


class BackendProcess:
    """`python -m studio backend serve …` in its own process, with the bucket's keys in its environment only."""

    def __init__(self, s3: dict, db: str, log_dir: Path, *, ttl: int = 900, webhook: str | None = None,
                 webhook_secret: str | None = None, filer_token: str | None = None, extra: list[str] | None = None,
                 port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = db
        args = [sys.executable, "-m", "studio", "backend", "serve", "--port", str(self.port), "--db", db,
                "--s3-endpoint", s3["endpoint"], "--bucket", s3["bucket"], "--part-url-ttl", str(ttl),
                "--log-level", "warning"]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": s3["access_key"], "AWS_SECRET_ACCESS_KEY": s3["secret_key"],
               "PYTHONPATH": str(ROOT)}
        env.pop("STUDIO_WEBHOOK_SECRET", None)
        if webhook:
            args += ["--webhook", webhook]
            env["STUDIO_WEBHOOK_SECRET"] = webhook_secret or ""
            env["STUDIO_WEBHOOK_BACKOFF"] = "0.2"
        if filer_token:
            env["TEST_FILER_TOKEN"] = filer_token
            args += ["--filer-token-env", "TEST_FILER_TOKEN"]
        args += extra or []
        self.log = log_dir / f"backend-{self.port}.log"
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env,
                                         cwd=log_dir)
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the backend exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the backend did not start within {STARTUP_S} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


def add_device(db: str, name: str) -> str:
    from studio.backend.db import open_database
    from studio.backend.devices import add_device as add

    engine = open_database(db)
    try:
        return add(engine, name)[1]
    finally:
        engine.dispose()


def api(base: str, method: str, path: str, token: str | None, body: dict | None = None) -> tuple[int, object]:
    """One request to the backend with plain urllib: (status, parsed JSON)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw


def put(url: str, data: bytes) -> tuple[int, dict, bytes]:
    """PUT bytes to a pre-signed URL with http.client (no S3 library involved)."""
    import http.client
    from urllib.parse import urlparse

    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        conn.request("PUT", f"{u.path}?{u.query}", body=data, headers={"Content-Length": str(len(data))})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


class WebhookReceiver:
    """A local HTTP server recording every POST (headers and raw body)."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                n = int(self.headers.get("Content-Length") or 0)
                received.append({"headers": dict(self.headers), "body": self.rfile.read(n)})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):  # noqa: ANN002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/reels"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, n: int = 1, timeout: float = 30) -> list:
        deadline = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
