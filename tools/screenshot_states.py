"""States worth a screenshot that a plain start cannot reach: run by tools/screenshots.py under its Xvfb.

    python tools/screenshot_states.py PROFILE OUT_DIR DRAFT_ID

Drives the real main window on the seeded profile, the way a creator would click:
- editor-exported.png: the editor after Export, with the "Play / Show in folder" bar;
- editor-captions.png: the Captions panel open on word-timed captions, TikTok's safe-zone guide on;
- uploads-post.png: a live post's row with its files shown;
- uploads-link.png: the Uploads page after "Copy link" on a finished upload (the link's expiry shown);
- destinations.png: Settings → Destinations with a cloud bucket next to "This computer".
Each shot is grabbed from the X screen, so it is what the creator sees.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QPushButton, QWidget


def grab(widget: QWidget, path: Path) -> None:
    QApplication.processEvents()
    geo = widget.frameGeometry()
    pixmap = widget.screen().grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height())
    if pixmap.isNull() or not pixmap.save(str(path), "PNG"):
        raise SystemExit(f"could not grab {path}")
    print(f"wrote {path}", flush=True)


def wait(condition, timeout: float = 240.0) -> bool:  # noqa: ANN001 - callable
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        QApplication.processEvents()
        if condition():
            return True
        time.sleep(0.05)
    return False


def settle(seconds: float) -> None:
    wait(lambda: False, seconds)


def main() -> int:
    profile, out, draft_id = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    from studio import logs
    from studio.app import build

    studio = build(profile)
    logs.setup_logging(studio.layout.logs)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from studio.ui import theme
    from studio.ui.main_window import MainWindow

    theme.apply(app)
    window = MainWindow(studio)
    window.resize(1280, 820)
    window.move(40, 30)
    window.show()

    editor = window.show_page("editor", draft_id)
    if not wait(lambda: getattr(editor, "session", None) is not None, 120):
        raise SystemExit("the draft did not open in the editor")
    settle(3)
    editor.export()
    if not wait(lambda: editor.export_done.isVisible(), 600):
        raise SystemExit("the export did not finish")
    settle(2)
    grab(window, out / "editor-exported.png")

    editor.seek(2_450_000)                         # on "hello": the karaoke word is lit
    editor.captions_button.click()
    editor.set_safe_zone("tiktok")
    settle(3)
    grab(window, out / "editor-captions.png")
    editor.captions_button.click()
    editor.set_safe_zone("")

    uploads = window.show_page("uploads")
    if not wait(lambda: any(r.post.state == "LIVE" for r in uploads.post_rows.values()), 60):
        raise SystemExit("no live post on the Uploads page")
    post = next(r for r in uploads.post_rows.values() if r.post.state == "LIVE")
    post.buttons["files"].setChecked(True)
    settle(2)
    grab(window, out / "uploads-post.png")
    post.buttons["files"].setChecked(False)
    if not wait(lambda: any(r.job.state == "COMPLETED" for r in uploads.rows.values()), 60):
        raise SystemExit("no finished upload on the Uploads page")
    done = next(r for r in uploads.rows.values() if r.job.state == "COMPLETED")
    copy = next(b for b in done.findChildren(QPushButton) if b.text() == "Copy link")
    copy.click()
    if not wait(lambda: uploads.status.text().startswith("Link copied"), 60):
        raise SystemExit(f"Copy link said: {uploads.status.text()}")
    settle(1)
    grab(window, out / "uploads-link.png")

    window.open_settings()
    dialog = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "SettingsDialog" or
                  type(w).__name__ == "SettingsDialog")
    dialog.tabs.setCurrentIndex(dialog.tabs.indexOf(dialog.destinations))
    dialog.resize(760, 520)
    settle(3)
    grab(dialog, out / "destinations.png")

    QTimer.singleShot(0, app.quit)
    window.close()
    app.exec()
    studio.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
