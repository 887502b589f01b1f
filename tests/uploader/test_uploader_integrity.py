"""Integrity at the seams (issue 10): what COMPLETED means, frozen files, one export per job,
change by content, lying servers, broken ListParts, and stopping on a signal. Real SeaweedFS,
real files, real processes where the claim is about processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import urlparse

import pytest
from fault_proxy import FaultProxy
from uploader_helpers import MiB, add_target, fast_retries, make_file, sha256_of


def run_until_idle(studio, **kw):
    return studio.uploads.run(until_idle=True, poll=0.05, **kw)


def _run_some_parts(studio, parts: int) -> None:
    stop = threading.Event()
    seen = []

    def on_event(kind, job_id, payload):
        if kind == "progress" and payload[0] > 0:
            seen.append(payload[0])
            if len(seen) >= parts:
                stop.set()

    studio.uploads.run(stop=stop, on_event=on_event, poll=0.05)


def _object_sha(raw_s3, job) -> str:
    return sha256_of(raw_s3.get_object(Bucket=job.bucket, Key=job.key)["Body"].read())


# -- 1. honest verification, frozen files -------------------------------------------------------
def test_writing_into_the_original_mid_upload_restarts_it_at_once_never_a_mix(studio, s3_server, raw_s3,
                                                                              tmp_path):
    """The job's link shares the original's bytes, so a program writing into the file changes them: the
    engine sees the fingerprint change within a control poll, stops sending, starts again from zero
    with a sentence, and the object is the file as it is now, with the sha256 the job reports."""
    add_target(studio, s3_server, concurrency=1, bandwidth_limit=10 * MiB)
    src = make_file(tmp_path / "mine.mp4", 6 * 5 * MiB + 11)
    original = src.read_bytes()
    job = studio.uploads.enqueue_file(src, "seaweed")
    edited, events = [], []

    def on_event(kind, job_id, payload):
        events.append((kind, payload))
        if kind == "progress" and payload[0] > 0 and not edited:
            with open(src, "r+b") as f:      # the user's program writes into the original while it uploads
                f.seek(7 * MiB)
                f.write(b"X" * MiB)
            edited.append(studio.uploads.store.parts(job_id))

    run_until_idle(studio, on_event=on_event)
    job = studio.uploads.get(job.id)
    assert edited and job.state == "COMPLETED", job.error
    assert "changed while it was uploading" in job.notice
    assert _object_sha(raw_s3, job) == job.sha256 == sha256_of(src.read_bytes()) != sha256_of(original)
    kinds = [k for k, _ in events]
    restart = kinds.index("restart")
    sent_before_restart = max(p[0] for k, p in events[:restart] if k == "progress")
    assert sent_before_restart <= len(edited[0]) * 5 * MiB + 2 * 5 * MiB   # stopped within a part or two


def test_saving_the_original_anew_mid_upload_cannot_change_what_is_sent(studio, s3_server, raw_s3, tmp_path):
    """Saved the usual way (a new file renamed over the old one), the original no longer shares the
    job's bytes: the upload in flight goes on with the bytes queued, as from a copy."""
    add_target(studio, s3_server, concurrency=1, bandwidth_limit=20 * MiB)
    src = make_file(tmp_path / "mine.mp4", 3 * 5 * MiB + 11)
    original = src.read_bytes()
    job = studio.uploads.enqueue_file(src, "seaweed")
    edited = []

    def on_event(kind, job_id, payload):
        if kind == "progress" and payload[0] > 0 and not edited:
            new = tmp_path / "mine.mp4.tmp"
            new.write_bytes(b"the re-export" + original[13:])
            os.replace(new, src)
            edited.append(True)

    run_until_idle(studio, on_event=on_event)
    job = studio.uploads.get(job.id)
    assert edited and job.state == "COMPLETED", job.error
    assert not job.notice
    assert _object_sha(raw_s3, job) == job.sha256 == sha256_of(original)


