"""Storage that survives losing a machine: a SeaweedFS cluster (1 master, 3 volume servers, a filer
with S3, all from the app's own `weed`) behind the team backend.

- replication 001: a volume server killed with SIGKILL in the middle of a desktop upload costs
  nothing — the upload completes and reads back equal while that server is still dead;
- replication 000: every part is acknowledged and the upload completes, yet the object cannot be
  read while the server holding a chunk of it is down; it reads back equal once the server returns.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from urllib.parse import quote

import pytest
from backend_helpers import MiB, add_device, api, put
from seaweed_cluster import SeaweedCluster


@pytest.fixture(scope="module")
def cluster_001(tmp_path_factory):
    c = SeaweedCluster(tmp_path_factory.mktemp("cluster001"), replication="001").start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def cluster_000(tmp_path_factory):
    c = SeaweedCluster(tmp_path_factory.mktemp("cluster000"), replication="000").start()
    yield c
    c.stop()


def _read(client, bucket, key) -> bytes | None:
    """The object's bytes, or None when the storage cannot serve them whole."""
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception:  # noqa: BLE001 - any failure to read is "unreadable"
        return None


def test_replication_001_a_volume_server_killed_mid_upload_costs_nothing(cluster_001, start_backend, studio,
                                                                          tmp_path):
    from studio.uploader.engine import RetryPolicy
    from studio.uploader.targets import backend_target

    backend = start_backend(s3=cluster_001.s3_config())
    token = add_device(backend.db, "editor-pc")
    studio.targets.add(backend_target("team", backend.url, concurrency=2, part_size=5 * MiB,
                                      bandwidth_limit=8 * MiB), token=token)
    studio.uploads.retry_policy = RetryPolicy(attempts=12, base=0.5, cap=5.0)   # rides out the master noticing
    src = tmp_path / "reel.mp4"
    src.write_bytes(os.urandom(30 * MiB + 12345))
    job = studio.uploads.enqueue_file(src, "team")

    summary = {}
    runner = threading.Thread(target=lambda: summary.update(studio.uploads.run(until_idle=True)), daemon=True)
    runner.start()
    deadline = time.monotonic() + 60
    while not studio.uploads.store.parts(job.id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert studio.uploads.store.parts(job.id), "no part was acknowledged"
    cluster_001.kill_volume(0)                                   # mid-upload: parts done, parts to come
    runner.join(timeout=180)
    assert not runner.is_alive()
    done = studio.uploads.store.get(job.id)
    assert done.state == "COMPLETED", done.error
    body = _read(cluster_001.client(), cluster_001.bucket, done.key)   # read with the server still dead
    assert body is not None and hashlib.sha256(body).hexdigest() == done.sha256


def test_replication_000_acknowledged_but_unreadable_until_the_node_returns(cluster_000, start_backend):
    backend = start_backend(s3=cluster_000.s3_config())
    token = add_device(backend.db, "editor-pc")
    data = os.urandom(3 * 5 * MiB)
    status, created = api(backend.url, "POST", "/s3/multipart", token, {"filename": "reel.mp4", "type": "video/mp4"})
    key, uid = created["key"], quote(created["uploadId"], safe="")
    parts = []
    for n in (1, 2, 3):
        url = api(backend.url, "GET", f"/s3/multipart/{uid}/{n}?key={quote(key, safe='')}", token)[1]["url"]
        status, headers, _ = put(url, data[(n - 1) * 5 * MiB:n * 5 * MiB])
        assert status == 200                                     # every part acknowledged
        parts.append({"PartNumber": n, "ETag": headers["etag"]})
    status, done = api(backend.url, "POST", f"/s3/multipart/{uid}/complete?key={quote(key, safe='')}", token,
                       {"parts": parts})
    assert status == 200 and done["size"] == len(data)            # and the upload completed

    holders = cluster_000.volume_servers_of(key)
    assert holders, "the filer did not say where the chunks are"
    victim = min(holders)
    cluster_000.kill_volume(victim)
    client = cluster_000.client()
    assert _read(client, cluster_000.bucket, key) != data          # one copy only, and its server is down
    cluster_000.restart_volume(victim)
    deadline = time.monotonic() + 60
    body = None
    while time.monotonic() < deadline and body != data:
        body = _read(client, cluster_000.bucket, key)
        time.sleep(0.3)
    assert body == data                                            # back with the node
