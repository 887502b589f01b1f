"""The upload engine and queue against a real SeaweedFS: the user's stories."""

from __future__ import annotations

import threading

import pytest
from uploader_helpers import MiB, add_target, fast_retries, make_file, sha256_of


def run_until_idle(studio, **kw):
    return studio.uploads.run(until_idle=True, poll=0.05, **kw)


def test_multipart_upload_matches_independent_download(studio, s3_server, raw_s3, tmp_path):
    add_target(studio, s3_server)
    src = make_file(tmp_path / "reel.mp4", 12 * MiB + 321)
    job = studio.uploads.enqueue_file(src, "seaweed")
    assert job.part_size == 5 * MiB and job.part_count == 3
    progress = []
    run_until_idle(studio, on_event=lambda k, j, p: progress.append(p[0]) if k == "progress" else None)
    job = studio.uploads.get(job.id)
    assert job.state == "COMPLETED", job.error
    body = raw_s3.get_object(Bucket=job.bucket, Key=job.key)["Body"].read()
    assert sha256_of(body) == sha256_of(src.read_bytes()) == job.sha256
    assert progress == sorted(progress) and progress[-1] == job.size
    assert job.bytes_done == job.size
    assert not (studio.layout.staging / f"upload-{job.id}-reel.mp4").exists()  # snapshot gone after COMPLETED
    assert src.exists()


def test_each_byte_is_read_once_and_hashed_from_what_is_sent(studio, s3_server, raw_s3, tmp_path, monkeypatch):
    """No pass over the file before the first part and none after the last: the staged file is read once,
    the whole-file sha256 comes from the bytes sent, and it is the object's."""
    import os

    add_target(studio, s3_server, concurrency=3)
    src = make_file(tmp_path / "once.mp4", 4 * 5 * MiB + 99)
    job = studio.uploads.enqueue_file(src, "seaweed")
    assert job.sha256 is None   # nothing was hashed before the upload
    staged = os.stat(job.staging_path)
    read = []

    def counting(real):
        def wrapped(fd, *args):
            n = real(fd, *args)
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) == (staged.st_dev, staged.st_ino):
                read.append(n if isinstance(n, int) else len(n))
            return n
        return wrapped

    monkeypatch.setattr(os, "preadv", counting(os.preadv))
    monkeypatch.setattr(os, "pread", counting(os.pread))
    run_until_idle(studio)
    job = studio.uploads.get(job.id)
    assert job.state == "COMPLETED", job.error
    assert sum(read) == job.size
    assert sha256_of(raw_s3.get_object(Bucket=job.bucket, Key=job.key)["Body"].read()) == job.sha256 == \
        sha256_of(src.read_bytes())


def test_acknowledged_parts_are_checked_by_content_when_resuming(studio, s3_server, raw_s3, tmp_path):
    """A sent part's bytes changed in the frozen copy behind the uploader's back (its mtime put back):
    the resumed run re-reads the acknowledged parts, sees it, and never completes with other bytes."""
    import os

    add_target(studio, s3_server, concurrency=1)
    src = make_file(tmp_path / "r.mp4", 4 * 5 * MiB + 1)
    job = studio.uploads.enqueue_file(src, "seaweed")
    _run_some_parts(studio, 2)
    assert studio.uploads.get(job.id).bytes_done >= 5 * MiB
    st = os.stat(job.staging_path)
    with open(job.staging_path, "r+b") as f:
        f.write(b"damaged")
    os.utime(job.staging_path, ns=(st.st_atime_ns, st.st_mtime_ns))
    run_until_idle(studio)
    done = studio.uploads.get(job.id)
    assert done.state == "COMPLETED", done.error
    assert sha256_of(raw_s3.get_object(Bucket=done.bucket, Key=done.key)["Body"].read()) == done.sha256 == \
        sha256_of(src.read_bytes())


def test_wrong_credentials_fail_with_a_clear_message(studio, s3_server, tmp_path):
    add_target(studio, s3_server, secret="not-the-secret")
    job = studio.uploads.enqueue_file(make_file(tmp_path / "a.mp4", 1 * MiB), "seaweed")
    run_until_idle(studio)
    job = studio.uploads.get(job.id)
    assert job.state == "FAILED"
    assert "secret key" in job.error and "credentials" in job.error
    assert s3_server["secret_key"] not in job.error


