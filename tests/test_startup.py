"""The start: the window paints before its page loads; the GUI's argument shortcuts; `studio FILE…`."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QWidget

from studio.cli import given_files, names_a_command
from studio.ui.main_window import MainWindow
from support.cli_runner import run_cli


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
