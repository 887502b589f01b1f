"""The Editor page as the UI tests open it: shown at a creator's window size, shut down after."""

from __future__ import annotations

from typing import Iterator


def shown_editor_page(qtbot, studio, width: int = 1200, height: int = 820) -> Iterator:  # noqa: ANN001
    """For a fixture: ``yield from shown_editor_page(qtbot, studio)``."""
    from studio.ui.pages.editor import EditorPage

    p = EditorPage(studio)
    qtbot.addWidget(p)
    p.resize(width, height)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.shutdown()
