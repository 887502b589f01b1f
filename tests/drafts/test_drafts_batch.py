"""DraftStore.import_batch, the one service call behind `studio drafts import` and the page's drops."""

from __future__ import annotations

import threading

from studio.drafts.store import ImportReport

BATCH = ["minimal.mp4", "chunk_out_of_range.mp4", "realshort.mp4", "short-cenc.mp4", "white.mp4"]


def test_every_good_file_is_kept_and_every_bad_one_named(studio, shared_media):
    seen = []
    report = studio.drafts.import_batch([shared_media / n for n in BATCH], on_progress=lambda d, t: seen.append((d, t)))
    assert isinstance(report, ImportReport) and not report.cancelled
    assert [d.title for d in report.drafts] == ["minimal", "realshort", "white"]
    assert [(r.path.name, r.reason) for r in report.refused] == [("chunk_out_of_range.mp4", "unreadable"),
                                                                ("short-cenc.mp4", "encrypted")]
    assert seen == sorted(seen) and seen[-1] == (5, 5)
    assert sorted(d.title for d in studio.drafts.list_drafts()) == ["minimal", "realshort", "white"]
    assert report.summary().startswith("3 drafts imported; 2 files refused: “chunk_out_of_range.mp4” cannot be read")


def test_together_makes_one_draft_of_the_good_files_in_order(studio, shared_media):
    report = studio.drafts.import_batch([shared_media / n for n in BATCH], together=True, title="Mix")
    (d,) = report.drafts
    assert d.title == "Mix" and [a.duration_us for a in d.assets] == [40_000, 1_200_000, 10_000_000]
    assert [c["asset_id"] for c in d.edit["clips"]] == [a.id for a in d.assets]


def test_nothing_good_imports_nothing_and_says_so(studio, shared_media):
    report = studio.drafts.import_batch([shared_media / "short-cenc.mp4", shared_media / "nope.mp4"])
    assert report.drafts == () and len(report.refused) == 2
    assert report.summary().startswith("Nothing was imported; 2 files refused: ")
    assert studio.drafts.list_drafts() == []


def test_cancel_keeps_what_was_imported_and_stops(studio, shared_media):
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done == 1:
            cancel.set()

    files = [shared_media / n for n in ("chunk_out_of_range.mp4", "minimal.mp4", "realshort.mp4")]
    report = studio.drafts.import_batch(files, on_progress=progress, cancel=cancel)
    assert report.cancelled and report.drafts == ()
    assert "cancelled" in report.summary()
    assert studio.drafts.list_drafts() == []


def test_pictures_without_clips_each_get_their_own_card(studio, tmp_path):
    from PIL import Image

    for name, colour in (("red.png", (220, 20, 20)), ("blue.png", (20, 20, 220))):
        Image.new("RGB", (300, 200), colour).save(tmp_path / name)
    report = studio.drafts.import_batch([tmp_path / "red.png", tmp_path / "blue.png"])
    red, blue = (studio.drafts.get(d.id) for d in report.drafts)
    assert studio.drafts.cover_key(red) != studio.drafts.cover_key(blue)
    with Image.open(studio.drafts.thumbnail(red)) as a, Image.open(studio.drafts.thumbnail(blue)) as b:
        assert a.convert("RGB").getpixel((10, 10))[0] > 150 and b.convert("RGB").getpixel((10, 10))[2] > 150
