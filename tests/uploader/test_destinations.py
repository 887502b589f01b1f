"""Settings → Destinations with pytest-qt against the real SeaweedFS: add, test (ok, and a wrong secret
with the same verdict as `studio targets test`), edit, remove; keys only in the keyring."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox


@pytest.fixture
def panel(qtbot, studio):
    from studio.ui.destinations import DestinationsPanel

    p = DestinationsPanel(studio)
    qtbot.addWidget(p)
    p.resize(640, 420)
    p.show()
    qtbot.waitUntil(lambda: p.list.count() >= 1, timeout=10000)
    return p


def database_bytes(path: Path) -> bytes:
    """studio.db and its WAL, read by a child process: opening and closing the database file in this
    process would drop the POSIX locks SQLite holds on it, and the next access fails (disk I/O error)."""
    code = ("import os, sys; p = sys.argv[1]; sys.stdout.buffer.write(b''.join("
            "open(f, 'rb').read() for f in (p, p + '-wal') if os.path.exists(f)))")
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, check=True).stdout


def fill(dialog, s3_server, *, name="weed", secret=None) -> None:  # noqa: ANN001
    dialog.kind.setCurrentIndex(dialog.kind.findData("s3"))
    dialog.name.setText(name)
    dialog.endpoint.setText(s3_server["endpoint"])
    dialog.bucket.setText(s3_server["bucket"])
    assert dialog.path_style.isChecked()
    dialog.use_keyring.setChecked(True)
    dialog.access_key.setText(s3_server["access_key"])
    dialog.secret_key.setText(secret or s3_server["secret_key"])


def run_test(qtbot, dialog) -> dict:  # noqa: ANN001
    dialog.last_test = None
    qtbot.mouseClick(dialog.test_button, Qt.LeftButton)
    assert dialog.verdict.text() == "Testing…"   # off the UI thread: the dialog answers meanwhile
    qtbot.waitUntil(lambda: dialog.last_test is not None, timeout=30000)
    return dialog.last_test


def test_add_test_edit_remove_a_destination(qtbot, studio, s3_server, panel, cli):
    assert panel.list.item(0).text().startswith("This computer")
    assert not panel.edit_button.isEnabled() and not panel.remove_button.isEnabled()

    # add: a wrong secret first — the verdict says so, and is the CLI's verdict word for word
    qtbot.mouseClick(panel.add_button, Qt.LeftButton)
    dialog = panel.dialog
    fill(dialog, s3_server, secret="not-the-secret")
    bad = run_test(qtbot, dialog)
    assert not bad["ok"] and dialog.verdict.text().startswith("✗ ")
    fill(dialog, s3_server)
    good = run_test(qtbot, dialog)
    assert good["ok"] and "works" in dialog.verdict.text()
    with qtbot.waitSignal(dialog.saved, timeout=10000):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: panel.list.count() == 2, timeout=10000)
    assert panel.selected().name == "weed" and "weed" in panel.list.currentItem().text()
    saved = studio.targets.get("weed")
    assert (saved.endpoint_url, saved.addressing_style, saved.credential_source) == (
        s3_server["endpoint"], "path", "keyring")
    # the secret is in the keyring, nowhere else
    keyring_file = Path(os.environ["STUDIO_TEST_KEYRING"]).read_text()
    assert s3_server["secret_key"] in keyring_file
    assert s3_server["secret_key"].encode() not in database_bytes(studio.layout.database)

    # the panel's Test on the saved destination = `studio targets test`
    qtbot.mouseClick(panel.test_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.verdict.text().startswith(("✓", "✗")), timeout=30000)
    assert panel.verdict.text().startswith("✓ ")
    out = cli("targets", "test", "weed", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["verdict"] == panel.verdict.text()[2:]

    # edit: a wrong secret is saved; Test and the CLI agree on the verdict
    qtbot.mouseClick(panel.edit_button, Qt.LeftButton)
    dialog = panel.dialog
    assert not dialog.name.isEnabled() and dialog.endpoint.text() == s3_server["endpoint"]
    dialog.secret_key.setText("wrong-again")
    dialog.access_key.setText(s3_server["access_key"])
    with qtbot.waitSignal(dialog.saved, timeout=10000):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: panel.verdict.text().startswith("Saved"), timeout=10000)
    qtbot.mouseClick(panel.test_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.verdict.text().startswith(("✓", "✗")), timeout=30000)
    assert panel.verdict.text().startswith("✗ ")
    out = cli("targets", "test", "weed", "--json")
    assert out.returncode == 1 and json.loads(out.stdout)["verdict"] == panel.verdict.text()[2:]

    # edit again: keys left empty keep the stored ones; the public base URL is saved
    qtbot.mouseClick(panel.edit_button, Qt.LeftButton)
    dialog = panel.dialog
    dialog.secret_key.setText(s3_server["secret_key"])
    with qtbot.waitSignal(dialog.saved, timeout=10000):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.mouseClick(panel.edit_button, Qt.LeftButton)
    dialog = panel.dialog
    assert dialog.secret_key.text() == "" and "unchanged" in dialog.secret_key.placeholderText()
    dialog.public_url.setText("https://cdn.example.com/media")
    with qtbot.waitSignal(dialog.saved, timeout=10000):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert studio.targets.get("weed").public_base_url == "https://cdn.example.com/media"
    assert studio.targets.test("weed")["ok"]   # the stored keys were kept

    # remove, after confirming
    qtbot.waitUntil(lambda: panel.selected() is not None and panel.selected().name == "weed", timeout=10000)
    qtbot.mouseClick(panel.remove_button, Qt.LeftButton)
    assert panel.confirm.isVisible() and "weed" in panel.confirm.text()
    panel.confirm.button(QMessageBox.Yes).click()
    qtbot.waitUntil(lambda: panel.list.count() == 1, timeout=10000)
    assert [t.name for t in studio.targets.list()] == ["local"]
    assert s3_server["secret_key"] not in Path(os.environ["STUDIO_TEST_KEYRING"]).read_text()


def test_bad_fields_get_a_sentence_and_nothing_is_saved(qtbot, studio, panel):
    qtbot.mouseClick(panel.add_button, Qt.LeftButton)
    dialog = panel.dialog
    dialog.kind.setCurrentIndex(dialog.kind.findData("r2"))
    assert dialog.region.text() == "auto" and "r2.cloudflarestorage.com" in dialog.endpoint.placeholderText()
    dialog.name.setText("r2")
    dialog.bucket.setText("reels")
    dialog.access_key.setText("AK")
    dialog.secret_key.setText("SK")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: dialog.verdict.text().startswith("✗"), timeout=10000)
    assert "needs an endpoint URL" in dialog.verdict.text() and dialog.isVisible()
    dialog.endpoint.setText("ftp://nope")
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    qtbot.waitUntil(lambda: "http" in dialog.verdict.text(), timeout=10000)
    assert [t.name for t in studio.targets.list()] == ["local"]


def test_settings_has_destinations_and_the_export_folder(qtbot, studio, tmp_path):
    from studio.editor.export import export_folder
    from studio.ui.dialogs import SettingsDialog

    dlg = SettingsDialog(studio.layout, studio=studio)
    qtbot.addWidget(dlg)
    assert [dlg.tabs.tabText(i) for i in range(dlg.tabs.count())] == ["General", "Destinations"]
    dlg.export_folder.setText(str(tmp_path / "Reels out"))
    dlg.accept()
    assert export_folder(studio.layout) == tmp_path / "Reels out"
