"""The start: the first frame is the real Record page, with nothing heavy loaded for it; other pages
paint their title first and load after; the GUI's argument shortcuts; `studio FILE…`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget

from studio.cli import given_files, names_a_command
from studio.ui.main_window import FIRST_FRAME_PAGES, PAGES, MainWindow
from support.cli_runner import run_cli

ROOT = Path(__file__).resolve().parent.parent
# What the first frame must not wait for: loaded after it, off the UI thread where they are slow.
HEAVY = ("numpy", "cv2", "av", "sqlalchemy", "alembic", "boto3", "botocore", "keyring", "PIL",
         "PySide6.QtMultimedia", "studio.db", "studio.drafts", "studio.editor", "studio.uploader",
         "studio.media", "studio.capture.recorder", "studio.capture.sources")


def app_env(**extra: str) -> dict:
    """The environment of a child Python that runs this checkout's app offscreen."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", **extra}


def test_only_gui_options_skip_the_sub_commands(tmp_path):
    assert not names_a_command([])
    assert not names_a_command(["--data-dir", "x", "--quit-after", "1", "--page", "drafts", "-v"])
    assert names_a_command(["doctor"]) and names_a_command(["--data-dir", "x", "drafts", "list"])
    assert names_a_command(["--help"]) and names_a_command(["-h"])
    assert names_a_command(["--data", "x"])   # an abbreviation: the full parser decides