def test_missing_bucket_fails_with_a_clear_message(studio, s3_server, tmp_path):
    add_target(studio, s3_server, bucket="no-such-bucket-here")
    job = studio.uploads.enqueue_file(make_file(tmp_path / "a.mp4", 1 * MiB), "seaweed")
    run_until_idle(studio)
    job = studio.uploads.get(job.id)
    assert job.state == "FAILED"
    assert "no-such-bucket-here does not exist" in job.error


def _run_some_parts(studio, parts: int) -> None:
    """Run the queue until ``parts`` parts are acknowledged, then stop as a closing app would."""
    stop = threading.Event()
    seen = []

    def on_event(kind, job_id, payload):
        if kind == "progress" and payload[0] > 0:
            seen.append(payload[0])
            if len(seen) >= parts:
                stop.set()

    studio.uploads.run(stop=stop, on_event=on_event, poll=0.05)


def test_resume_sends_only_missing_parts(studio, s3_server, raw_s3, tmp_path):
    add_target(studio, s3_server, concurrency=1)
    src = make_file(tmp_path / "long.mp4", 4 * 5 * MiB + 7)
    job = studio.uploads.enqueue_file(src, "seaweed")
    _run_some_parts(studio, 2)
    job = studio.uploads.get(job.id)
    assert job.state == "IN_PROGRESS" and job.upload_id
    acked = job.bytes_done
    assert 0 < acked < job.size
    studio.uploads.bytes_sent = 0
    run_until_idle(studio)
    job = studio.uploads.get(job.id)
    assert job.state == "COMPLETED", job.error
    assert studio.uploads.bytes_sent <= job.size - acked + 1 * job.part_size
    body = raw_s3.get_object(Bucket=job.bucket, Key=job.key)["Body"].read()
    assert sha256_of(body) == job.sha256


def test_upload_aborted_behind_the_apps_back_restarts_and_completes(studio, s3_server, raw_s3, tmp_path):
    add_target(studio, s3_server, concurrency=1)
    src = make_file(tmp_path / "b.mp4", 3 * 5 * MiB)
    job = studio.uploads.enqueue_file(src, "seaweed")
    _run_some_parts(studio, 1)
    job = studio.uploads.get(job.id)
    raw_s3.abort_multipart_upload(Bucket=job.bucket, Key=job.key, UploadId=job.upload_id)
    run_until_idle(studio)
    done = studio.uploads.get(job.id)
    assert done.state == "COMPLETED", done.error
    assert done.upload_id != job.upload_id
    assert "started again" in done.notice
    # the sha256 is known once the bytes were read and sent (no pass over the file before the first part)
    assert sha256_of(raw_s3.get_object(Bucket=job.bucket, Key=job.key)["Body"].read()) == done.sha256 == \
        sha256_of(src.read_bytes())


def test_pause_resume_cancel_and_retry(studio, s3_server, raw_s3, tmp_path):
    add_target(studio, s3_server, concurrency=1)
    job = studio.uploads.enqueue_file(make_file(tmp_path / "c.mp4", 2 * 5 * MiB), "seaweed")
    studio.uploads.pause(job.id[:8])
    run_until_idle(studio)   # nothing runnable: returns without touching the paused job
    assert studio.uploads.get(job.id).state == "PAUSED"
    studio.uploads.resume(job.id)
    _run_some_parts(studio, 1)
    job = studio.uploads.get(job.id)
    studio.uploads.cancel(job.id)
    cancelled = studio.uploads.get(job.id)
    assert cancelled.state == "CANCELLED"
    uploads = raw_s3.list_multipart_uploads(Bucket=job.bucket, Prefix=job.key).get("Uploads", [])
    assert job.upload_id not in [u["UploadId"] for u in uploads]   # aborted on the server
    studio.uploads.retry(job.id)
    run_until_idle(studio)
    done = studio.uploads.get(job.id)
    assert done.state == "COMPLETED", done.error
    with pytest.raises(Exception, match="cannot be paused"):
        studio.uploads.pause(job.id)


