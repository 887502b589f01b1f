"""Fixtures of the Editor page tests: a real draft and the page shown at a creator's window size."""

from __future__ import annotations

import pytest


@pytest.fixture
def draft(studio, shared_media):
    return studio.drafts.import_files([shared_media / "cockatoo_yuv420.mp4"], title="Cockatoo")


@pytest.fixture
def page(qtbot, studio):
    from studio.ui.pages.editor import EditorPage

    p = EditorPage(studio)
    qtbot.addWidget(p)
    p.resize(1200, 820)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.shutdown()
