"""The one export runner's contract with the upload queue: an export result names the revision it shows,
a finished export of a revision is reused, and the queue never imports the editor (it is handed an exporter)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import studio.editor.export as export_mod
from studio.editor.document import Edit, trim_clip
from studio.editor.export import export_for_upload
from studio.uploader.errors import UploadError
from studio.uploader.queue import UploadQueue

ROOT = Path(__file__).resolve().parents[2]


def test_the_upload_queue_imports_neither_the_editor_nor_the_ui():
    tree = ast.parse((ROOT / "studio" / "uploader" / "queue.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module} | \
        {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m.startswith(("studio.editor", "studio.ui"))}, imported


def test_a_finished_export_of_a_revision_is_reused_and_older_ones_pruned(qapp, studio, shared_media, monkeypatch):
    renders = []
    real = export_mod.export_draft
    monkeypatch.setattr(export_mod, "export_draft", lambda *a, **kw: renders.append(kw.get("revision")) or real(*a, **kw))
    draft = studio.drafts.import_files([shared_media / "realshort.mp4"])
    first = export_for_upload(studio, draft.id)
    again = export_for_upload(studio, draft.id)
    assert renders == [draft.revision] and first == again
    assert (first.draft_id, first.revision) == (draft.id, draft.revision) and first.path.is_file()
    e = Edit.from_dict(draft.edit)
    e = trim_clip(e, e.clips[0].id, in_us=0, out_us=500_000)
    newer = studio.drafts.update_edit(draft.id, e.to_dict())
    second = export_for_upload(studio, draft.id)
    assert second.revision == newer and second.path.name == f"{draft.id}-r{newer}.mp4" and second.duration_us == e.duration_us
    assert not first.path.exists(), "the export of the older revision is pruned"


def test_a_queue_without_an_exporter_says_so(studio, shared_media):
    draft = studio.drafts.import_files([shared_media / "realshort.mp4"])
    queue = UploadQueue(studio)
    with pytest.raises(UploadError) as e:
        queue.enqueue_draft(draft.id, "local")
    assert "without an exporter" in str(e.value) and queue.list() == []
