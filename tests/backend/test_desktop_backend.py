"""The desktop through a team server: `studio targets add NAME --backend URL`, uploads killed with
kill -9 several times then finished without starting over, an independent read-back, an expired part
URL signed again, the token from the environment, and no storage secret anywhere in the profile."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from backend_helpers import MiB, add_device, api
from uploader_helpers import make_file, sha256_of

KILLS = 4


def _runner(data_dir, env=None):
    return subprocess.Popen([sys.executable, "-m", "studio", "--data-dir", str(data_dir), "uploads", "run",
                             "--until-idle", "--json"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def _kill_mid_upload(proc, rng) -> None:
    started = threading.Event()

    def watch():
        for line in proc.stderr:
            if "IN_PROGRESS" in line:
                started.set()

    threading.Thread(target=watch, daemon=True).start()
    started.wait(60)
    time.sleep(rng.uniform(0.2, 1.6))    # ~1.7 s per file at the target's 10 MiB/s
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def _add_team(cli, backend, token, name="team", *extra):
    r = cli("targets", "add", name, "--backend", backend.url, "--part-size", "5MiB", "--concurrency", "2", *extra,
            "--json", env={"STUDIO_BACKEND_TOKEN": token})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _no_secret_in(folder: Path, *secrets: str) -> None:
    for path in folder.rglob("*"):
        if path.is_file() and "keyring" not in path.name:
            raw = path.read_bytes()
            for s in secrets:
                assert s.encode() not in raw, f"{s[:4]}… found in {path}"


def test_desktop_uploads_through_the_backend_with_kills(cli, studio, data_dir, start_backend, s3_server, raw_s3,
                                                       tmp_path, webhook_receiver):
    rng = random.Random(14)
    backend = start_backend(webhook=webhook_receiver.url, webhook_secret="team-hook")
    token = add_device(backend.db, "creator-laptop")
    added = _add_team(cli, backend, token, "team", "--bandwidth-limit", "10MiB")
    assert added["device"]["name"] == "creator-laptop" and added["target"]["backend_url"] == backend.url
    verdict = cli("targets", "test", "team", "--json")
    assert verdict.returncode == 0 and json.loads(verdict.stdout)["ok"], verdict.stdout

    files = {}
    for i in range(2):
        src = make_file(tmp_path / f"reel{i}.mp4", 3 * 5 * MiB + rng.randrange(1, 3 * MiB))
        job = studio.uploads.enqueue_file(src, "team")
        files[job.id] = sha256_of(src.read_bytes())

    acked, mid_upload = {}, 0
    for _ in range(KILLS):
        if not studio.uploads.store.list(states=("PENDING", "IN_PROGRESS", "RETRYING")):
            break
        _kill_mid_upload(_runner(data_dir), rng)
        for job in studio.uploads.list():
            assert job.bytes_done >= acked.get(job.id, 0)    # never back to zero
            acked[job.id] = job.bytes_done
            mid_upload += 0 < job.bytes_done < job.size
            if job.state != "COMPLETED" and job.upload_id:
                # what the profile calls acknowledged, the storage really has (asked without the backend)
                try:
                    listed = raw_s3.list_parts(Bucket=s3_server["bucket"], Key=job.key, UploadId=job.upload_id)
                except raw_s3.exceptions.NoSuchUpload:
                    # killed after the backend completed it, before COMPLETED was committed: the next run proves it
                    assert raw_s3.head_object(Bucket=s3_server["bucket"], Key=job.key)["ContentLength"] == job.size
                    continue
                server = {p["PartNumber"]: p["ETag"] for p in listed.get("Parts", [])}
                assert all(server.get(n) == p.etag for n, p in studio.uploads.store.parts(job.id).items())
    assert mid_upload >= 1    # the kills really landed in the middle of uploads
    proc = _runner(data_dir)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    me = api(backend.url, "GET", "/s3/device", token)[1]
    for job in studio.uploads.list():
        assert job.state == "COMPLETED", job.error
        assert job.key.startswith(me["prefix"])                       # the server chose the key
        body = raw_s3.get_object(Bucket=s3_server["bucket"], Key=job.key)["Body"].read()
        assert sha256_of(body) == files[job.id] == job.sha256         # an independent read-back
    assert raw_s3.list_multipart_uploads(Bucket=s3_server["bucket"], Prefix=me["prefix"]).get("Uploads", []) == []
    hooks = webhook_receiver.wait(2)
    assert sorted(json.loads(h["body"])["key"] for h in hooks) == sorted(j.key for j in studio.uploads.list())

    # the profile never held the bucket's keys, and the token only lives in the keyring
    _no_secret_in(data_dir, s3_server["secret_key"], s3_server["access_key"], token)
    link = studio.uploads.link_info(studio.uploads.list()[0].id)   # signed by the backend, for this device only
    assert link["url"].startswith(s3_server["endpoint"]) and s3_server["secret_key"] not in link["url"]
    import urllib.request
    with urllib.request.urlopen(link["url"], timeout=30) as r:
        assert sha256_of(r.read()) == studio.uploads.list()[0].sha256


def test_expired_part_url_is_signed_again_by_the_client(start_backend, s3_server, raw_s3):
    from studio.uploader.backend_client import BackendS3Client

    backend = start_backend(ttl=1)
    token = add_device(backend.db, "slow-laptop")

    class LateSender(BackendS3Client):
        """Waits past the URL's lifetime the first time, as a part queued behind slow ones would."""
        signed = 0

        def sign_part(self, key, upload_id, part_number):
            url = super().sign_part(key, upload_id, part_number)
            LateSender.signed += 1
            if LateSender.signed == 1:
                time.sleep(2.5)
            return url

    client = LateSender(backend.url, token)
    created = client.create_multipart_upload(Bucket="reels", Key="late.mp4", ContentType="video/mp4")
    answer = client.upload_part(Bucket="reels", Key=created["Key"], UploadId=created["UploadId"], PartNumber=1,
                                Body=b"late bytes", ContentLength=10)
    assert LateSender.signed == 2 and answer["ETag"]
    client.complete_multipart_upload(Bucket="reels", Key=created["Key"], UploadId=created["UploadId"],
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": answer["ETag"]}]})
    assert raw_s3.get_object(Bucket=s3_server["bucket"], Key=created["Key"])["Body"].read() == b"late bytes"


def test_token_from_the_environment_and_a_wrong_token(cli, studio, data_dir, start_backend, tmp_path, raw_s3,
                                                       s3_server):
    backend = start_backend()
    token = add_device(backend.db, "ci-runner")
    _add_team(cli, backend, token, "team-env", "--credentials", "env")
    src = make_file(tmp_path / "clip.mp4", 6 * MiB)
    job = studio.uploads.enqueue_file(src, "team-env")

    r = cli("uploads", "run", "--until-idle", "--json", env={"STUDIO_BACKEND_TOKEN": ""})
    failed = studio.uploads.store.get(job.id)
    assert failed.state == "FAILED" and "STUDIO_BACKEND_TOKEN" in failed.error, (r.stderr, failed.error)

    studio.uploads.retry(job.id)
    r = cli("uploads", "run", "--until-idle", "--json", env={"STUDIO_BACKEND_TOKEN": token})
    assert r.returncode == 0, r.stderr
    done = studio.uploads.store.get(job.id)
    assert done.state == "COMPLETED", done.error
    assert raw_s3.get_object(Bucket=s3_server["bucket"], Key=done.key)["Body"].read() == src.read_bytes()
    _no_secret_in(data_dir, token, s3_server["secret_key"])

    # a wrong token is refused when the target is added, with a sentence, and nothing is saved
    import pytest

    from studio.uploader.errors import UploadError

    with pytest.raises(UploadError, match="refused this device's token"):
        studio.targets.add_backend("bad", backend.url, token="rsd_not-a-token")
    assert "bad" not in [t.name for t in studio.targets.list()]


def test_backend_down_mid_upload_pauses_offline_and_resumes(studio, start_backend, s3_server, raw_s3, tmp_path):
    from studio.uploader.engine import RetryPolicy
    from studio.uploader.targets import backend_target

    backend = start_backend()
    token = add_device(backend.db, "cafe-laptop")
    studio.targets.add(backend_target("team", backend.url, concurrency=1, part_size=5 * MiB,
                                      bandwidth_limit=8 * MiB), token=token)
    studio.uploads.retry_policy = RetryPolicy(attempts=3, base=0.05, cap=0.2)
    src = make_file(tmp_path / "reel.mp4", 5 * 5 * MiB + 99)
    job = studio.uploads.enqueue_file(src, "team")
    stop = threading.Event()
    runner = threading.Thread(target=lambda: studio.uploads.run(stop=stop, offline_probe=0.5), daemon=True)
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while not studio.uploads.store.parts(job.id) and time.monotonic() < deadline:
            time.sleep(0.05)
        backend.stop()                                          # the team server goes away mid-upload
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            j = studio.uploads.store.get(job.id)
            if j.state == "PAUSED":
                break
            time.sleep(0.1)
        assert (j.state, j.paused_reason) == ("PAUSED", "offline"), (j.state, j.error)
        assert 0 < j.bytes_done < j.size
        start_backend(db=backend.db, port=backend.port)         # back: the job resumes by itself
        deadline = time.monotonic() + 120
        while studio.uploads.store.get(job.id).state != "COMPLETED" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        runner.join(timeout=30)
    done = studio.uploads.store.get(job.id)
    assert done.state == "COMPLETED", done.error
    assert raw_s3.get_object(Bucket=s3_server["bucket"], Key=done.key)["Body"].read() == src.read_bytes()
