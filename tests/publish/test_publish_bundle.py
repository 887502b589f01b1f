"""The post as a viewer's player and a CDN meet it: read over HTTP from the real local S3.

The ladder is read by libavformat's HLS demuxer (PyAV: ffprobe's library) from the master playlist
URL; every file's bytes are compared with the manifest; headers are read back from the server."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request

import pytest
from publish_helpers import COVER_US

RUNGS = {(1080, 1920), (720, 1280), (480, 854), (360, 640)}
FRAME_S = 1 / 30


def fetch(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), b""


def test_the_post_went_live_through_every_stage(published):
    post, show = published["post"], published["show"]
    assert post.state == "LIVE" and show["state"] == "LIVE"
    seen = [s for s, _f in published["stages"]]
    assert seen[0] == "exporting" and "building" in seen and seen[-1] == "queued"
    assert show["files_verified"] == show["files_total"] >= 4 * 3 + 6
    base = f"{published['base']}/posts/{post.id}/"
    assert show["share_url"] == base + "index.html"
    assert show["master_playlist_url"] == base + "master.m3u8"
    assert show["manifest_url"] == base + "manifest.json"
    # the manifest and the master playlist were the last files verified
    order = sorted(post.jobs, key=lambda j: j.completed_us)
    assert [j.key.rsplit("/", 1)[1] for j in order[-3:]] == ["master.m3u8", "index.html", "manifest.json"]


def test_every_rung_plays_over_http_at_its_size_with_the_drafts_duration(published):
    import av

    show = published["show"]
    master = fetch(show["master_playlist_url"])[2].decode()
    assert master.count("#EXT-X-STREAM-INF") == 4
    for line in master.splitlines():
        if line.startswith("#EXT-X-STREAM-INF"):
            assert "BANDWIDTH=" in line and "RESOLUTION=" in line and 'CODECS="avc1.' in line and "mp4a.40.2" in line
    duration_s = published["post"].duration_us / 1e6
    with av.open(show["master_playlist_url"], options={"protocol_whitelist": "http,tcp,file"}) as c:
        sizes = {(s.codec_context.width, s.codec_context.height) for s in c.streams.video}
        assert sizes == RUNGS
        assert all(abs(w * 16 - h * 9) <= 16 for w, h in sizes)   # 9:16 (854 is 480 x 16/9 rounded to even)
        assert abs(c.duration / 1e6 - duration_s) <= FRAME_S + 1e-3
    keyframes = {}
    manifest = json.loads(fetch(show["manifest_url"])[2])
    for r in manifest["renditions"]:
        url = show["master_playlist_url"].rsplit("/", 1)[0] + "/" + r["playlist"]
        with av.open(url, options={"protocol_whitelist": "http,tcp,file"}) as c:
            v = c.streams.video[0]
            assert (v.codec_context.width, v.codec_context.height) == (r["width"], r["height"])
            frames, keys = 0, []
            for pkt in c.demux(v):
                if pkt.pts is None:
                    continue
                frames += 1
                if pkt.is_keyframe:
                    keys.append(round(float(pkt.pts * v.time_base), 3))
            assert abs(frames * FRAME_S - duration_s) <= FRAME_S + 1e-6, r["name"]
            keyframes[r["name"]] = keys
    first = keyframes["1080p"]
    assert first[:2] == [pytest.approx(first[0]), pytest.approx(first[0] + 2.0, abs=0.002)]   # a 2 s GOP
    assert all(k == first for k in keyframes.values()), keyframes          # aligned across rungs


def test_every_served_file_is_the_manifests_bytes_with_its_headers(published):
    show = published["show"]
    status, headers, body = fetch(show["manifest_url"])
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert headers["Cache-Control"] == "public, max-age=60"
    manifest = json.loads(body)
    assert manifest["post_id"] == published["post"].id
    assert manifest["title"] == "Cockatoo <on> a branch" and manifest["caption"] == "Say hi to the cockatoo"
    assert manifest["duration_us"] == published["post"].duration_us
    assert manifest["poster"]["cover_time_us"] == COVER_US and manifest["blurhash"]
    assert {(r["width"], r["height"]) for r in manifest["renditions"]} == RUNGS
    assert all(r["bandwidth"] >= r["average_bandwidth"] > 0 for r in manifest["renditions"])
    base = show["manifest_url"].rsplit("/", 1)[0]
    listed = {f["path"] for f in manifest["files"]}
    assert listed | {"manifest.json"} == {f["path"] for f in show["files"]}
    assert {"poster.jpg", "index.html", "master.m3u8", "hls.min.js", "hls.js-LICENSE.txt"} <= listed
    want_type = {"m3u8": "application/vnd.apple.mpegurl", "m4s": "video/iso.segment", "mp4": "video/mp4",
                 "jpg": "image/jpeg", "html": "text/html", "js": "text/javascript", "txt": "text/plain"}
    for f in manifest["files"]:
        status, headers, body = fetch(f"{base}/{f['path']}")
        assert status == 200, f["path"]
        assert len(body) == f["size"] and hashlib.sha256(body).hexdigest() == f["sha256"], f["path"]
        ext = f["path"].rsplit(".", 1)[1]
        assert headers["Content-Type"].startswith(want_type[ext]), (f["path"], headers["Content-Type"])
        short = ext in ("m3u8", "html", "json")
        assert headers["Cache-Control"] == ("public, max-age=60" if short else
                                            "public, max-age=31536000, immutable"), f["path"]


def test_only_the_posts_folder_is_readable_without_keys(published, raw_s3, s3_server):
    raw_s3.put_object(Bucket=s3_server["bucket"], Key="reels/private.mp4", Body=b"not public")
    assert fetch(f"{published['base']}/reels/private.mp4")[0] == 403
    assert fetch(f"{published['base']}/posts/{published['post'].id}/nothing-here.m4s")[0] in (403, 404)


def test_the_poster_is_the_exports_frame_at_the_cover_time(published, tmp_path):
    import numpy as np
    from PIL import Image
    import io

    from studio.editor.export import export_draft
    from studio.media import ffmpeg

    studio = published["studio"]
    out = export_draft(studio, published["draft_id"], tmp_path / "reel.mp4")
    frame = round(COVER_US * 30 / 1e6)
    raw = ffmpeg.run(["-i", str(out), "-vf", f"select=eq(n\\,{frame})", "-frames:v", "1", "-f", "rawvideo",
                      "-pix_fmt", "rgb24", "pipe:1"], timeout=120).stdout
    exported = np.frombuffer(raw, np.uint8).reshape(1920, 1080, 3).astype(np.float64)
    status, _h, jpeg = fetch(published["show"]["poster_url"])
    assert status == 200, (status, published["show"]["poster_url"])
    poster = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"),
                        dtype=np.float64)
    assert poster.shape == exported.shape
    mse = np.mean((poster - exported) ** 2)
    psnr = 10 * np.log10(255 ** 2 / mse)
    assert psnr >= 30, psnr
    # and not just any frame of the reel: the first frame is further away
    raw0 = ffmpeg.run(["-i", str(out), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
                      timeout=120).stdout
    first = np.frombuffer(raw0, np.uint8).reshape(1920, 1080, 3).astype(np.float64)
    assert np.mean((poster - first) ** 2) > mse
