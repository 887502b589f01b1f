"""A draft's badge is derived from its export and its upload jobs, so nothing can leave it stale:
kill -9 mid-export leaves no "Exporting" and no half-written file; a cancelled or failed upload
leaves no "Queued"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import studio as studio_package
from studio.app import build

REPO = Path(studio_package.__file__).resolve().parent.parent
CHILD = """
import sys
from studio.app import build
from studio.editor.export import export_draft
s = build(sys.argv[1])
said = []
def progress(fraction, eta):
    if not said:
        said.append(1)
        print("exporting", flush=True)
export_draft(s, sys.argv[2], on_progress=progress)
print("finished", flush=True)
"""


@pytest.mark.timeout(300)
def test_kill_9_mid_export_leaves_no_stale_badge_and_no_partial_file(data_dir, shared_media):
    s = build(data_dir)
    d = s.drafts.import_files([shared_media / "cockatoo.mp4"])
    s.close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(data_dir), d.id], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout.readline().strip() == "exporting"
    watcher = build(data_dir)
    try:
        assert watcher.drafts.get(d.id).status == "exporting", "another process sees the export"
        partials = list(watcher.layout.staging.glob(".*.partial.mp4"))
        assert partials, "the export had started writing when it was killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert watcher.drafts.get(d.id).status == "draft", "the badge died with the exporter"
    finally:
        watcher.close()
    time.sleep(0.5)  # let ffmpeg notice its parent is gone (its progress pipe breaks)
    s = build(data_dir)
    try:
        assert s.drafts.get(d.id).status == "draft"
        assert not list(s.layout.staging.glob(".*.partial.mp4")), f"half-written export left: {partials}"
        assert not list(s.layout.staging.glob(f"{d.id}*.mp4")), "no finished file appeared either"
    finally:
        s.close()


def test_queued_only_while_an_upload_is_unfinished(studio, shared_media):
    from sqlalchemy import insert

    from studio.uploader.models import JobRow
    from studio.uploader.store import JobStore

    store = studio.drafts
    d = store.import_files([shared_media / "minimal.mp4"])
    jobs = JobStore(studio.engine)

    def job(state: str) -> str:
        jid = uuid.uuid4().hex
        with studio.engine.begin() as c:
            c.execute(insert(JobRow).values(id=jid, seq=1, target_name="t", state=state, source_path="/x",
                                            draft_id=d.id, bucket="b", key="k", part_size=5 << 20,
                                            checksum_algorithm="SHA256", created_us=1, updated_us=1))
        return jid

    first = job("PENDING")
    assert store.get(d.id).status == "queued"
    jobs.update(first, state="CANCELLED")
    assert store.get(d.id).status == "draft", "a cancelled upload leaves no Queued"
    second = job("RETRYING")
    assert store.list_drafts()[0].status == "queued"
    jobs.update(second, state="FAILED", error="boom")
    assert store.get(d.id).status == "draft", "a failed upload leaves no Queued"
    third = job("IN_PROGRESS")
    jobs.update(third, state="COMPLETED")
    assert store.get(d.id).status == "published"
    job("PAUSED")
    assert store.get(d.id).status == "queued", "publishing again shows it queued again"
