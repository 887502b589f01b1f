"""The embedded local S3 follows the app: stopped with it, unless uploads are still pending."""

from __future__ import annotations

from uploader_helpers import MiB, make_file


def test_local_s3_stops_with_the_app_unless_uploads_are_pending(tmp_path):
    from studio.app import build

    data = tmp_path / "profile"
    studio = build(data)
    s3 = studio.local_s3
    s3.ensure_running()
    assert s3.state() is not None
    studio.close()
    assert s3.state() is None   # nothing pending: stopped with the app

    studio = build(data)
    studio.uploads.enqueue_file(make_file(tmp_path / "later.mp4", 1 * MiB), "local")
    studio.local_s3.ensure_running()
    studio.close()
    again = build(data)
    try:
        assert again.local_s3.state() is not None   # a pending upload keeps it for next time
        assert again.uploads.run(until_idle=True, poll=0.05)["completed"] == 1
    finally:
        again.local_s3.stop()
        again.close()
