"""Every finished upload has a link that opens in a browser: the file's exact bytes over plain HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from uploader_helpers import MiB, add_target, make_file


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as r:   # a browser's GET: no credentials, no headers
        return r.read()


def test_a_finished_upload_link_returns_the_files_bytes(studio, s3_server, tmp_path, cli):
    add_target(studio, s3_server)
    src = make_file(tmp_path / "my reel.mp4", 6 * MiB + 123)
    job = studio.uploads.enqueue_file(src, "seaweed")
    with pytest.raises(Exception, match="not finished"):
        studio.uploads.link(job.id)
    assert studio.uploads.run(until_idle=True, poll=0.05)["completed"] == 1
    info = studio.uploads.link_info(job.id)
    assert info["kind"] == "presigned" and "X-Amz-Signature" in info["url"]
    assert fetch(info["url"]) == src.read_bytes()
    # a link lives 7 days, SigV4's longest
    import time
    assert 6.9 * 86400 < info["expires_us"] / 1e6 - time.time() <= 7 * 86400
    # the same link, as scripts read it
    out = cli("uploads", "list", "--json")
    assert out.returncode == 0, out.stderr
    row = next(j for j in json.loads(out.stdout) if j["id"] == job.id)
    assert fetch(row["url"]) == src.read_bytes()
    assert row["url_expires"] and row["completed"] and row["created"]
    human = cli("uploads", "list")
    assert row["url"].split("?")[0] in human.stdout and "until" in human.stdout


def test_a_wrong_signature_is_refused(studio, s3_server, tmp_path):
    """The witness that the check above can fail: a tampered link gets 403, not the bytes."""
    add_target(studio, s3_server)
    job = studio.uploads.enqueue_file(make_file(tmp_path / "a.mp4", 1 * MiB), "seaweed")
    studio.uploads.run(until_idle=True, poll=0.05)
    url = studio.uploads.link(job.id)
    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    with pytest.raises(urllib.error.HTTPError) as e:
        fetch(tampered)
    assert e.value.code == 403


def test_public_base_url_makes_plain_links(studio, s3_server, tmp_path, cli):
    t = add_target(studio, s3_server, public_base_url="https://cdn.example.com/reels/")
    job = studio.uploads.enqueue_file(make_file(tmp_path / "b.mp4", 1 * MiB), "seaweed")
    studio.uploads.run(until_idle=True, poll=0.05)
    info = studio.uploads.link_info(job.id)
    assert info == {"url": f"https://cdn.example.com/reels/{job.key}", "expires_us": None, "kind": "public"}
    assert studio.targets.get(t.name).public_base_url == "https://cdn.example.com/reels/"
    bad = cli("targets", "add", "cdn2", "--bucket", "b", "--public-base-url", "ftp://x")
    assert bad.returncode == 1 and "public base URL" in bad.stderr + bad.stdout
    ok = cli("targets", "add", "cdn3", "--bucket", "b", "--public-base-url", "https://media.example.org", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["target"]["public_base_url"] == "https://media.example.org"


def test_this_computer_link_is_served_by_the_local_s3(tmp_path):
    """"This computer": the link points at the embedded SeaweedFS and opens while it runs, also after
    a restart of the app (the server comes back on the same port)."""
    from studio.app import build

    studio = build(tmp_path / "profile")
    try:
        src = make_file(tmp_path / "local.mp4", 2 * MiB + 7)
        job = studio.uploads.enqueue_file(src, "local")
        assert studio.uploads.run(until_idle=True, poll=0.05)["completed"] == 1
        url = studio.uploads.link(job.id)
        assert url.startswith(studio.local_s3.endpoint() + "/")
        assert fetch(url) == src.read_bytes()
        import subprocess
        import sys

        out = subprocess.run([sys.executable, "-m", "studio", "--data-dir", str(tmp_path / "profile"), "uploads",
                              "list", "--json"], capture_output=True, text=True, timeout=120)
        row = json.loads(out.stdout)[0]
        assert fetch(row["url"]) == src.read_bytes() and "this computer" in row["url_note"]
    finally:
        studio.close()
    assert studio.local_s3.state() is None
    again = build(tmp_path / "profile")
    try:
        assert again.uploads.link(job.id).split("?")[0] == url.split("?")[0]   # same address, server stopped
        again.local_s3.ensure_running()
        assert fetch(again.uploads.link(job.id)) == src.read_bytes()
    finally:
        again.close()


def test_cli_clear_forgets_finished_jobs_only(studio, s3_server, tmp_path, cli):
    add_target(studio, s3_server)
    done = studio.uploads.enqueue_file(make_file(tmp_path / "d.mp4", 1 * MiB), "seaweed")
    studio.uploads.run(until_idle=True, poll=0.05)
    waiting = studio.uploads.enqueue_file(make_file(tmp_path / "w.mp4", 1 * MiB), "seaweed")
    studio.uploads.pause(waiting.id)
    out = cli("uploads", "clear", "--json")
    assert out.returncode == 0 and json.loads(out.stdout) == {"ok": True, "cleared": 1}
    assert [j.id for j in studio.uploads.list()] == [waiting.id]
    assert done.id not in cli("uploads", "list").stdout


@pytest.mark.slow
def test_this_computer_links_open_after_a_headless_upload(tmp_path, cli):
    """enqueue → run → list, as a script does: `uploads run` stops the local storage when it ends,
    so `uploads list` starts it in the background for its links to open, and says so."""
    src = make_file(tmp_path / "clip.mp4", 3 * MiB + 7)
    try:
        enq = cli("uploads", "enqueue", str(src), "--target", "local", "--json")
        assert enq.returncode == 0, enq.stderr
        job_id = json.loads(enq.stdout)["id"]
        run = cli("uploads", "run", "--until-idle", timeout=300)
        assert run.returncode == 0, run.stderr
        out = cli("uploads", "list", "--json", timeout=120)
        assert out.returncode == 0, out.stderr
        row = next(j for j in json.loads(out.stdout) if j["id"] == job_id)
        assert row["state"] == "COMPLETED" and row["url"].startswith("http://127.0.0.1:")
        assert "started the storage on this computer" in out.stderr
        assert fetch(row["url"]) == src.read_bytes()
        again = cli("uploads", "list", "--json")   # already serving: nothing started twice
        assert "started the storage" not in again.stderr
    finally:
        cli("local-s3", "stop")
