"""The completion webhook: an outbox row per COMPLETED upload, delivered apart from the upload lanes.

Each delivery is a JSON POST whose body (stored once, so every attempt sends the same bytes) carries
a stable ``delivery_id``; receivers de-duplicate on it. Signed Stripe-style::

    X-Studio-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

``t`` is the time of the attempt, so a receiver rejects replays of an old request by checking it
against its clock (``verify_signature`` below does all of this). The secret comes from the keyring,
or, where there is none, from ``$STUDIO_WEBHOOK_SECRET`` at delivery time; an unsigned webhook is
an explicit choice of the target (``--webhook-unsigned``) and is labelled so everywhere.

Attempts back off exponentially (with jitter) and continue across restarts for up to 24 h; a
4xx other than 408/429 is final. The state of each delivery is shown with its job.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import random
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from studio.uploader.errors import UploadError
from studio.uploader.models import OutboxRow, now_us
from studio.uploader.network import http_url

log = logging.getLogger(__name__)
HEADER = "X-Studio-Signature"
DELIVERY_HEADER = "X-Studio-Delivery"
ENV_SECRET = "STUDIO_WEBHOOK_SECRET"
GIVE_UP_AFTER_S = 24 * 3600
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def validate_url(url: str) -> str:
    """An http(s) URL with a host, or UploadError with a sentence."""
    if http_url(url) is None:
        raise UploadError(f"The webhook {url!r} is not an http:// or https:// URL with a host; "
                          "give a full URL such as https://example.com/hooks/reels.")
    return url


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, header: str | None, body: bytes, tolerance_s: float = 300,
                     *, now: float | None = None) -> bool:
    """For receivers: True when ``header`` (X-Studio-Signature) signs ``body`` with ``secret`` and its
    timestamp is within ``tolerance_s`` of ``now`` (default: this clock). A replayed old request, a
    changed body, a wrong secret or a malformed header all give False."""
    if not header or not secret:
        return False
    items: dict[str, list[str]] = {}
    for piece in header.split(","):
        k, sep, v = piece.strip().partition("=")
        if sep:
            items.setdefault(k, []).append(v)
    try:
        t = int(items["t"][0])
    except (KeyError, ValueError, IndexError):
        return False
    now = time.time() if now is None else now
    if abs(now - t) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for v in items.get("v1", []))


def post(url: str, body: bytes, headers: dict, timeout: float = 10.0) -> tuple[str | None, bool]:
    """One delivery attempt (also the team backend's): (None, _) when delivered; else (why, whether
    retrying is pointless: a 4xx other than 408/409/425/429, or a bad URL)."""
    import urllib.error   # here, not at the top: `uploads enqueue` and most runs deliver nothing
    import urllib.request

    try:
        validate_url(url)
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return (None, False) if 200 <= resp.status < 300 else (f"the webhook answered {resp.status}", False)
    except urllib.error.HTTPError as e:
        return f"the webhook answered {e.code}", 400 <= e.code < 500 and e.code not in (408, 409, 425, 429)
    except UploadError as e:
        return str(e), True
    except (urllib.error.URLError, OSError, ValueError) as e:
        return f"the webhook could not be reached ({getattr(e, 'reason', None) or type(e).__name__})", False


def backoff_s(attempts: int, base: float, cap: float) -> float:
    """The wait before the next attempt after ``attempts`` failed ones (exponential, with jitter)."""
    return min(cap, base * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2)


def payload(job, delivery_id: str) -> dict:  # noqa: ANN001 - store.UploadJob
    return {"event": "upload.completed", "delivery_id": delivery_id, "job_id": job.id, "bucket": job.bucket,
            "key": job.key, "size": job.size, "sha256": job.sha256, "verified": job.verified_us is not None,
            "draft_id": job.draft_id, "title": job.title, "caption": job.caption, "duration_us": job.duration_us}


@dataclass(frozen=True)
class Delivery:
    id: str
    job_id: str
    target_name: str
    url: str
    signed: bool
    state: str
    attempts: int
    next_attempt_us: int
    last_error: str | None
    created_us: int
    delivered_us: int | None

    def to_dict(self) -> dict:
        return {"delivery_id": self.id, "state": self.state, "signed": self.signed, "attempts": self.attempts,
                "next_attempt_us": self.next_attempt_us if self.state == PENDING else None,
                "last_error": self.last_error, "delivered_us": self.delivered_us, "url": self.url}

    def status_line(self) -> str:
        label = "" if self.signed else ", unsigned"
        if self.state == DELIVERED:
            return f"delivered{label}"
        if self.state == FAILED:
            return f"failed{label}: {self.last_error}"
        if self.attempts == 0:
            return f"pending{label}"
        wait = max(0, (self.next_attempt_us - now_us()) // 1_000_000)
        return f"pending{label}: {self.last_error}; next try in {wait} s"


def _to_delivery(r: OutboxRow) -> Delivery:
    return Delivery(r.id, r.job_id, r.target_name, r.url, bool(r.signed), r.state, r.attempts, r.next_attempt_us,
                    r.last_error, r.created_us, r.delivered_us)


class Outbox:
    """The webhook outbox in studio.db. ``deliver_due`` is called by the runner's webhook thread."""

    def __init__(self, engine, secret_for, *, base: float | None = None, cap: float = 3600.0,  # noqa: ANN001
                 timeout: float = 10.0, give_up_after: float = GIVE_UP_AFTER_S):
        self.engine = engine
        # writes begin IMMEDIATE with a bounded wait (studio.db.engine), so two processes or many
        # upload lanes never hit SQLITE_BUSY_SNAPSHOT on a read-then-write transaction
        self.writes = engine.execution_options(studio_write=True)
        self.secret_for = secret_for          # target name -> secret or None (keyring, then environment)
        self.base = float(os.environ.get("STUDIO_WEBHOOK_BACKOFF", "5")) if base is None else base
        self.cap = cap
        self.timeout = timeout
        self.give_up_after = give_up_after

    @staticmethod
    def row_for(job, target) -> OutboxRow:  # noqa: ANN001 - store.UploadJob (verified), targets.Target
        """The outbox row of a job's webhook; the job store inserts it in the transaction that marks the
        job COMPLETED, so a crash can never leave a completed upload without its webhook."""
        did = uuid.uuid4().hex
        now = now_us()
        return OutboxRow(id=did, job_id=job.id, target_name=target.name, url=target.webhook_url,
                         body=json.dumps(payload(job, did), sort_keys=True), signed=not target.webhook_unsigned,
                         state=PENDING, attempts=0, next_attempt_us=now, created_us=now)

    def for_job(self, job_id: str) -> Delivery | None:
        with Session(self.engine) as s:
            row = s.scalars(select(OutboxRow).where(OutboxRow.job_id == job_id)
                            .order_by(OutboxRow.created_us.desc())).first()
            return _to_delivery(row) if row else None

    def by_job(self) -> dict[str, Delivery]:
        with Session(self.engine) as s:
            rows = s.scalars(select(OutboxRow).order_by(OutboxRow.created_us)).all()
            return {r.job_id: _to_delivery(r) for r in rows}

    def pending(self) -> list[Delivery]:
        with Session(self.engine) as s:
            rows = s.scalars(select(OutboxRow).where(OutboxRow.state == PENDING)
                             .order_by(OutboxRow.next_attempt_us)).all()
            return [_to_delivery(r) for r in rows]

    def make_all_due(self) -> None:
        """A new runner (an app start, a `studio uploads run`) tries every pending delivery at once."""
        with Session(self.writes) as s, s.begin():
            s.execute(update(OutboxRow).where(OutboxRow.state == PENDING).values(next_attempt_us=now_us()))

    def due(self, within: float = 0.0) -> list[Delivery]:
        """Pending deliveries whose next attempt is at most ``within`` seconds away."""
        limit = now_us() + int(within * 1e6)
        return [d for d in self.pending() if d.next_attempt_us <= limit]

    def deliver_due(self, stop=None) -> int:  # noqa: ANN001 - threading.Event
        """One attempt for each due delivery. Returns how many were delivered."""
        delivered = 0
        for d in self.due():
            if stop is not None and stop.is_set():
                break
            delivered += self.attempt(d.id) == DELIVERED
        return delivered

    def attempt(self, delivery_id: str) -> str:
        with Session(self.engine) as s:
            row = s.get(OutboxRow, delivery_id)
            if row is None or row.state != PENDING:
                return row.state if row else FAILED
            url, body, signed, target, created, attempts = (row.url, row.body.encode(), row.signed, row.target_name,
                                                            row.created_us, row.attempts)
        headers = {"Content-Type": "application/json", "User-Agent": "ReelStudio-Webhook",
                   DELIVERY_HEADER: delivery_id}
        error, final = None, False
        if signed:
            secret = self.secret_for(target)
            if not secret:
                error = (f"no webhook secret: store it with `studio targets add … --replace` or set ${ENV_SECRET} "
                         "where uploads run")
        if error is None:
            if signed:
                headers[HEADER] = sign(secret, int(time.time()), body)
            error, final = self._post(url, body, headers)
        return self._record(delivery_id, error, final, attempts + 1, created)

    def _post(self, url: str, body: bytes, headers: dict) -> tuple[str | None, bool]:
        return post(url, body, headers, self.timeout)

    def _record(self, delivery_id: str, error: str | None, final: bool, attempts: int, created_us: int) -> str:
        now = now_us()
        if error is None:
            values = {"state": DELIVERED, "delivered_us": now, "last_error": None}
        elif final or (now - created_us) / 1e6 >= self.give_up_after:
            values = {"state": FAILED, "last_error": error if final else f"{error}; gave up after 24 h"}
        else:
            delay = backoff_s(attempts, self.base, self.cap)
            values = {"last_error": error, "next_attempt_us": now + int(delay * 1e6)}
        with Session(self.writes) as s, s.begin():
            # only a pending row moves on: two runners never deliver one webhook twice as "new"
            s.execute(update(OutboxRow).where(OutboxRow.id == delivery_id, OutboxRow.state == PENDING)
                      .values(attempts=attempts, **values))
        state = values.get("state", PENDING)
        (log.info if state == DELIVERED else log.warning)("webhook %s: %s%s", delivery_id, state,
                                                           f" ({error})" if error else "")
        return state