def test_sweeper_aborts_only_uploads_this_profile_created(studio, s3_server, raw_s3, tmp_path):
    t = add_target(studio, s3_server, concurrency=1)
    prefix = t.prefix()
    job = studio.uploads.enqueue_file(make_file(tmp_path / "o.mp4", 3 * 5 * MiB), "seaweed")
    _run_some_parts(studio, 1)
    ours_abandoned = studio.uploads.get(job.id).upload_id
    # A restart whose abort failed: the id this profile created is no longer owned by the job.
    studio.uploads.store.update(job.id, upload_id=None)
    studio.uploads.store.drop_parts(job.id)
    # A crash between creating an upload and committing its id: the intent row is all that is left.
    studio.uploads.store.record_intent(studio.uploads.get(job.id))
    crashed = raw_s3.create_multipart_upload(Bucket=t.bucket, Key=job.key)["UploadId"]
    # Another device uploading the very same key, another under the prefix, and one outside it:
    same_key = raw_s3.create_multipart_upload(Bucket=t.bucket, Key=job.key)["UploadId"]
    neighbour = raw_s3.create_multipart_upload(Bucket=t.bucket, Key=prefix + "other-device.mp4")["UploadId"]
    foreign = raw_s3.create_multipart_upload(Bucket=t.bucket, Key="someone-else/x.mp4")["UploadId"]
    studio.uploads.pause(job.id)

    def left():
        return [u["UploadId"] for u in raw_s3.list_multipart_uploads(Bucket=t.bucket).get("Uploads", [])]

    try:
        assert studio.uploads.sweep("seaweed") == 2
        gone = {ours_abandoned, crashed, same_key} - set(left())
        assert ours_abandoned in gone and len(gone) == 2   # the intent claimed exactly one of the two
        assert neighbour in left() and foreign in left()
        reported = {f["upload_id"] for f in studio.uploads.last_sweep["seaweed"]["foreign"]}
        assert neighbour in reported and (({crashed, same_key} - gone) <= reported)
        assert studio.uploads.sweep("seaweed") == 0    # nothing else is ever taken, however old
    finally:
        for uid, key in ((foreign, "someone-else/x.mp4"), (neighbour, prefix + "other-device.mp4"),
                         (same_key, job.key), (crashed, job.key)):
            try:
                raw_s3.abort_multipart_upload(Bucket=t.bucket, Key=key, UploadId=uid)
            except Exception:
                pass


def test_changed_original_restarts_cleanly(studio, s3_server, raw_s3, tmp_path):
    add_target(studio, s3_server, concurrency=1)
    src = make_file(tmp_path / "d.mp4", 2 * 5 * MiB + 1)
    job = studio.uploads.enqueue_file(src, "seaweed")
    _run_some_parts(studio, 1)
    with open(src, "r+b") as f:   # the user edits the original between two runs
        f.write(b"changed!")
    run_until_idle(studio)
    done = studio.uploads.get(job.id)
    assert done.state == "COMPLETED", done.error
    assert "changed" in done.notice and done.sha256 != job.sha256
    assert sha256_of(raw_s3.get_object(Bucket=job.bucket, Key=job.key)["Body"].read()) == done.sha256 == \
        sha256_of(src.read_bytes())


def test_unreachable_endpoint_pauses_and_resumes_by_itself(studio, s3_server, tmp_path):
    import socket

    from studio.uploader.targets import Target

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    add_target(studio, s3_server, endpoint=f"http://127.0.0.1:{port}")
    fast_retries(studio)
    job = studio.uploads.enqueue_file(make_file(tmp_path / "e.mp4", 1 * MiB), "seaweed")
    run_until_idle(studio)
    job = studio.uploads.get(job.id)
    assert job.state == "PAUSED" and job.paused_reason == "offline"
    assert "cannot be reached" in job.error
    # The network "returns": the same target now points at the live server.
    t = studio.targets.get("seaweed")
    studio.targets.add(Target(**{**t.__dict__, "endpoint_url": s3_server["endpoint"]}),
                       access_key=s3_server["access_key"], secret_key=s3_server["secret_key"], replace_existing=True)
    stop = threading.Event()
    studio.uploads.run(stop=stop, poll=0.05, offline_probe=0.1,
                       on_event=lambda k, j, p: stop.set() if p in ("COMPLETED", "FAILED") else None)
    assert studio.uploads.get(job.id).state == "COMPLETED"


