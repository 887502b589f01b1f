"""Resets mid-part, stalls, 503 SlowDown and latency between the app and the storage."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from fault_proxy import FaultProxy
from uploader_helpers import MiB, add_target, fast_retries, make_file, sha256_of


def test_upload_survives_resets_stalls_slowdowns_and_latency(studio, s3_server, raw_s3, tmp_path):
    proxy = FaultProxy(urlparse(s3_server["endpoint"]).port,
                       ["reset", "latency", "slowdown", "stall", "ok", "reset", "slowdown", "latency", "reset"],
                       stall_seconds=3)
    try:
        add_target(studio, s3_server, endpoint=proxy.endpoint, concurrency=3)
        fast_retries(studio)
        studio.uploads.read_timeout = 1.5   # a stalled part is given up after this and retried
        src = make_file(tmp_path / "faulty.mp4", 6 * 5 * MiB + 99)
        job = studio.uploads.enqueue_file(src, "seaweed")
        progress, states = [], []

        def on_event(kind, job_id, payload):
            (progress if kind == "progress" else states).append(payload)

        studio.uploads.run(until_idle=True, poll=0.05, on_event=on_event)
    finally:
        proxy.close()
    job = studio.uploads.get(job.id)
    assert job.state == "COMPLETED", job.error
    assert {"reset", "stall", "slowdown", "latency"} <= set(proxy.applied)
    assert "RETRYING" in states
    body = raw_s3.get_object(Bucket=job.bucket, Key=job.key)["Body"].read()
    assert sha256_of(body) == sha256_of(src.read_bytes())
    # Progress counts every part exactly once: each step is one part, the steps add up to the file.
    done = [d for d, _ in progress]
    steps = [b - a for a, b in zip(done, done[1:]) if b != a]
    assert done == sorted(done) and done[-1] == job.size
    assert sum(steps) + done[0] == job.size
    assert all(s in (job.part_size, job.size % job.part_size) for s in steps)


def test_lost_completion_response_is_recognised_by_head(studio, s3_server, raw_s3, tmp_path):
    proxy = FaultProxy(urlparse(s3_server["endpoint"]).port, [], complete_faults=["lost"])
    try:
        add_target(studio, s3_server, endpoint=proxy.endpoint)
        fast_retries(studio)
        src = make_file(tmp_path / "lost.mp4", 2 * 5 * MiB + 5)
        job = studio.uploads.enqueue_file(src, "seaweed")
        studio.uploads.run(until_idle=True, poll=0.05)
    finally:
        proxy.close()
    assert "complete:lost" in proxy.applied
    job = studio.uploads.get(job.id)
    assert job.state == "COMPLETED", job.error
    assert sha256_of(raw_s3.get_object(Bucket=job.bucket, Key=job.key)["Body"].read()) == job.sha256


@pytest.mark.parametrize("when_required", [False, True], ids=["trailer-checksum", "header-checksum"])
def test_a_part_damaged_in_transit_is_caught_and_resent(studio, s3_server, raw_s3, tmp_path, when_required):
    proxy = FaultProxy(urlparse(s3_server["endpoint"]).port, ["corrupt", "ok", "corrupt"])
    try:
        add_target(studio, s3_server, endpoint=proxy.endpoint, checksum_when_required=when_required)
        fast_retries(studio)
        src = make_file(tmp_path / "bits.mp4", 2 * 5 * MiB + 17)
        job = studio.uploads.enqueue_file(src, "seaweed")
        studio.uploads.run(until_idle=True, poll=0.05)
    finally:
        proxy.close()
    assert proxy.applied.count("corrupt") == 2
    job = studio.uploads.get(job.id)
    assert job.state == "COMPLETED", job.error
    assert sha256_of(raw_s3.get_object(Bucket=job.bucket, Key=job.key)["Body"].read()) == sha256_of(src.read_bytes())
