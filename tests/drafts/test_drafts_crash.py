"""SIGKILL at random moments while a child saves, imports, edits and purges drafts (invariant 1)."""

from __future__ import annotations

import pytest

from crashtest import run_rounds


@pytest.mark.timeout(240)
def test_sigkill_30_times_the_invariant_holds(data_dir, shared_media):
    summary = run_rounds(30, data_dir, shared_media / "minimal.mp4", seed=3)
    assert summary["failures"] == []
    assert summary["saves_reported"] > 30, "the child must really have been saving between kills"
    # The kills must land inside the operations the invariant is about, not only between them.
    assert summary["kills_in_save"] >= 3, summary
    assert summary["kills_in_purge"] >= 2, summary
    assert sum(summary["settled"].values()) >= 1, f"recovery settled no half-done save or purge: {summary}"


def test_the_invariant_check_catches_breakage(studio, shared_media):
    """The checker must fail on a broken library, or the crash test proves nothing."""
    from crashtest import check_invariant

    d = studio.drafts.import_files([shared_media / "minimal.mp4"])
    assert check_invariant(studio, {d.id: d.title}, set(), set()) == []
    path = studio.drafts.asset_path(d.assets[0])
    path.write_bytes(path.read_bytes() + b"x")
    (studio.layout.media / "stray.mp4").write_bytes(b"stray")
    problems = check_invariant(studio, {d.id: d.title, "f" * 32: "ghost"}, set(), {"t9"})
    assert any("size" in p for p in problems) and any("no row" in p for p in problems)
    assert any("ghost" in p for p in problems) and any("take t9" in p for p in problems)
