"""kill -9 of `studio uploads run` at random points, 20 times; then it finishes without starting over."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

from uploader_helpers import MiB, add_target, make_file, sha256_of

KILLS = 20


def _start_runner(data_dir):
    return subprocess.Popen([sys.executable, "-m", "studio", "--data-dir", str(data_dir), "uploads", "run",
                             "--until-idle", "--json"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _kill_at_random_point(proc, rng) -> None:
    """Mostly while parts are on the wire (after the runner reports IN_PROGRESS), sometimes during start-up."""
    started = threading.Event()

    def watch():
        for line in proc.stderr:
            if "IN_PROGRESS" in line:
                started.set()

    threading.Thread(target=watch, daemon=True).start()
    if rng.random() < 0.2:
        time.sleep(rng.uniform(0.0, 1.0))
    else:
        started.wait(30)
        time.sleep(rng.uniform(0.0, 2.2))   # the file takes ~2.3 s at the target's 10 MiB/s
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def _server_parts(raw_s3, job, parts):
    if not job.upload_id:
        return {}
    try:
        resp = raw_s3.list_parts(Bucket=job.bucket, Key=job.key, UploadId=job.upload_id)
    except raw_s3.exceptions.NoSuchUpload:
        # Killed after CompleteMultipartUpload, before COMPLETED was committed: the parts are now the
        # object, whose multipart ETag is the MD5 of exactly these parts' MD5s (the next run proves it).
        head = raw_s3.head_object(Bucket=job.bucket, Key=job.key)
        want = hashlib.md5(b"".join(bytes.fromhex(p.etag.strip('"')) for _n, p in sorted(parts.items())))
        assert head["ETag"].strip('"') == f"{want.hexdigest()}-{len(parts)}", job.id
        print(f"job {job.id[:8]}: killed between completion and its commit")
        return {n: p.etag for n, p in parts.items()}
    return {p["PartNumber"]: p["ETag"] for p in resp.get("Parts", [])}


def test_kill9_at_random_points_then_resume(studio, s3_server, raw_s3, data_dir, tmp_path):
    rng = random.Random(os.environ.get("STUDIO_KILL_SEED", "6"))
    target = add_target(studio, s3_server, concurrency=2, bandwidth_limit=10 * MiB)
    files = {}

    def enqueue():
        src = make_file(tmp_path / f"take{len(files)}.mp4", 4 * 5 * MiB + rng.randrange(1, 3 * MiB))
        job = studio.uploads.enqueue_file(src, "seaweed")
        files[job.id] = sha256_of(src.read_bytes())

    enqueue()
    acked_before_kill = {}
    mid_upload = 0
    for _ in range(KILLS):
        if not studio.uploads.store.list(states=("PENDING", "IN_PROGRESS", "RETRYING")):
            enqueue()
        _kill_at_random_point(_start_runner(data_dir), rng)
        for job in studio.uploads.list():
            parts = studio.uploads.store.parts(job.id)
            if job.state == "COMPLETED":
                continue
            # What the database calls acknowledged, the server really has (invariant 4).
            server = _server_parts(raw_s3, job, parts)
            assert all(n in server and server[n] == p.etag for n, p in parts.items()), job.id
            assert job.bytes_done >= acked_before_kill.get(job.id, 0)   # never back to zero
            acked_before_kill[job.id] = job.bytes_done
            mid_upload += 0 < job.bytes_done < job.size
    assert mid_upload >= KILLS // 4   # the kills really landed in the middle of uploads
    unfinished = [j for j in studio.uploads.list() if j.state != "COMPLETED"]
    budget = sum(j.size - j.bytes_done for j in unfinished) + target.concurrency * target.part_size
    proc = _start_runner(data_dir)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["bytes_sent"] <= budget
    for job in studio.uploads.list():
        assert job.state == "COMPLETED", job.error
        body = raw_s3.get_object(Bucket=job.bucket, Key=job.key)["Body"].read()
        assert sha256_of(body) == files[job.id] == job.sha256
    left = raw_s3.list_multipart_uploads(Bucket=target.bucket, Prefix=target.prefix()).get("Uploads", [])
    assert left == []   # nothing orphaned: the sweeper aborted uploads created just before a kill