def test_files_given_to_the_gui_are_split_from_its_options(tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    assert given_files(["--data-dir", "d", str(clip)]) == (["--data-dir", "d"], [str(clip)])
    assert given_files(["drafts", "import", str(clip)]) == (["drafts", "import", str(clip)], [])
    assert given_files([str(tmp_path / "missing.mp4")]) == ([str(tmp_path / "missing.mp4")], [])
    assert given_files(["--data-dir", str(tmp_path)]) == (["--data-dir", str(tmp_path)], [])


def test_the_first_page_loads_after_the_first_paint(qtbot, studio):
    w = MainWindow(studio, after_first_paint=True)
    qtbot.addWidget(w)
    changed = []
    w.pageChanged.connect(changed.append)
    w.show_page_soon("drafts")
    assert w.current_page_key() == "drafts" and w.sidebar.currentRow() == 1
    assert changed == ["drafts"]                  # remembered for the next start at once
    assert "drafts" not in w._pages               # nothing built before the window painted
    with qtbot.waitSignal(w.firstPainted, timeout=10000):
        w.show()
    qtbot.waitUntil(lambda: "drafts" in w._pages, timeout=20000)
    assert w.stack.currentWidget() is w.page("drafts")
    qtbot.waitUntil(lambda: "free" in w.storage_label.text(), timeout=20000)   # the status bar's services too


def test_picking_another_page_while_the_first_loads_wins(qtbot, studio):
    w = MainWindow(studio, after_first_paint=True)
    qtbot.addWidget(w)
    w.show_page_soon("drafts")
    w.show()
    w.show_page("uploads")
    qtbot.waitUntil(lambda: not w._loading, timeout=20000)
    assert w.current_page_key() == "uploads" and isinstance(w.stack.currentWidget(), QWidget)
    assert "drafts" not in w._pages


def test_when_page_runs_now_or_once_built(qtbot, studio):
    w = MainWindow(studio)
    qtbot.addWidget(w)
    seen = []
    w.when_page("uploads", lambda page: seen.append(page))
    assert seen == []
    page = w.page("uploads")
    w.when_page("uploads", lambda p: seen.append(p))
    assert seen == [page, page]


@pytest.mark.slow
def test_studio_with_a_file_opens_and_imports_it(data_dir, shared_media):
    r = run_cli("--quit-after", "10", str(shared_media / "minimal.mp4"), data_dir=data_dir, timeout=120)
    assert r.returncode == 0, r.stderr
    r = run_cli("drafts", "list", "--json", data_dir=data_dir, timeout=60)
    drafts = json.loads(r.stdout)
    assert len(drafts) == 1, r.stdout


def test_the_window_and_its_first_frame_pages_import_nothing_heavy():
    modules = ["studio.ui.launch", "studio.ui.main_window"] + [m for k, _l, m, _c in PAGES if k in FIRST_FRAME_PAGES]
    probe = ("import sys\n"
             + "".join(f"import {m}\n" for m in modules)
             + f"heavy = {HEAVY!r}\n"
             + "print(sorted(n for n in sys.modules if any(n == h or n.startswith(h + '.') for h in heavy)))")
    env = app_env()
    r = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", f"loaded before the first paint: {r.stdout.strip()}"


def test_the_first_frame_is_the_real_record_page_and_its_devices_come_after(qtbot, studio, monkeypatch):
    monkeypatch.setattr("studio.capture.devices.list_cameras", lambda: [])
    from studio.capture.session import State
    from studio.ui.pages.record import RecordPage

    w = MainWindow(studio, after_first_paint=True)
    qtbot.addWidget(w)
    events = []
    w.contentPainted.connect(lambda: events.append(("content", type(w.stack.currentWidget()).__name__)))
    w.firstPainted.connect(lambda: events.append(("window", None)))
    w.show_first_page("record")
    page = w.stack.currentWidget()
    assert isinstance(page, RecordPage) and w.current_page_key() == "record"   # built before the window shows
    assert page.session.state is State.CLOSED and not page._choices_loaded    # no device touched yet
    with qtbot.waitSignal(w.contentPainted, timeout=10000):
        w.show()
    assert events[0] == ("content", "RecordPage")   # the probe's frame held the real page
    qtbot.waitUntil(lambda: page.session.state is State.READY, timeout=20000)   # then the source opens
    assert page._choices_loaded


def test_a_placeholder_frame_is_not_the_content(qtbot, studio):
    w = MainWindow(studio, after_first_paint=True)
    qtbot.addWidget(w)
    content = []
    w.contentPainted.connect(lambda: content.append(w.stack.currentWidget()))
    w.show_first_page("drafts")            # not a first-frame page: its title shows while it loads
    assert "drafts" not in w._pages
    with qtbot.waitSignal(w.firstPainted, timeout=10000):
        w.show()
    assert content == []
    qtbot.waitUntil(lambda: bool(content), timeout=30000)
    assert content == [w.page("drafts")]


def test_the_probe_marks_the_first_paint_of_the_real_page(data_dir):
    env = app_env(STUDIO_STARTUP_PROBE="1")
    r = subprocess.run([sys.executable, "-m", "studio", "--data-dir", str(data_dir), "--quit-after", "2"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:2] == ["studio:window-shown", "studio:closing"]
    log = (data_dir / "logs" / "studio.log").read_text(encoding="utf-8")
    assert "main window shown with its page" in log


# Run as the app is (python -m studio), with one hook: at the paint that holds the real first page,
# say whether PySide's Qt namespace (93 Python enums, studio/ui/firstframe.py) has been made yet.
_QT_NAMESPACE_PROBE = """
import sys
from PySide6 import QtCore
from studio.ui import main_window

mark = main_window.MainWindow._mark_content_painted

def probe(self):
    if not self._content_painted:
        print("qt namespace made" if "Qt" in QtCore.__dict__ else "qt namespace unmade", flush=True)
    mark(self)

main_window.MainWindow._mark_content_painted = probe
from studio.cli import exit_process, main
exit_process(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("previous_page", [None, "record"])
def test_the_first_frame_is_painted_before_the_qt_namespace_is_made(tmp_path, previous_page):
    data_dir = tmp_path / "profile"
    env = app_env()
    args = [sys.executable, "-c", _QT_NAMESPACE_PROBE, "--data-dir", str(data_dir), "--quit-after", "1"]
    if previous_page:   # a warm profile: the last run ended cleanly on that page (the bench's case)
        first = subprocess.run([*args, "--page", previous_page], env=env, capture_output=True, text=True,
                               timeout=120)
        assert first.returncode == 0, first.stderr
    r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:1] == ["qt namespace unmade"], r.stdout + r.stderr


def test_the_first_frames_qt_values_are_qts(qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QShortcut
    from PySide6.QtWidgets import QListWidget

    from studio.ui.firstframe import USER_ROLE, set_enum

    assert USER_ROLE == Qt.UserRole
    w = QListWidget()
    qtbot.addWidget(w)
    set_enum(w, "focusPolicy", "ClickFocus")
    set_enum(w, "horizontalScrollBarPolicy", "ScrollBarAlwaysOff")
    assert w.focusPolicy() == Qt.ClickFocus and w.horizontalScrollBarPolicy() == Qt.ScrollBarAlwaysOff
    sc = QShortcut(w)
    set_enum(sc, "context", "WidgetWithChildrenShortcut")
    assert sc.context() == Qt.WidgetWithChildrenShortcut
    with pytest.raises(ValueError, match="focusPolicy"):
        set_enum(w, "focusPolicy", "NoSuchFocus")
    with pytest.raises(AttributeError, match="noSuchProperty"):
        set_enum(w, "noSuchProperty", "ClickFocus")


def test_the_log_file_starts_plain_and_rotates_once_shown(tmp_path):
    import logging
    from logging.handlers import RotatingFileHandler

    from studio import logs

    root = logging.getLogger()
    before = list(root.handlers)
    try:
        logfile = logs.setup_logging(tmp_path / "logs", rotating=False)
        ours = [h for h in root.handlers if getattr(h, "_studio", False) and isinstance(h, logging.FileHandler)]
        assert [type(h) for h in ours] == [logging.FileHandler]
        logging.getLogger("studio.test").info("before the first paint")
        logs.rotate_from_now()
        ours = [h for h in root.handlers if getattr(h, "_studio", False) and isinstance(h, logging.FileHandler)]
        assert [type(h) for h in ours] == [RotatingFileHandler] and ours[0].maxBytes == 2 * 1024 * 1024
        logging.getLogger("studio.test").info("after it")
        text = logfile.read_text(encoding="utf-8")
        assert text.count("before the first paint") == 1 and text.count("after it") == 1
    finally:
        for h in list(root.handlers):
            if h not in before:
                root.removeHandler(h)
                h.close()
        root.handlers[:] = before
