"""Upload a draft: export it (the editor's export_draft), queue the export, publish."""

from __future__ import annotations

import json

from uploader_helpers import add_target, sha256_of


def test_enqueue_a_draft_exports_uploads_and_publishes(cli, studio, s3_server, raw_s3, shared_media):
    add_target(studio, s3_server)
    draft = studio.drafts.import_files([shared_media / "realshort.mp4"], title="Beach day")
    r = cli("uploads", "enqueue", draft.id, "--target", "seaweed", "--json")
    assert r.returncode == 0, r.stderr
    job_id = json.loads(r.stdout)["id"]
    run = cli("uploads", "run", "--until-idle")
    assert run.returncode == 0, run.stderr
    job = studio.uploads.get(job_id)
    assert job.state == "COMPLETED", job.error
    assert job.draft_id == draft.id and job.title == "Beach day" and draft.id in job.key
    assert job.duration_us and job.duration_us > 0
    body = raw_s3.get_object(Bucket=job.bucket, Key=job.key)["Body"].read()
    assert sha256_of(body) == job.sha256 and body[4:8] == b"ftyp"
    assert studio.drafts.get(draft.id).status == "published"


def test_enqueue_an_unknown_draft_says_so(cli, s3_server):
    r = cli("uploads", "enqueue", "f" * 32, "--json")
    assert r.returncode == 1
    assert "no draft" in json.loads(r.stdout)["error"].lower()
    assert "Traceback" not in r.stderr
