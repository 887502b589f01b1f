"""Helpers shared by the uploader tests (not fixtures)."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

MiB = 1024 * 1024


def add_target(studio, s3_server, name="seaweed", *, endpoint=None, secret=None, bucket=None, webhook_secret=None,
               replace=False, **kw):
    """A target on the session server with a key prefix unique to the test (the sweeper stays in its lane)."""
    from studio.uploader.targets import Target

    t = Target(name=name, bucket=bucket or s3_server["bucket"], endpoint_url=endpoint or s3_server["endpoint"],
               key_template=kw.pop("key_template", f"t-{uuid.uuid4().hex[:10]}/{{name}}"), addressing_style="path",
               part_size=kw.pop("part_size", 5 * MiB), concurrency=kw.pop("concurrency", 2),
               credential_source="keyring", **kw)
    studio.targets.add(t, access_key=s3_server["access_key"], secret_key=secret or s3_server["secret_key"],
                       webhook_secret=webhook_secret, replace_existing=replace)
    return t


def make_file(path: Path, size: int) -> Path:
    path.write_bytes(os.urandom(size))
    return path


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fast_retries(studio) -> None:
    """Short backoffs so fault tests finish quickly (the policy itself is what production uses)."""
    from studio.uploader.engine import RetryPolicy

    studio.uploads.retry_policy = RetryPolicy(attempts=8, base=0.05, cap=0.5)
