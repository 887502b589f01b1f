"""`studio publish` to "This computer", then `studio uploads run` killed with SIGKILL several times while
the post's files are on the wire: it still becomes LIVE, never sends a verified file again, every
served file is the manifest's bytes, and nothing of the post is reachable before it is LIVE."""

from __future__ import annotations

import hashlib
import json
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from publish_helpers import short_draft

KILLS = 3


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def start_runner(data_dir):
    return subprocess.Popen([sys.executable, "-m", "studio", "--data-dir", str(data_dir), "uploads", "run",
                             "--until-idle", "--json"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def kill_mid_upload(proc, rng) -> None:
    """SIGKILL the runner after 1-4 more of the post's files completed, plus a moment: counted, not
    timed, so the kill lands inside the post however fast the uploader has become."""
    enough, files, seen = threading.Event(), rng.randint(1, 4), [0]

    def watch():
        for line in proc.stderr:
            if " COMPLETED" in line:
                seen[0] += 1
                if seen[0] >= files:
                    enough.set()

    threading.Thread(target=watch, daemon=True).start()
    enough.wait(60)
    time.sleep(rng.uniform(0.0, 0.05))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def test_publish_survives_kill9_of_the_runner_and_is_never_reachable_half_way(studio, cli, data_dir,
                                                                               shared_media):
    rng = random.Random(12)
    draft_id = short_draft(studio, shared_media, 2.0, cover_us=500_000)
    studio.local_s3.ensure_running()      # kept by this test: links are checked between the kills
    out = cli("publish", draft_id[:8], "--target", "local", "--json", timeout=600)
    assert out.returncode == 0, out.stderr
    post_id = json.loads(out.stdout)["post_id"]
    post = studio.posts.get(post_id)
    assert post.state == "UPLOADING" and post.files_total >= 4 * 3 + 5
    links = studio.posts.links(post)
    assert links["share_url"].startswith("http://127.0.0.1:") and links["kind"] == "local"
    reachable = (links["share_url"], links["master_playlist_url"], links["manifest_url"])
    assert all(status_of(u) in (403, 404) for u in reachable)

    done_before: dict[str, int] = {}
    half_way = 0
    for _ in range(KILLS):
        kill_mid_upload(start_runner(data_dir), rng)
        post = studio.posts.get(post_id)
        if post.state == "LIVE":
            break
        half_way += 1
        assert post.state == "UPLOADING", post.message
        # A half-uploaded post is never reachable: a final file (master, page, manifest) may be in the
        # bucket before its job is marked done (the kill can land between the PUT and the commit, or
        # between two final files), but only once every other file of the post is verified.
        statuses = [status_of(u) for u in reachable]
        assert all(code in (200, 403, 404) for code in statuses), statuses
        rest_verified = all(j.state == "COMPLETED" for j in post.jobs if not j.post_final)
        assert rest_verified or statuses.count(200) == 0, statuses
        assert rest_verified or not any(j.state == "COMPLETED" for j in post.jobs if j.post_final)
        for j in post.jobs:   # never back to zero
            assert (j.size if j.state == "COMPLETED" else j.bytes_done) >= done_before.get(j.id, 0), j.key
            done_before[j.id] = j.size if j.state == "COMPLETED" else j.bytes_done
    assert half_way >= 2   # the kills really landed in the middle of the post
    proc = start_runner(data_dir)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    resent = json.loads(stdout)["bytes_sent"]
    post = studio.posts.get(post_id)
    assert post.state == "LIVE", post.message
    assert resent <= post.bytes_total - sum(done_before.values()) + 5 * 1024 * 1024 * 4

    shown = json.loads(cli("posts", "show", post_id[:8], "--json").stdout)
    assert shown["state"] == "LIVE" and shown["share_url"] == links["share_url"]
    with urllib.request.urlopen(shown["manifest_url"], timeout=10) as r:
        manifest = json.loads(r.read())
    base = shown["manifest_url"].rsplit("/", 1)[0]
    by_path = {f["path"]: f for f in shown["files"]}
    for f in manifest["files"]:
        with urllib.request.urlopen(f"{base}/{f['path']}", timeout=10) as r:
            body = r.read()
        assert hashlib.sha256(body).hexdigest() == f["sha256"] == by_path[f["path"]]["sha256"], f["path"]
    with urllib.request.urlopen(shown["share_url"], timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/html") and b"hls.min.js" in r.read()

    listed = json.loads(cli("posts", "list", "--json").stdout)
    assert [p["post_id"] for p in listed] == [post_id] and listed[0]["state"] == "LIVE"
    gone = cli("posts", "delete", post_id[:8], "--json")
    assert gone.returncode == 0, gone.stderr
    assert json.loads(gone.stdout)["deleted_objects"] == post.files_total
    assert status_of(shown["share_url"]) in (403, 404) and status_of(shown["manifest_url"]) in (403, 404)
    assert json.loads(cli("posts", "list", "--json").stdout) == []
