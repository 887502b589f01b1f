"""Publish fixtures: the session's real SeaweedFS (tests/support/s3_fixtures.py) and one post built
from a short real clip and uploaded to it, shared by the tests that only read it (a build costs
several seconds of ffmpeg on a busy machine)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from s3_fixtures import raw_s3, s3_server, test_keyring  # noqa: E402, F401 - fixtures of this folder

from publish_helpers import COVER_US, short_draft  # noqa: E402, F401 - shared with the tests


@pytest.fixture(scope="session")
def published(tmp_path_factory, s3_server, shared_media):
    """One LIVE post on the session server, read through a public base URL (the bucket's posts/ are
    anonymously readable on the local server): ``{"studio", "post", "show", "draft_id", "base"}``."""
    import keyring

    from studio.app import build
    from studio_test_keyring import FileKeyring
    from uploader_helpers import add_target

    profile = tmp_path_factory.mktemp("publish-profile")
    previous = keyring.get_keyring()
    import os

    previous_file = os.environ.get("STUDIO_TEST_KEYRING")
    os.environ["STUDIO_TEST_KEYRING"] = str(profile / "keyring.json")
    keyring.set_keyring(FileKeyring())
    studio = build(profile / "data")
    base = f"{s3_server['endpoint']}/{s3_server['bucket']}"
    add_target(studio, s3_server, "cdn", public_base_url=base)
    draft_id = short_draft(studio, shared_media, 4.0, caption="Say hi to the cockatoo")
    stages = []
    post = studio.posts.publish(draft_id, "cdn", on_stage=lambda s, f: stages.append((s, f)))
    summary = studio.uploads.run(until_idle=True)
    assert summary["failed"] == 0, [j.error for j in studio.uploads.list()]
    yield {"studio": studio, "post": studio.posts.get(post.id), "show": studio.posts.show(post.id),
           "draft_id": draft_id, "base": base, "stages": stages}
    studio.close()
    keyring.set_keyring(previous)
    if previous_file is None:
        os.environ.pop("STUDIO_TEST_KEYRING", None)
    else:
        os.environ["STUDIO_TEST_KEYRING"] = previous_file
