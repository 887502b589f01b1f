"""The reference for bench_startup: a bare PySide6 QMainWindow, shown, with the app's probe markers.

Prints ``studio:window-shown`` from its first paint (as the app does) and ``studio:closing`` when
it closes, then exits.
"""

import sys

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow


class FirstPaint(QObject):
    def eventFilter(self, obj, event):  # noqa: N802, ANN001 - Qt override
        if event.type() == QEvent.Paint:
            obj.removeEventFilter(self)
            print("studio:window-shown", flush=True)
        return False


def main() -> int:
    quit_after = float(sys.argv[sys.argv.index("--quit-after") + 1]) if "--quit-after" in sys.argv else 0.3
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.resize(1280, 820)
    probe = FirstPaint()
    window.installEventFilter(probe)
    window.show()

    def close() -> None:
        print("studio:closing", flush=True)
        window.close()

    QTimer.singleShot(int(quit_after * 1000), close)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
