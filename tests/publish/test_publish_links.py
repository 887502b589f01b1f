"""A target with neither a public base URL nor "This computer": every link of the post is pre-signed
(7 days), written into its playlists and page. A cancelled publish leaves nothing behind; a bad
target or draft is one sentence."""

from __future__ import annotations

import threading
import time
import urllib.request

import pytest
from publish_helpers import short_draft
from uploader_helpers import add_target


def test_presigned_post_plays_from_its_signed_links(studio, s3_server, shared_media):
    import av

    from studio.uploader.targets import LINK_SECONDS

    add_target(studio, s3_server, "private")
    draft_id = short_draft(studio, shared_media, 2.0, cover_us=None)
    before = time.time()
    post = studio.posts.publish(draft_id, "private")
    assert studio.uploads.run(until_idle=True)["failed"] == 0
    shown = studio.posts.show(post.id)
    assert shown["state"] == "LIVE" and shown["link_kind"] == "presigned"
    assert before + LINK_SECONDS - 60 <= shown["links_expire_us"] / 1e6 <= time.time() + LINK_SECONDS
    assert "X-Amz-Signature=" in shown["share_url"] and "X-Amz-Signature=" in shown["master_playlist_url"]
    with urllib.request.urlopen(shown["share_url"], timeout=10) as r:
        page = r.read().decode()
    assert page.count("X-Amz-Signature=") >= 3       # master playlist, poster, player
    with urllib.request.urlopen(shown["master_playlist_url"], timeout=10) as r:
        master = r.read().decode()
    assert master.count("X-Amz-Signature=") == 4     # every rung's playlist, signed
    with av.open(shown["master_playlist_url"], options={"protocol_whitelist": "http,tcp,file"}) as c:
        assert {(s.codec_context.width, s.codec_context.height) for s in c.streams.video} == \
            {(1080, 1920), (720, 1280), (480, 854), (360, 640)}
        frames = sum(1 for p in c.demux(c.streams.video[0]) if p.pts is not None)
    assert frames == 60


def test_cancel_while_building_leaves_nothing(studio, s3_server, shared_media):
    from studio.publish.posts import PublishCancelled

    add_target(studio, s3_server, "private")
    draft_id = short_draft(studio, shared_media, 3.0)
    cancel = threading.Event()

    def on_stage(stage, fraction):
        if stage == "building" and fraction > 0:
            cancel.set()

    with pytest.raises(PublishCancelled):
        studio.posts.publish(draft_id, "private", on_stage=on_stage, cancel=cancel)
    assert studio.posts.list() == [] and studio.uploads.list() == []
    assert not list(studio.layout.staging.glob("post-*"))


def test_bad_target_or_draft_is_a_sentence(cli, studio, shared_media):
    draft_id = short_draft(studio, shared_media, 1.0)
    out = cli("publish", draft_id, "--target", "nowhere")
    assert out.returncode == 1 and "no upload target named 'nowhere'" in out.stderr and "Traceback" not in out.stderr
    out = cli("publish", "zzzzzzzz")
    assert out.returncode == 2 and "not a draft id" in out.stderr
    out = cli("posts", "show", "abcdef")
    assert out.returncode == 2 and "There is no post" in out.stderr
    assert studio.posts.list() == []
