"""export_draft on real drafts: every valid shared file imports, edits and exports; progress, cancel,
atomic output, the draft's status; the ExportJob wrapper the UI uses; OTIO interchange."""

from __future__ import annotations

import threading
from pathlib import Path

import opentimelineio as otio
import pytest

from studio.drafts.types import DraftNotFound
from studio.editor import document as doc
from studio.editor.document import Canvas, Edit
from studio.editor.export import ExportCancelled, ExportJob, export_draft
from studio.editor.otio import META_KEY, write_otio
from studio.media import probe
from studio.media.probe import MediaError
from studio.tasks import user_message

VALID = ["cockatoo.mp4", "cockatoo_yuv420.mp4", "realshort.mp4", "video_rotation_90.mp4", "minimal.mp4",
         "white.mp4", "bipbop_nonfragment_header.mp4"]


def edited(studio, draft, *, size=(270, 480), text: str = "Reel ✓") -> Edit:  # noqa: ANN001
    """Trim to at most 1 s, add a text and a sticker, save; a small canvas keeps the test fast."""
    e = Edit.from_dict(draft.edit)
    e.canvas = Canvas(preset="custom", width=size[0], height=size[1], fps=30)
    clip = e.clips[0]
    e = doc.trim_clip(e, clip.id, in_us=0, out_us=min(clip.source_out_us, 1_000_000))
    e, _ = doc.add_text(e, text, 0, 500_000, background="#00000080")
    e, _ = doc.add_sticker(e, "builtin:sparkle", 200_000, 800_000)
    studio.drafts.update_edit(draft.id, e.to_dict())
    return e


@pytest.mark.parametrize("name", VALID)
def test_every_valid_shared_file_imports_edits_and_exports(qapp, studio, shared_media: Path, tmp_path: Path,  # noqa: ANN001
                                                           name: str) -> None:
    try:
        draft = studio.drafts.import_files([shared_media / name])
    except MediaError as e:
        assert name == "bipbop_nonfragment_header.mp4" and str(e), "only the fragment may be refused"
        return
    e = edited(studio, draft)
    seen: list[float] = []
    out = export_draft(studio, draft.id, tmp_path / "exports" / "reel.mp4", on_progress=lambda f, eta: seen.append(f))
    info = probe.probe(out)
    assert (info.video.codec, info.video.profile, info.video.pix_fmt) == ("h264", "High", "yuv420p")
    assert (info.video.width, info.video.height, info.video.rotation) == (270, 480, 0)
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("aac", 48_000, 2)
    assert abs(info.duration_us - e.duration_us) <= 34_000 + 25_000   # a frame, plus AAC priming slack
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    assert studio.drafts.get(draft.id).status == "draft"
    assert [p.name for p in (tmp_path / "exports").iterdir()] == ["reel.mp4"], "no partial files left behind"


def test_default_output_goes_to_staging_with_the_revision(qapp, studio, shared_media: Path) -> None:  # noqa: ANN001
    draft = studio.drafts.import_files([shared_media / "realshort.mp4"])
    edited(studio, draft)
    current = studio.drafts.get(draft.id)
    out = export_draft(studio, draft.id)
    assert out == studio.layout.staging / f"{draft.id}-r{current.revision}.mp4" and out.is_file()


def test_cancel_kills_ffmpeg_and_leaves_no_file(qapp, studio, shared_media: Path, tmp_path: Path) -> None:  # noqa: ANN001
    draft = studio.drafts.import_files([shared_media / "cockatoo.mp4"])    # 14 s at 1080x1920
    cancel = threading.Event()
    statuses = []

    def progress(fraction: float, eta: float | None) -> None:
        statuses.append(studio.drafts.get(draft.id).status)
        if fraction > 0.02:
            cancel.set()

    with pytest.raises(ExportCancelled):
        export_draft(studio, draft.id, tmp_path / "exports" / "reel.mp4", on_progress=progress, cancel=cancel)
    assert statuses and statuses[0] == "exporting"
    assert not (tmp_path / "exports").exists() or list((tmp_path / "exports").iterdir()) == []
    assert studio.drafts.get(draft.id).status == "draft"


def test_export_job_reports_progress_and_finishes(qtbot, studio, shared_media: Path, tmp_path: Path) -> None:  # noqa: ANN001
    draft = studio.drafts.import_files([shared_media / "realshort.mp4"])
    edited(studio, draft)
    job = ExportJob(studio, draft.id, tmp_path / "exports" / "job.mp4")
    progress = []
    job.progress.connect(lambda f, eta: progress.append(f))
    with qtbot.waitSignal(job.finished, timeout=60_000) as done:
        job.start()
    (result,) = done.args
    current = studio.drafts.get(draft.id)
    assert (result.path, result.draft_id, result.revision) == (tmp_path / "exports" / "job.mp4", draft.id,
                                                              current.revision)
    assert result.path.is_file()
    qtbot.waitUntil(lambda: bool(progress) and progress[-1] == 1.0, timeout=5_000)
    job.wait()


