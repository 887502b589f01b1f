"""The completion webhook: signed (t=…,v1=…), kept in an outbox, retried, never failing the upload."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from uploader_helpers import MiB, add_target, make_file


def _server(statuses: list[int], port: int = 0):
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(statuses.pop(0) if statuses else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    srv = HTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, received


def test_webhook_is_signed_and_retried(studio, s3_server, tmp_path):
    from studio.uploader.webhook import verify_signature

    srv, received = _server([500, 200])
    try:
        t = add_target(studio, s3_server, webhook_url=f"http://127.0.0.1:{srv.server_port}/hook",
                       webhook_secret="hook-secret")
        studio.uploads.webhooks.base = 0.05   # fast backoff for the test; production waits 5 s, 10 s, ...
        job = studio.uploads.enqueue_file(make_file(tmp_path / "w.mp4", 1 * MiB), "seaweed")
        studio.uploads.run(until_idle=True, poll=0.05)
    finally:
        srv.shutdown()
    job = studio.uploads.get(job.id)
    assert t.webhook_url and job.state == "COMPLETED" and job.webhook_status == "delivered"
    assert len(received) == 2   # the 500 was retried
    (h1, b1), (headers, body) = received
    assert b1 == body   # every attempt sends the same bytes (the same delivery id)
    assert h1["X-Studio-Delivery"] == headers["X-Studio-Delivery"]
    assert verify_signature("hook-secret", headers["X-Studio-Signature"], body, 300)
    assert not verify_signature("other-secret", headers["X-Studio-Signature"], body, 300)
    assert not verify_signature("hook-secret", headers["X-Studio-Signature"], body + b" ", 300)
    data = json.loads(body)
    assert data["delivery_id"] == headers["X-Studio-Delivery"]
    assert {k: data[k] for k in ("bucket", "key", "size", "sha256")} == \
        {"bucket": job.bucket, "key": job.key, "size": job.size, "sha256": job.sha256}
    assert data["verified"] is True
    assert {"draft_id", "title", "caption", "duration_us"} <= set(data)


def test_failing_webhook_does_not_fail_the_upload(studio, s3_server, tmp_path):
    srv, received = _server([404])
    try:
        add_target(studio, s3_server, webhook_url=f"http://127.0.0.1:{srv.server_port}/gone", webhook_unsigned=True)
        job = studio.uploads.enqueue_file(make_file(tmp_path / "w.mp4", 1 * MiB), "seaweed")
        events = []
        studio.uploads.run(until_idle=True, poll=0.05, on_event=lambda k, j, p: events.append((k, p)))
    finally:
        srv.shutdown()
    job = studio.uploads.get(job.id)
    assert job.state == "COMPLETED"
    assert job.webhook_status.startswith("failed, unsigned") and "404" in job.webhook_status
    assert "X-Studio-Signature" not in received[0][0]   # unsigned, as chosen, and labelled so
    assert any(k == "notice" and "webhook" in p for k, p in events)


def test_verify_signature_is_the_documented_scheme():
    import hashlib
    import hmac

    from studio.uploader.webhook import sign, verify_signature

    body = b'{"delivery_id": "d1"}'
    header = sign("k", 1_800_000_000, body)
    mac = hmac.new(b"k", b"1800000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1800000000,v1={mac}"   # Stripe-style: HMAC-SHA256(secret, "<t>." + body)
    assert verify_signature("k", header, body, 300, now=1_800_000_100)
    assert not verify_signature("k", header, body, 300, now=1_800_000_301)        # an old request replayed
    assert not verify_signature("k", header.replace("t=1800000000", "t=1800000200"), body, 300,
                                now=1_800_000_200)                                  # a new t on old v1
    for bad in (None, "", "v1=abc", "t=x,v1=abc", "garbage", f"t=1800000000,v1={'0' * 64}"):
        assert not verify_signature("k", bad, body, 300, now=1_800_000_000)


def test_webhook_urls_are_validated():
    import pytest

    from studio.uploader.errors import UploadError
    from studio.uploader.webhook import validate_url

    assert validate_url("https://example.com/h") == "https://example.com/h"
    for bad in ("ftp://example.com/h", "example.com/h", "http://", "https://exa mple.com", "http://h:99999/x"):
        with pytest.raises(UploadError, match="http:// or https://"):
            validate_url(bad)


def test_progress_meter_shows_a_restart_instead_of_clamping():
    from studio.uploader.progress import ProgressMeter

    now = [0.0]
    m = ProgressMeter(max_per_second=1000, clock=lambda: now[0])
    now[0] = 1.0
    assert m.update(60, 100).done == 60
    m.restart()
    now[0] = 2.0
    assert m.update(5, 100).done == 5      # back to where the job really is, not the old 60
    now[0] = 3.0
    assert m.update(500, 100).done == 100  # and never past 100 %
