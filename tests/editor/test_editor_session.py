"""EditorSession under plain pytest: no window, no event loop. ``use_pool(SynchronousPool())`` runs every
background step inline, so each call's signals have arrived when it returns. Real drafts, real ffmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.drafts.types import DraftNotFound
from studio.editor.commands import TrimClip
from studio.editor.document import Edit
from studio.editor.export import ExportError, ExportResult
from studio.editor.session import EditorSession
from studio.media import ffmpeg, probe
from studio.tasks import SynchronousPool, use_pool, user_message

US = 1_000_000
FRAME = US // 30


@pytest.fixture(autouse=True)
def synchronous():
    with use_pool(SynchronousPool()):
        yield


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """A 2 s 30 fps clip with sound (every frame differs)."""
    out = tmp_path / "clip.mp4"
    ffmpeg.run(["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=2",
                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2", "-c:v", "libx264",
                "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out)], timeout=120)
    return out


@pytest.fixture
def song(tmp_path: Path) -> Path:
    out = tmp_path / "song.m4a"
    ffmpeg.run(["-y", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=3", "-c:a", "aac", str(out)],
               timeout=60)
    return out


class Recorder:
    """Every signal of a session, in order, as (name, args)."""

    NAMES = ("opened", "failed", "title_changed", "media_imported", "import_failed", "thumbnails_ready",
             "waveform_ready", "export_saving", "export_started", "export_progress", "export_finished",
             "export_failed", "export_cancelled")

    def __init__(self, session: EditorSession):
        self.events: list[tuple[str, tuple]] = []
        for name in self.NAMES:
            getattr(session, name).connect(lambda *args, n=name: self.events.append((n, args)))

    def names(self) -> list[str]:
        return [n for n, _ in self.events if n != "export_progress"]

    def last(self, name: str) -> tuple:
        return next(args for n, args in reversed(self.events) if n == name)


def open_session(studio, draft_id: str) -> tuple[EditorSession, Recorder]:  # noqa: ANN001
    session = EditorSession(studio, autosave_ms=60_000)   # saves only when asked: the test decides when
    seen = Recorder(session)
    session.open(draft_id)
    return session, seen


def test_open_lists_the_assets_and_the_media_is_imported_and_previewed(studio, clip, song, monkeypatch):
    draft = studio.drafts.import_files([clip], title="Clip")
    session, seen = open_session(studio, draft.id)
    assert seen.names() == ["opened"]
    opened_draft, assets = seen.last("opened")
    assert opened_draft.id == draft.id and session.draft_id == draft.id and session.document.revision == draft.revision
    (video,) = assets.values()
    assert video.kind == "video" and video.path.is_file() and (video.width, video.height) == (320, 240)
    assert abs(video.duration_us - 2 * US) <= 2 * FRAME and video.has_audio
    assert session.assets == assets and [c.asset_id for c in session.document.edit.clips] == [video.id]

    session.import_media(song, "audio")
    asset, file = seen.last("media_imported")
    assert file == song and asset.kind == "audio" and session.assets[asset.id] is asset
    assert abs(asset.duration_us - 3 * US) <= 50_000 and asset.path.is_file() and asset.path != song
    assert sorted(a.kind for a in studio.drafts.get(draft.id).assets) == ["audio", "video"]

    from studio.media import waveform

    computed = []
    real_peaks = waveform.peaks
    monkeypatch.setattr(waveform, "peaks", lambda *a, **kw: computed.append(a) or real_peaks(*a, **kw))
    session.request_waveform(asset.id)
    session.request_waveform(asset.id)
    peaks = [args for n, args in seen.events if n == "waveform_ready"]
    assert len(peaks) == 2 and len(computed) == 1, "the second request is answered from the cache"
    assert peaks[0][0] == asset.id and peaks[0][1].max() > 0.1 and len(peaks[0][1]) == pytest.approx(150, abs=3)

    session.request_thumbnails(video.id, 48)
    session.request_thumbnails(asset.id, 48)     # music has no pictures: nothing
    asset_id, images = seen.last("thumbnails_ready")
    assert asset_id == video.id and sorted(images) == [0, US]
    assert all(img.height() == 48 and img.width() == 64 for img in images.values())


def test_export_saves_first_and_exports_the_revision_including_the_pending_edit(studio, clip, tmp_path):
    draft = studio.drafts.import_files([clip], title="Clip")
    session, seen = open_session(studio, draft.id)
    doc = session.document
    doc.do(TrimClip, doc.edit.clips[0].id, in_us=0, out_us=US // 2)
    assert doc.dirty and studio.drafts.get(draft.id).revision == draft.revision   # not saved yet
    out = tmp_path / "exports" / "half.mp4"
    assert session.export(out)
    assert seen.names() == ["opened", "export_saving", "export_started", "export_finished"]
    (revision,) = seen.last("export_started")
    (result,) = seen.last("export_finished")
    stored = studio.drafts.get(draft.id)
    assert revision == stored.revision == draft.revision + 1 and not doc.dirty
    assert isinstance(result, ExportResult) and (result.path, result.draft_id, result.revision) == (out, draft.id, revision)
    assert Edit.from_dict(stored.edit).duration_us == US // 2
    assert abs(probe.probe(out).duration_us - US // 2) <= FRAME + 25_000   # a frame, plus AAC priming
    assert not session.exporting


def test_an_edit_saved_while_exporting_is_not_in_the_export(studio, clip, tmp_path):
    """The export renders the revision it saved, even when a newer revision is in the store before the
    render reads the draft."""
    draft = studio.drafts.import_files([clip], title="Clip")
    session, seen = open_session(studio, draft.id)
    doc = session.document
    clip_id = doc.edit.clips[0].id
    doc.do(TrimClip, clip_id, in_us=0, out_us=US // 2)
    doc.flush()
    saved = doc.revision

    def edit_again(_revision: int) -> None:
        doc.do(TrimClip, clip_id, in_us=0, out_us=3 * US // 2)
        doc.flush()   # in the store before the render starts
    session.export_started.connect(edit_again)
    assert session.export(tmp_path / "saved.mp4")
    (result,) = seen.last("export_finished")
    assert result.revision == saved and studio.drafts.get(draft.id).revision == saved + 1
    assert abs(probe.probe(result.path).duration_us - US // 2) <= FRAME + 25_000
    # for an upload: frozen into staging under the revision it shows
    session.export_started.disconnect(edit_again)
    assert session.export(for_upload=True)
    (upload,) = seen.last("export_finished")
    assert upload.revision == saved + 1 and upload.path == studio.layout.staging / f"{draft.id}-r{saved + 1}.mp4"
    assert abs(upload.duration_us - 3 * US // 2) <= FRAME and abs(probe.probe(upload.path).duration_us - upload.duration_us) <= FRAME + 25_000


def test_cancel_stops_the_render_and_leaves_no_file(studio, shared_media, tmp_path):
    draft = studio.drafts.import_files([shared_media / "cockatoo.mp4"])     # 14 s
    session, seen = open_session(studio, draft.id)
    session.export_progress.connect(lambda fraction, _eta: fraction > 0.02 and session.cancel_export())
    assert session.export(tmp_path / "exports" / "reel.mp4")
    assert seen.names()[-1] == "export_cancelled" and "export_finished" not in seen.names()
    assert not (tmp_path / "exports").exists() or list((tmp_path / "exports").iterdir()) == []
    assert not session.exporting


def test_failures_arrive_as_exceptions_with_a_sentence(studio, clip, tmp_path, monkeypatch):
    session, seen = open_session(studio, "0" * 32)
    (exc,) = seen.last("failed")
    assert isinstance(exc, DraftNotFound) and "no draft" in user_message(exc).lower() and not session.is_open

    draft = studio.drafts.import_files([clip], title="Clip")
    session.open(draft.id)
    assert session.is_open
    text = tmp_path / "notes.mp3"
    text.write_text("not a song")
    session.import_media(text, "audio")
    file, exc = seen.last("import_failed")
    assert file == text and user_message(exc) and "Traceback" not in user_message(exc)
    assert [a.kind for a in studio.drafts.get(draft.id).assets] == ["video"]   # nothing was added

    # the edit cannot be saved: nothing is exported, and the creator is told why
    doc = session.document
    doc.do(TrimClip, doc.edit.clips[0].id, in_us=0, out_us=US)
    from studio.drafts.types import DraftError

    def full_disk(*_a, **_kw):  # noqa: ANN002, ANN003, ANN202
        raise DraftError("The disk is full; free some space.")
    monkeypatch.setattr(studio.drafts, "update_edit", full_disk)
    assert session.export(tmp_path / "never.mp4")
    (exc,) = seen.last("export_failed")
    assert isinstance(exc, ExportError) and "could not be saved" in user_message(exc) and "disk is full" in str(exc)
    assert not (tmp_path / "never.mp4").exists() and not session.exporting and doc.dirty
    monkeypatch.undo()

    # the media went missing from the library: ffmpeg's failure is a sentence, and no file is left
    for a in studio.drafts.get(draft.id).assets:
        studio.drafts.asset_path(a).unlink()
    assert session.export(tmp_path / "gone.mp4")
    (exc,) = seen.last("export_failed")
    assert isinstance(exc, ExportError) and user_message(exc)
    assert not (tmp_path / "gone.mp4").exists() and not session.exporting


def test_results_for_a_draft_no_longer_open_are_dropped(studio, clip, song):
    first = studio.drafts.import_files([clip], title="One")
    second = studio.drafts.import_files([clip], title="Two")
    session, seen = open_session(studio, first.id)
    doc = session.document
    doc.do(TrimClip, doc.edit.clips[0].id, in_us=0, out_us=US)
    session.open(second.id)     # the unsaved edit of the first draft is saved on the way out
    assert Edit.from_dict(studio.drafts.get(first.id).edit).duration_us == US
    assert session.draft_id == second.id and [n for n in seen.names() if n == "opened"] == ["opened", "opened"]
    session.close()
    assert not session.is_open and not session.export()
    session.import_media(song, "audio")   # nothing open: nothing happens
    assert "media_imported" not in seen.names()


def test_new_overlays_and_music_get_the_sessions_defaults(studio, clip, song):
    from studio.editor.session import NEW_STICKER_PLACE, NEW_TEXT_STYLE

    draft = studio.drafts.import_files([clip], title="Clip")
    session, seen = open_session(studio, draft.id)
    total = session.document.edit.duration_us
    text = session.add_text("Hello", at_us=total)          # at the very end: pulled back inside the reel
    (t,) = session.document.edit.texts
    assert t.id == text.new_id and t.text == "Hello" and t.background == NEW_TEXT_STYLE["background"]
    assert (t.start_us, t.end_us) == (total - US, total)
    sticker = session.add_sticker("builtin:sparkle", at_us=0)
    (st,) = session.document.edit.stickers
    assert st.id == sticker.new_id and (st.x, st.y) == (NEW_STICKER_PLACE["x"], NEW_STICKER_PLACE["y"])
    assert (st.start_us, st.end_us) == (0, min(total, 3 * US))
    session.import_media(song, "audio")
    asset, _file = seen.last("media_imported")
    music = session.add_music(asset.id)
    assert [m.id for m in session.document.edit.music] == [music.new_id]
    assert seen.last("waveform_ready")[0] == asset.id      # its waveform was asked for
    assert session.document.stack.count() == 3              # one undo step each
