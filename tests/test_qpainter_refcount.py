"""PySide6 6.12.0 on Python 3.11 drops one reference to None on every void QPainter call.

On 3.11 None is not immortal, so the 30 fps record preview or a waveform (one drawLine per
pixel column) drives its count to zero within minutes and the interpreter aborts with
"none_dealloc". This test makes the calls the app makes, 200,000 of them, and fails if
None's reference count fell — the check to run before moving the PySide6 pin.
"""
import os
import subprocess
import sys
import textwrap

CALLS = 200_000

# In a child process: in the test run other threads (a pool job, a server's reader) run Python
# while the calls are counted, and every bytecode they run moves None's count a little either
# way (87 of 512,000 once), while the bug takes exactly one per call.
PROBE = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QLineF, QPointF, QRect, QRectF
    from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QImage, QPainter, QPainterPath, QPen

    app = QGuiApplication([])
    image = QImage(64, 64, QImage.Format.Format_ARGB32_Premultiplied)
    tile = QImage(8, 8, QImage.Format.Format_ARGB32_Premultiplied)
    tile.fill(QColor(10, 20, 30))
    pen, brush, colour = QPen(QColor(200, 10, 10)), QBrush(QColor(0, 0, 0)), QColor(1, 2, 3)
    path = QPainterPath()
    path.addRect(QRectF(1, 1, 5, 5))
    painter = QPainter(image)
    calls = (
        lambda: painter.setPen(pen),
        lambda: painter.setBrush(brush),
        lambda: painter.fillRect(QRect(0, 0, 4, 4), colour),
        lambda: painter.drawLine(0, 0, 3, 3),
        lambda: painter.drawLine(QLineF(0.0, 0.0, 5.0, 5.0)),
        lambda: painter.drawRect(QRectF(2, 2, 6, 6)),
        lambda: painter.drawImage(QPointF(1, 1), tile),
        lambda: painter.drawPath(path),
        lambda: painter.setFont(QFont()),
        lambda: painter.setOpacity(0.5),
    )
    for call in calls:   # warm-up: first calls may create caches holding None
        call()
    # A short round first: on a broken build the full count would abort the interpreter before
    # the parent could say why.
    for rounds in (100, CALLS // len(calls)):
        before = sys.getrefcount(None)
        for _ in range(rounds):
            for call in calls:
                call()
        after = sys.getrefcount(None)
        if after < before:
            break
    painter.end()
    print(before, after, rounds * len(calls))
""").replace("CALLS", str(CALLS))


def test_void_qpainter_calls_keep_none_alive():
    r = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stderr[-2000:]
    before, after, calls = map(int, r.stdout.split())
    assert after >= before, (
        f"None lost {before - after} references over {calls} QPainter calls: this PySide6 "
        "build would abort the app within minutes; keep it out of constraints.txt")
