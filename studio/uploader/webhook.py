"""The completion webhook: a signed JSON POST after an upload is COMPLETED.

Signature: header ``X-Studio-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` with the target's
secret from the keyring (absent secret = no signature header). A failing webhook is retried with
backoff and reported; it never fails the upload itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
import urllib.error
import urllib.request

log = logging.getLogger(__name__)
HEADER = "X-Studio-Signature"


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(job) -> dict:  # noqa: ANN001 - store.UploadJob
    return {"event": "upload.completed", "job_id": job.id, "bucket": job.bucket, "key": job.key,
            "size": job.size, "sha256": job.sha256, "draft_id": job.draft_id, "title": job.title,
            "caption": job.caption, "duration_us": job.duration_us}


def deliver(url: str, data: dict, secret: str | None, *, attempts: int = 4, base: float = 0.5,
            timeout: float = 10) -> str:
    """POST ``data``; returns a status line for the job ("delivered (200)" or "failed: ...")."""
    body = json.dumps(data, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "ReelStudio-Webhook"}
    if secret:
        headers[HEADER] = sign(body, secret)
    last = ""
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers, method="POST"),
                                        timeout=timeout) as resp:
                return f"delivered ({resp.status})"
        except urllib.error.HTTPError as e:
            last = f"the webhook answered {e.code}"
            if 400 <= e.code < 500 and e.code not in (408, 429):
                break
        except (urllib.error.URLError, OSError) as e:
            last = f"the webhook could not be reached ({getattr(e, 'reason', e)})"
        if attempt + 1 < attempts:
            time.sleep(random.uniform(0.5, 1.0) * base * 2 ** attempt)
    log.warning("webhook failed: %s", last)
    return f"failed: {last}"