def test_a_queued_file_is_linked_at_once_and_survives_the_original_being_deleted(studio, s3_server, raw_s3,
                                                                                  tmp_path):
    """Queueing costs no copy (the job's hard link keeps the bytes); the upload freezes its own private
    copy as it starts, and the original can be deleted in between without losing the upload."""
    add_target(studio, s3_server)
    src = make_file(tmp_path / "gone.mp4", 2 * 5 * MiB + 7)
    original = src.read_bytes()
    job = studio.uploads.enqueue_file(src, "seaweed")
    staged = os.stat(job.staging_path)
    assert (staged.st_ino, staged.st_nlink) == (os.stat(src).st_ino, 2)
    src.unlink()
    run_until_idle(studio)
    job = studio.uploads.get(job.id)
    assert job.state == "COMPLETED", job.error
    assert _object_sha(raw_s3, job) == job.sha256 == sha256_of(original)
    assert not os.path.exists(job.staging_path) and not list(studio.layout.staging.glob("upload-*"))


def test_a_file_on_another_filesystem_is_copied_when_queued(studio, s3_server, raw_s3):
    """No hard link across filesystems (here /dev/shm, a tmpfs): the private copy is made at once, so the
    queued bytes are kept as before."""
    import tempfile
    from pathlib import Path

    if os.stat("/dev/shm").st_dev == os.stat(studio.layout.staging.parent).st_dev:
        pytest.skip("/dev/shm is on the profile's filesystem here")
    add_target(studio, s3_server)
    with tempfile.TemporaryDirectory(dir="/dev/shm") as shm:
        src = make_file(Path(shm) / "elsewhere.mp4", 5 * MiB + 3)
        original = src.read_bytes()
        job = studio.uploads.enqueue_file(src, "seaweed")
        staged = os.stat(job.staging_path)
        assert staged.st_dev != os.stat(src).st_dev and staged.st_nlink == 1
        with open(src, "r+b") as f:   # after queueing: the copy holds the queued bytes
            f.write(b"later")
        src.unlink()
    run_until_idle(studio)
    job = studio.uploads.get(job.id)
    assert job.state == "COMPLETED", job.error
    assert _object_sha(raw_s3, job) == job.sha256 == sha256_of(original)


def test_an_edit_between_queueing_and_uploading_is_what_gets_uploaded(studio, s3_server, raw_s3, tmp_path):
    add_target(studio, s3_server)
    src = make_file(tmp_path / "fixed.mp4", 2 * 5 * MiB + 9)
    job = studio.uploads.enqueue_file(src, "seaweed")
    time.sleep(0.01)
    with open(src, "r+b") as f:   # same size, new bytes, in place
        f.write(b"a better first second")
    run_until_idle(studio)
    done = studio.uploads.get(job.id)
    assert done.state == "COMPLETED", done.error
    assert _object_sha(raw_s3, done) == done.sha256 == sha256_of(src.read_bytes())


def test_staged_bytes_changing_mid_upload_never_complete_as_other_bytes(studio, s3_server, raw_s3, tmp_path):
    """An export the app wrote is uploaded through a hard link (no copy); if its bytes change anyway,
    the final proof catches it, and the job starts again, says why, and reports the bytes it holds."""
    add_target(studio, s3_server, concurrency=1, bandwidth_limit=20 * MiB)
    export = make_file(studio.layout.staging / "d00d-r1.mp4", 3 * 5 * MiB + 5)
    job = studio.uploads.enqueue_file(export, "seaweed")
    assert os.stat(job.staging_path).st_ino == os.stat(export).st_ino   # the app's own export: a link
    events, edited = [], []

    def on_event(kind, job_id, payload):
        events.append((kind, payload))
        if kind == "progress" and payload[0] >= 5 * MiB and not edited:
            with open(export, "r+b") as f:   # part 1 is already acknowledged: change its bytes
                f.write(b"changed behind the uploader's back")
            edited.append(True)

    run_until_idle(studio, on_event=on_event)
    done = studio.uploads.get(job.id)
    assert edited and done.state == "COMPLETED", done.error
    assert "changed while it was uploading" in done.notice
    assert done.sha256 != job.sha256 and _object_sha(raw_s3, done) == done.sha256 == sha256_of(export.read_bytes())
    # Progress tells the truth: a restart event, then the meter starts again from zero; never past 100%.
    kinds = [k for k, _ in events]
    assert "restart" in kinds
    after = [p[0] for k, p in events[kinds.index("restart"):] if k == "progress"]
    assert after[0] == 0 and max(after) == done.size
    assert all(p[0] <= p[1] for k, p in events if k == "progress")