def test_export_job_cancel(qtbot, studio, shared_media: Path, tmp_path: Path) -> None:  # noqa: ANN001
    draft = studio.drafts.import_files([shared_media / "cockatoo.mp4"])
    job = ExportJob(studio, draft.id, tmp_path / "exports" / "job.mp4")
    job.progress.connect(lambda f, eta: job.cancel())
    with qtbot.waitSignal(job.cancelled, timeout=60_000):
        job.start()
    job.wait()
    assert not (tmp_path / "exports").exists() or list((tmp_path / "exports").iterdir()) == []


def test_export_job_failure_is_a_sentence(qtbot, studio) -> None:  # noqa: ANN001
    job = ExportJob(studio, "0" * 32)
    with qtbot.waitSignal(job.failed, timeout=10_000) as failed:
        job.start()
    job.wait()
    assert isinstance(failed.args[0], DraftNotFound)   # the signal carries the exception, with its sentence
    assert "no draft" in user_message(failed.args[0]).lower()


def test_otio_timeline_has_clips_trims_music_and_overlay_metadata(qapp, studio, shared_media: Path,  # noqa: ANN001
                                                                  tmp_path: Path) -> None:
    draft = studio.drafts.import_files([shared_media / "cockatoo.mp4", shared_media / "realshort.mp4"])
    song = studio.drafts.add_asset(draft.id, shared_media / "cockatoo.mp4", kind="audio")
    e = Edit.from_dict(studio.drafts.get(draft.id).edit)
    first, second = e.clips
    e = doc.trim_clip(e, first.id, in_us=2_000_000, out_us=5_000_000)
    e = doc.update_clip(e, second.id, speed=2.0)
    e, _ = doc.add_text(e, "Title", 0, 1_000_000)
    e, _ = doc.add_music(e, song.id, 1_000_000, offset_us=500_000)
    draft = studio.drafts.get(draft.id)
    out = write_otio(e, studio.drafts.media_refs(draft), tmp_path / "reel.otio", name=draft.title)
    tl = otio.adapters.read_from_file(str(out))
    video = tl.video_tracks()[0]
    clips = list(video.find_clips())
    assert len(clips) == 2
    assert clips[0].source_range.start_time.to_seconds() == pytest.approx(2.0)
    assert clips[0].source_range.duration.to_seconds() == pytest.approx(3.0)
    assert Path(clips[0].media_reference.target_url).is_absolute()
    assert Path(clips[0].media_reference.target_url).is_file()
    assert clips[1].effects[0].time_scalar == 2.0
    music = [t for t in tl.audio_tracks() if t.name == "Music"][0]
    assert music[0].source_range.duration.to_seconds() == pytest.approx(1.0)    # the gap before it
    assert music[1].source_range.start_time.to_seconds() == pytest.approx(0.5)
    assert tl.metadata[META_KEY]["texts"][0]["text"] == "Title"
    assert clips[0].metadata[META_KEY]["source_in_us"] == 2_000_000


def test_user_image_as_sticker_and_as_a_still_clip(qapp, studio, shared_media: Path, tmp_path: Path) -> None:  # noqa: ANN001
    from studio.media import ffmpeg

    png = tmp_path / "badge.png"
    ffmpeg.run(["-y", "-f", "lavfi", "-i", "color=c=0x00FF00:size=64x64,format=rgba", "-frames:v", "1", str(png)],
               timeout=30)
    draft = studio.drafts.import_files([shared_media / "realshort.mp4"])
    image = studio.drafts.add_asset(draft.id, png, kind="image")
    e = Edit.from_dict(studio.drafts.get(draft.id).edit)
    e.canvas = Canvas(preset="custom", width=180, height=320, fps=30)
    e, still = doc.add_clip(e, image.id, 500_000)
    e, _ = doc.add_sticker(e, f"asset:{image.id}", 0, 1_700_000, x=0.5, y=0.1, scale=0.2)
    doc.validate(e, asset_ids={a.id for a in studio.drafts.get(draft.id).assets})
    studio.drafts.update_edit(draft.id, e.to_dict())
    out = export_draft(studio, draft.id, tmp_path / "exports" / "reel.mp4")
    from editor_render_helpers import frames

    got = frames(out, 180, 320)
    assert abs(len(got) - 51) <= 1                       # 1.2 s video + 0.5 s still, at 30 fps
    green = lambda f: (f[..., 1] > 200) & (f[..., 0] < 80) & (f[..., 2] < 80)  # noqa: E731
    assert green(got[5][20:44, 75:105]).mean() > 0.8      # the sticker near the top
    assert green(got[-1][100:220, 30:150]).mean() > 0.9   # the still picture fills the frame
