"""Fixtures of the Editor page tests: a real draft and the page shown at a creator's window size."""

from __future__ import annotations

import pytest
from editor_page import shown_editor_page


@pytest.fixture
def draft(studio, shared_media):
    return studio.drafts.import_files([shared_media / "cockatoo_yuv420.mp4"], title="Cockatoo")


@pytest.fixture
def page(qtbot, studio):
    yield from shown_editor_page(qtbot, studio)
