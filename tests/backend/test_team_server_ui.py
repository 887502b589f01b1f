"""Settings → Destinations → "Team server" with pytest-qt against a real backend: only a URL and a device
token are asked for; Test gives the CLI's verdict; Save keeps the token in the keyring; editing keeps it."""

from __future__ import annotations

import pytest
from backend_helpers import add_device
from PySide6.QtCore import Qt


@pytest.fixture
def panel(qtbot, studio):
    from studio.ui.destinations import DestinationsPanel

    p = DestinationsPanel(studio)
    qtbot.addWidget(p)
    p.resize(640, 480)
    p.show()
    qtbot.waitUntil(lambda: p.list.count() >= 1, timeout=10000)
    return p


def _test(qtbot, dialog) -> dict:  # noqa: ANN001
    dialog.last_test = None
    qtbot.mouseClick(dialog.test_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.last_test is not None, timeout=30000)
    return dialog.last_test


def test_add_a_team_server_in_the_window(qtbot, studio, panel, start_backend, s3_server):
    from studio.uploader import credentials

    backend = start_backend()
    token = add_device(backend.db, "window-laptop")
    dialog = panel.open_dialog(None)
    dialog.kind.setCurrentIndex(dialog.kind.findData("team"))
    assert dialog.server_url.isVisible() and dialog.token.isVisible()
    assert not dialog.endpoint.isVisible() and not dialog.secret_key.isVisible() and not dialog.bucket.isVisible()
    dialog.name.setText("team")
    dialog.server_url.setText(backend.url)

    dialog.token.setText("rsd_wrong")
    bad = _test(qtbot, dialog)
    assert not bad["ok"] and "refused this device's token" in bad["verdict"]
    dialog.token.setText(token)
    good = _test(qtbot, dialog)
    assert good["ok"] and "window-laptop" in good["verdict"], good
    assert dialog.verdict.text().startswith("✓ ")

    with qtbot.waitSignal(dialog.saved, timeout=30000):
        qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.LeftButton)
    qtbot.waitUntil(lambda: any("Team server" in panel.list.item(i).text() for i in range(panel.list.count())),
                    timeout=10000)
    saved = studio.targets.get("team")
    assert saved.is_backend and saved.bucket == s3_server["bucket"] and saved.credential_source == "keyring"
    assert credentials.get_secret("backend:team") == {"token": token}

    # editing with the token left empty keeps the stored one
    panel.list.setCurrentRow([t.name for t in panel.targets].index("team"))
    edit = panel.open_dialog(panel.selected())
    assert edit.kind.currentData() == "team" and edit.server_url.text() == backend.url and edit.token.text() == ""
    with qtbot.waitSignal(edit.saved, timeout=30000):
        edit.save()
    assert credentials.get_secret("backend:team") == {"token": token}
    assert studio.targets.test("team")["ok"]