def test_a_server_that_reports_a_wrong_part_is_caught(studio, s3_server, raw_s3, tmp_path):
    proxy = FaultProxy(urlparse(s3_server["endpoint"]).port, ["wrong-etag", "ok", "wrong-etag"])
    try:
        add_target(studio, s3_server, endpoint=proxy.endpoint, concurrency=1)
        fast_retries(studio)
        src = make_file(tmp_path / "p.mp4", 2 * 5 * MiB + 3)
        job = studio.uploads.enqueue_file(src, "seaweed")
        states = []
        run_until_idle(studio, on_event=lambda k, j, p: states.append(p) if k == "state" else None)
    finally:
        proxy.close()
    assert proxy.applied.count("wrong-etag") == 2 and "RETRYING" in states   # each one refused, then resent
    job = studio.uploads.get(job.id)
    assert job.state == "COMPLETED", job.error
    assert all(p.etag.strip('"') != "0" * 29 + "bad" for p in studio.uploads.store.parts(job.id).values())
    assert _object_sha(raw_s3, job) == job.sha256 == sha256_of(src.read_bytes())


def test_a_server_that_ends_up_holding_other_bytes_is_never_completed(studio, s3_server, raw_s3, tmp_path):
    holder = {}

    def overwrite():   # between CompleteMultipartUpload and our check, the key gets other bytes
        raw_s3.put_object(Bucket=holder["bucket"], Key=holder["key"], Body=os.urandom(holder["size"]))

    proxy = FaultProxy(urlparse(s3_server["endpoint"]).port, [], complete_faults=["swap"], on_complete=overwrite)
    try:
        add_target(studio, s3_server, endpoint=proxy.endpoint)
        fast_retries(studio)
        job = studio.uploads.enqueue_file(make_file(tmp_path / "s.mp4", 5 * MiB + 1), "seaweed")
        holder.update(bucket=job.bucket, key=job.key, size=job.size)
        run_until_idle(studio)
    finally:
        proxy.close()
    assert "complete:swap" in proxy.applied
    job = studio.uploads.get(job.id)
    assert job.state == "FAILED" and "not the file that was sent" in job.error
    assert job.verified_us is None
    # Retry works after this failure too: the storage is asked again, and the bytes are sent again.
    add_target(studio, s3_server, replace=True)
    studio.uploads.retry(job.id)
    run_until_idle(studio)
    again = studio.uploads.get(job.id)
    assert again.state == "COMPLETED", again.error
    assert _object_sha(raw_s3, again) == again.sha256 == job.sha256


