"""The backend's completion webhook: an outbox row written in the transaction that records the post,
delivered by whichever instance leases it first, signed exactly as the desktop signs its own
(studio.uploader.webhook: ``X-Studio-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from studio.backend.db import now_us, outbox, writes
from studio.uploader import webhook

log = logging.getLogger(__name__)
LEASE_S = 60          # an instance that died mid-delivery frees its row after this
PENDING, DELIVERED, FAILED = webhook.PENDING, webhook.DELIVERED, webhook.FAILED


@dataclass(frozen=True)
class WebhookConfig:
    url: str | None = None
    unsigned: bool = False        # an explicit choice (--webhook-unsigned)
    base_s: float = float(os.environ.get("STUDIO_WEBHOOK_BACKOFF", "5"))
    cap_s: float = 3600.0
    give_up_s: float = webhook.GIVE_UP_AFTER_S
    timeout_s: float = 10.0

    def secret(self) -> str | None:
        """Read at delivery time from the backend's environment (never stored)."""
        return os.environ.get(webhook.ENV_SECRET) or None


def enqueue(conn: Connection, config: WebhookConfig, upload_id: str, body: dict) -> str | None:
    """Insert the delivery of ``body`` in the caller's transaction. Returns its id (None without a webhook)."""
    if not config.url:
        return None
    did = uuid.uuid4().hex
    now = now_us()
    conn.execute(outbox.insert().values(
        id=did, upload_id=upload_id, url=config.url, body=json.dumps({**body, "delivery_id": did}, sort_keys=True),
        signed=0 if config.unsigned else 1, state=PENDING, attempts=0, next_attempt_us=now, lease_until_us=0,
        created_us=now))
    return did


def _lease(engine: Engine) -> list:
    """Rows due now that no other instance holds, each claimed by a conditional update."""
    now = now_us()
    with engine.connect() as conn:
        due = conn.execute(select(outbox.c.id).where(outbox.c.state == PENDING, outbox.c.next_attempt_us <= now,
                                                     outbox.c.lease_until_us < now).limit(20)).scalars().all()
    claimed = []
    for did in due:
        with writes(engine).begin() as conn:
            got = conn.execute(update(outbox).where(outbox.c.id == did, outbox.c.state == PENDING,
                                                    outbox.c.lease_until_us < now)
                               .values(lease_until_us=now + LEASE_S * 1_000_000)).rowcount
            if got:
                claimed.append(conn.execute(select(outbox).where(outbox.c.id == did)).one())
    return claimed


def deliver_due(engine: Engine, config: WebhookConfig) -> int:
    """One attempt for each due delivery. Returns how many were delivered."""
    delivered = 0
    for row in _lease(engine):
        body = row.body.encode()
        headers = {"Content-Type": "application/json", "User-Agent": "ReelStudio-Backend-Webhook",
                   webhook.DELIVERY_HEADER: row.id}
        error, final = None, False
        if row.signed:
            secret = config.secret()
            if secret:
                headers[webhook.HEADER] = webhook.sign(secret, int(time.time()), body)
            else:
                error = f"no webhook secret: set ${webhook.ENV_SECRET} in the backend's environment"
        if error is None:
            error, final = webhook.post(row.url, body, headers, config.timeout_s)
        attempts = row.attempts + 1
        now = now_us()
        if error is None:
            values = {"state": DELIVERED, "delivered_us": now, "last_error": None}
            delivered += 1
        elif final or (now - row.created_us) / 1e6 >= config.give_up_s:
            values = {"state": FAILED, "last_error": error}
        else:
            values = {"last_error": error,
                      "next_attempt_us": now + int(webhook.backoff_s(attempts, config.base_s, config.cap_s) * 1e6)}
        with writes(engine).begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == row.id, outbox.c.state == PENDING)
                         .values(attempts=attempts, lease_until_us=0, **values))
        (log.info if error is None else log.warning)("webhook %s: %s", row.id, error or "delivered")
    return delivered


class Deliverer:
    """A thread per instance: delivers due webhooks every ``interval`` seconds, or at once on ``wake()``."""

    def __init__(self, engine: Engine, config: WebhookConfig, interval: float = 1.0):
        self.engine, self.config, self.interval = engine, config, interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.config.url and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="webhook-outbox", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deliver_due(self.engine, self.config)
            except Exception:  # noqa: BLE001 - the database may be away for a moment; try again
                log.exception("webhook delivery round failed")
            self._wake.wait(self.interval)
            self._wake.clear()


def status(engine: Engine, upload_id: str) -> dict | None:
    with engine.connect() as conn:
        r = conn.execute(select(outbox).where(outbox.c.upload_id == upload_id)
                         .order_by(outbox.c.created_us.desc())).first()
    if r is None:
        return None
    return {"delivery_id": r.id, "state": r.state, "attempts": r.attempts, "last_error": r.last_error,
            "signed": bool(r.signed)}