def test_part_size_is_frozen_within_limits():
    from studio.uploader.targets import MAX_PARTS, MIN_PART, plan_part_size

    assert plan_part_size(10, 1) == MIN_PART
    big = 200 * 1024**3
    ps = plan_part_size(big, 8 * MiB)
    assert -(-big // ps) <= MAX_PARTS and ps >= 8 * MiB


def test_progress_meter_never_goes_back_and_is_rate_limited():
    from studio.uploader.progress import ProgressMeter

    now = [0.0]
    m = ProgressMeter(max_per_second=10, clock=lambda: now[0])
    shown = []
    for i, done in enumerate([0, 5, 3, 10, 10, 200, 15]):
        now[0] = i * 0.01
        p = m.update(done, 100)
        if p:
            shown.append(p.done)
    assert shown == [0, 100]   # 0.06 s in: one update, then the finish (capped at 100%)
    assert m.current(100).done == 100


def test_permanent_errors_have_sentences():
    from botocore.exceptions import ClientError

    from studio.uploader.errors import classify
    from studio.uploader.errors import PermanentUploadError, TransientUploadError

    def err(code, status):
        return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                           "UploadPart")

    skew = classify(err("RequestTimeTooSkewed", 403))
    assert isinstance(skew, PermanentUploadError) and "clock" in str(skew)
    assert isinstance(classify(err("SlowDown", 503)), TransientUploadError)
    assert classify(err("SlowDown", 503)).slow_down
    assert isinstance(classify(err("InternalError", 500)), TransientUploadError)
    assert "access key" in str(classify(err("InvalidAccessKeyId", 403)))


@pytest.mark.parametrize("algorithm, when_required", [("CRC32", False), ("NONE", True), ("SHA256", True)])
def test_checksum_options(studio, s3_server, raw_s3, tmp_path, algorithm, when_required):
    add_target(studio, s3_server, checksum_algorithm=algorithm, checksum_when_required=when_required)
    job = studio.uploads.enqueue_file(make_file(tmp_path / "k.mp4", 5 * MiB + 3), "seaweed")
    run_until_idle(studio)
    job = studio.uploads.get(job.id)
    assert job.state == "COMPLETED", job.error
    parts = studio.uploads.store.parts(job.id)
    assert all((p.checksum is None) == (algorithm == "NONE") for p in parts.values())
    assert sha256_of(raw_s3.get_object(Bucket=job.bucket, Key=job.key)["Body"].read()) == job.sha256


def test_crc32c_without_awscrt_is_refused_clearly(studio, s3_server):
    import importlib.util

    from studio.uploader.errors import UploadError

    if importlib.util.find_spec("awscrt") is not None:
        pytest.skip("awscrt is installed here: CRC32C is available")
    with pytest.raises(UploadError, match="awscrt"):
        add_target(studio, s3_server, checksum_algorithm="CRC32C")


def test_bandwidth_limit_spaces_parts_out():
    import time

    from studio.uploader.engine import Bandwidth

    bw = Bandwidth(20 * MiB)
    t0 = time.monotonic()
    for _ in range(3):
        bw.acquire(5 * MiB)
    # the first part goes at once, the next two wait 0.25 s each: at least the budget, never less
    assert time.monotonic() - t0 >= 0.5


def test_unmetered_only_target_waits_for_an_unmetered_network(studio, s3_server, tmp_path, monkeypatch):
    from studio.uploader import network

    metered = [True]
    monkeypatch.setattr(network, "is_metered", lambda: metered[0])
    add_target(studio, s3_server, unmetered_only=True)
    job = studio.uploads.enqueue_file(make_file(tmp_path / "m.mp4", 1 * MiB), "seaweed")
    run_until_idle(studio)
    waiting = studio.uploads.get(job.id)
    assert (waiting.state, waiting.paused_reason) == ("PAUSED", "metered")
    assert "unmetered" in waiting.error
    metered[0] = False
    stop = threading.Event()
    studio.uploads.run(stop=stop, poll=0.05, offline_probe=0.1,
                       on_event=lambda k, j, p: stop.set() if p in ("COMPLETED", "FAILED") else None)
    assert studio.uploads.get(job.id).state == "COMPLETED"