# -- 2. change detection by content ---------------------------------------------------------------
def test_touch_between_runs_resumes_and_a_real_change_restarts_with_a_message(studio, s3_server, raw_s3, tmp_path):
    add_target(studio, s3_server, concurrency=1)
    src = make_file(tmp_path / "t.mp4", 4 * 5 * MiB + 9)
    job = studio.uploads.enqueue_file(src, "seaweed")
    _run_some_parts(studio, 2)
    acked = studio.uploads.get(job.id).bytes_done
    assert acked > 0
    later = time.time_ns() + 5_000_000_000
    os.utime(src, ns=(later, later))                   # a touch, or a backup tool rewriting the same bytes
    os.utime(job.staging_path, ns=(later, later))
    before = studio.uploads.get(job.id)
    _run_some_parts(studio, 2)   # the first report is the resumed position, the second a new part
    resumed = studio.uploads.get(job.id)
    assert resumed.upload_id == before.upload_id and resumed.notice is None and resumed.bytes_done > acked
    # A real change: a longer file. The upload starts again from zero, with a part plan for the new size.
    with open(src, "ab") as f:
        f.write(os.urandom(2 * 5 * MiB))
    run_until_idle(studio)
    done = studio.uploads.get(job.id)
    assert done.state == "COMPLETED", done.error
    assert "changed" in done.notice and done.upload_id != before.upload_id
    assert done.size == src.stat().st_size and done.part_count == -(-done.size // done.part_size) == 7
    assert _object_sha(raw_s3, done) == done.sha256 == sha256_of(src.read_bytes())


# -- 3. one export per job ------------------------------------------------------------------------
def test_one_draft_posted_twice_and_to_two_targets(studio, s3_server, raw_s3, shared_media, monkeypatch):
    import studio.editor.export as export_mod

    renders = []
    real = export_mod.export_draft
    monkeypatch.setattr(export_mod, "export_draft", lambda *a, **kw: renders.append(1) or real(*a, **kw))
    add_target(studio, s3_server, "a")
    add_target(studio, s3_server, "b")
    draft = studio.drafts.import_files([shared_media / "realshort.mp4"], title="Twice")
    jobs = [studio.uploads.enqueue_draft(draft.id, "a"), studio.uploads.enqueue_draft(draft.id, "a"),
            studio.uploads.enqueue_draft(draft.id, "b")]
    assert len(renders) == 1   # the finished export of this revision is reused
    assert len({j.staging_path for j in jobs}) == 3   # each job owns its own file
    run_until_idle(studio)
    for j in jobs:
        j = studio.uploads.get(j.id)
        assert j.state == "COMPLETED", j.error
        assert _object_sha(raw_s3, j) == j.sha256
    # Retry after a failure works even when both the job's file and the export are gone.
    failed = studio.uploads.enqueue_draft(draft.id, "b")
    studio.uploads.cancel(failed.id)
    for f in studio.layout.staging.glob(f"{draft.id}-r*.mp4"):
        f.unlink()
    assert not os.path.exists(failed.staging_path)
    studio.uploads.retry(failed.id)
    run_until_idle(studio)
    again = studio.uploads.get(failed.id)
    assert again.state == "COMPLETED", again.error
    assert _object_sha(raw_s3, again) == again.sha256


# -- ListParts, as it really pages and as a broken server answers ----------------------------------
def test_list_parts_pages_through_the_real_server(studio, s3_server, raw_s3, tmp_path):
    t = add_target(studio, s3_server, concurrency=1)
    job = studio.uploads.enqueue_file(make_file(tmp_path / "lp.mp4", 6 * 5 * MiB + 1), "seaweed")
    _run_some_parts(studio, 5)
    acked = studio.uploads.get(job.id).bytes_done
    assert acked >= 5 * 5 * MiB
    studio.uploads.list_parts_page = 2
    client = studio.targets.client(studio.targets.get(t.name), read_timeout=studio.uploads.read_timeout)
    pages = []
    client.meta.events.register("before-call.s3.ListParts", lambda params, **kw: pages.append(params))
    studio.uploads.bytes_sent = 0
    run_until_idle(studio)
    job = studio.uploads.get(job.id)
    assert job.state == "COMPLETED", job.error
    assert len(pages) >= 3   # 5+ parts, 2 per page
    assert studio.uploads.bytes_sent <= job.size - acked + job.part_size
    assert _object_sha(raw_s3, job) == job.sha256


@pytest.mark.parametrize("fault", ["nomarker", "stuck"])
def test_list_parts_that_never_advances_is_refused_with_a_sentence(studio, s3_server, tmp_path, fault):
    from studio.uploader.targets import Target

    t = add_target(studio, s3_server, concurrency=1)
    job = studio.uploads.enqueue_file(make_file(tmp_path / "lp.mp4", 3 * 5 * MiB), "seaweed")
    _run_some_parts(studio, 1)
    proxy = FaultProxy(urlparse(s3_server["endpoint"]).port, [], list_faults=["always:" + fault])
    try:
        studio.targets.add(Target(**{**studio.targets.get(t.name).__dict__, "endpoint_url": proxy.endpoint}),
                           access_key=s3_server["access_key"], secret_key=s3_server["secret_key"],
                           replace_existing=True)
        run_until_idle(studio)
    finally:
        proxy.close()
    job = studio.uploads.get(job.id)
    assert "list:" + fault in proxy.applied
    assert job.state == "FAILED" and "list of uploaded parts is broken" in job.error


# -- bad input gets a sentence ------------------------------------------------------------------
def test_damaged_local_s3_credentials_file_gives_a_sentence(cli, data_dir):
    (data_dir / "local-s3").mkdir(parents=True, exist_ok=True)
    (data_dir / "local-s3" / "credentials.json").write_text("{not json")
    r = cli("local-s3", "start", "--json", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert r.returncode != 0
    assert "credentials file" in r.stderr and "damaged" in r.stderr and "Traceback" not in r.stderr


# -- 7. a refused `targets add` changes nothing --------------------------------------------------
def test_refused_targets_add_changes_nothing(cli, s3_server, tmp_path):
    def add(name, secret, *extra, env=None):
        return cli("targets", "add", name, "--bucket", s3_server["bucket"], "--endpoint", s3_server["endpoint"],
                   "--credentials", "keyring", "--access-key", s3_server["access_key"], *extra,
                   env={"STUDIO_SECRET_ACCESS_KEY": secret, **(env or {})})

    keyring_file = tmp_path / "keyring.json"
    assert add("box", s3_server["secret_key"]).returncode == 0
    before = keyring_file.read_text()
    taken = add("box", "another-secret")
    assert taken.returncode == 1 and "already exists" in taken.stderr
    bad_hook = add("new", "s3cr3t", "--webhook", "ftp://example.com/x", env={"STUDIO_WEBHOOK_SECRET": "w"})
    assert bad_hook.returncode == 1 and "http:// or https://" in bad_hook.stderr
    no_secret = add("new2", "s3cr3t", "--webhook", "http://127.0.0.1:9/hook")
    assert no_secret.returncode == 1 and "--webhook-unsigned" in no_secret.stderr
    assert keyring_file.read_text() == before   # not one secret written by the refused adds
    names = [t["name"] for t in json.loads(cli("targets", "list", "--json").stdout)]
    assert names == ["local", "box"]
    unsigned = add("hooked", "s3cr3t", "--webhook", "http://127.0.0.1:9/hook", "--webhook-unsigned")
    assert unsigned.returncode == 0 and "unsigned" in unsigned.stdout
    assert "(unsigned)" in cli("targets", "list").stdout


# -- 4. the webhook outbox across a restart -------------------------------------------------------
def test_webhook_receiver_down_then_up_after_a_restart_is_delivered_once(cli, studio, s3_server, tmp_path):
    import socket

    from test_uploader_webhook import _server

    from studio.uploader.webhook import verify_signature

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    add_target(studio, s3_server, webhook_url=f"http://127.0.0.1:{port}/hook", webhook_secret="s3cret-hook")
    job = studio.uploads.enqueue_file(make_file(tmp_path / "h.mp4", 1 * MiB), "seaweed")
    run_until_idle(studio)   # the receiver is down when the upload completes
    job = studio.uploads.get(job.id)
    assert job.state == "COMPLETED" and job.webhook_status.startswith("pending")
    listed = json.loads(cli("uploads", "list", "--json").stdout)[0]
    assert listed["sha256"] == job.sha256 and listed["verified"]
    assert listed["webhook_delivery"]["state"] == "pending" and listed["webhook_delivery"]["attempts"] == 1
    studio.close()
    srv, received = _server([], port)
    try:
        for _ in range(2):   # a new process (a restart) delivers it; a second run sends nothing more
            r = cli("uploads", "run", "--until-idle", "--json")
            assert r.returncode == 0, r.stderr
    finally:
        srv.shutdown()
    assert len(received) == 1
    headers, body = received[0]
    assert verify_signature("s3cret-hook", headers["X-Studio-Signature"], body, 300)
    t = int(headers["X-Studio-Signature"].split(",")[0][2:])
    assert not verify_signature("s3cret-hook", headers["X-Studio-Signature"], body, 300, now=t + 301)   # replay
    data = json.loads(body)
    assert data["sha256"] == job.sha256 and data["delivery_id"] == listed["webhook_delivery"]["delivery_id"]
    listed = json.loads(cli("uploads", "list", "--json").stdout)[0]
    assert listed["webhook_delivery"]["state"] == "delivered" and listed["webhook"] == "delivered"


def test_no_keyring_the_webhook_secret_comes_from_the_environment(cli, s3_server, tmp_path):
    from test_uploader_webhook import _server

    from studio.uploader.webhook import verify_signature

    srv, received = _server([])
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "STUDIO_WEBHOOK_SECRET": "env-secret",
           "AWS_ACCESS_KEY_ID": s3_server["access_key"], "AWS_SECRET_ACCESS_KEY": s3_server["secret_key"]}
    try:
        r = cli("targets", "add", "envhook", "--bucket", s3_server["bucket"], "--endpoint", s3_server["endpoint"],
                "--addressing-style", "path", "--credentials", "aws", "--key-template", "envhook/{name}",
                "--webhook", f"http://127.0.0.1:{srv.server_port}/h", env=env)
        assert r.returncode == 0, r.stderr
        assert "STUDIO_WEBHOOK_SECRET" in r.stdout
        src = make_file(tmp_path / "e.mp4", 1 * MiB)
        assert cli("uploads", "enqueue", str(src), "--target", "envhook", env=env).returncode == 0
        run = cli("uploads", "run", "--until-idle", env=env)
        assert run.returncode == 0, run.stderr
    finally:
        srv.shutdown()
    assert len(received) == 1
    assert verify_signature("env-secret", received[0][0]["X-Studio-Signature"], received[0][1], 300)


# -- 6. signals stop `uploads run` and `render` at once; the job stays resumable --------------------
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_uploads_run_and_the_job_resumes(studio, s3_server, raw_s3, data_dir, tmp_path, sig):
    add_target(studio, s3_server, concurrency=2, bandwidth_limit=4 * MiB)
    job = studio.uploads.enqueue_file(make_file(tmp_path / "sig.mp4", 8 * 5 * MiB), "seaweed")  # ~10 s at 4 MiB/s
    proc = subprocess.Popen([sys.executable, "-m", "studio", "--data-dir", str(data_dir), "uploads", "run",
                             "--until-idle"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "%" in line and " 0.0%" not in line:   # a part is acknowledged: mid-upload
            break
    sent = time.monotonic()
    proc.send_signal(sig)
    proc.wait(timeout=30)
    took = time.monotonic() - sent
    rest = proc.stderr.read()
    print(f"{sig.name}: exited {took:.2f} s after the signal")
    assert proc.returncode == 130, rest
    assert "Traceback" not in rest
    stopped = studio.uploads.get(job.id)
    assert stopped.state != "COMPLETED" and 0 < stopped.bytes_done < stopped.size   # stopped, not run to the end
    run_until_idle(studio)
    done = studio.uploads.get(job.id)
    assert done.state == "COMPLETED" and done.upload_id == stopped.upload_id
    assert _object_sha(raw_s3, done) == done.sha256


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_render_and_leaves_no_partial_file(studio, data_dir, shared_media, tmp_path, sig):
    draft = studio.drafts.import_files([shared_media / "cockatoo.mp4"], title="Long")
    out = tmp_path / "out" / "r.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "studio", "--data-dir", str(data_dir), "render", draft.id,
                             "-o", str(out)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "Rendering" in line:
            break
    proc.send_signal(sig)
    proc.wait(timeout=30)
    rest = proc.stderr.read()
    if proc.returncode == 0:
        pytest.skip("the render finished before the signal arrived")
    assert proc.returncode == 130, rest
    assert "cancelled" in rest and "Traceback" not in rest
    assert not out.exists() and not [p for p in out.parent.glob("*partial*")]


def test_frozen_copies_no_job_needs_are_cleaned_up_by_the_runner(studio, s3_server, tmp_path):
    add_target(studio, s3_server)
    done = studio.uploads.enqueue_file(make_file(tmp_path / "a.mp4", 1 * MiB), "seaweed")
    waiting = studio.uploads.enqueue_file(make_file(tmp_path / "b.mp4", 1 * MiB), "seaweed")
    studio.uploads.pause(waiting.id)
    run_until_idle(studio)
    kept_by_a_kill = studio.layout.staging / f"upload-{done.id}-a.mp4"
    kept_by_a_kill.write_bytes(b"left by a kill between COMPLETED and the clean-up")
    stray = studio.layout.staging / f"upload-{'e' * 32}-c.mp4"   # a kill during enqueue: no job
    stray.write_bytes(b"x")
    fresh = studio.layout.staging / f"upload-{'f' * 32}-d.mp4"   # another process enqueueing right now
    fresh.write_bytes(b"y")
    old = time.time() - 3600
    os.utime(stray, (old, old))
    assert studio.uploads.get(done.id).state == "COMPLETED"
    assert studio.uploads.sweep_staging() == 2
    assert not kept_by_a_kill.exists() and not stray.exists()
    assert fresh.exists() and os.path.exists(waiting.staging_path)   # a waiting job keeps its copy
