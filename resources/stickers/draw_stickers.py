"""Redraw the bundled stickers (original artwork, CC0): `.venv/bin/python resources/stickers/draw_stickers.py`."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QImage, QPainter, QPainterPath, QPen, QPolygonF

HERE = Path(__file__).resolve().parent
SIZE = 256


def canvas() -> tuple[QImage, QPainter]:
    img = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(0)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    return img, p


def outline() -> QPen:
    return QPen(QColor("#FFFFFF"), 10, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)


def heart(p: QPainter) -> None:
    path = QPainterPath(QPointF(128, 220))
    path.cubicTo(20, 140, 20, 40, 90, 40)
    path.cubicTo(115, 40, 128, 60, 128, 75)
    path.cubicTo(128, 60, 141, 40, 166, 40)
    path.cubicTo(236, 40, 236, 140, 128, 220)
    p.setPen(outline())
    p.setBrush(QColor("#FF3B6B"))
    p.drawPath(path)


def star(p: QPainter) -> None:
    pts = []
    for i in range(10):
        r = 110 if i % 2 == 0 else 48
        a = -math.pi / 2 + i * math.pi / 5
        pts.append(QPointF(128 + r * math.cos(a), 134 + r * math.sin(a)))
    p.setPen(outline())
    p.setBrush(QColor("#FFC83D"))
    p.drawPolygon(QPolygonF(pts))


def sparkle(p: QPainter) -> None:
    for cx, cy, r, color in ((110, 120, 90, "#8FE3FF"), (200, 200, 36, "#FFFFFF"), (200, 50, 26, "#FFFFFF")):
        path = QPainterPath(QPointF(cx, cy - r))
        for dx, dy in ((r, 0), (0, r), (-r, 0), (0, -r)):
            path.quadTo(QPointF(cx, cy), QPointF(cx + dx, cy + dy))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(color))
        p.drawPath(path)


def smiley(p: QPainter) -> None:
    p.setPen(outline())
    p.setBrush(QColor("#FFD93B"))
    p.drawEllipse(QRectF(20, 20, 216, 216))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#3A2A10"))
    p.drawEllipse(QRectF(80, 80, 26, 40))
    p.drawEllipse(QRectF(150, 80, 26, 40))
    p.setPen(QPen(QColor("#3A2A10"), 14, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(68, 90, 120, 100), 200 * 16, 140 * 16)


def arrow(p: QPainter) -> None:
    pts = [QPointF(30, 100), QPointF(140, 100), QPointF(140, 40), QPointF(230, 128), QPointF(140, 216),
           QPointF(140, 156), QPointF(30, 156)]
    p.setPen(outline())
    p.setBrush(QColor("#4CD964"))
    p.drawPolygon(QPolygonF(pts))


def wow(p: QPainter) -> None:
    path = QPainterPath()
    path.addRoundedRect(QRectF(16, 40, 224, 140), 40, 40)
    tail = QPainterPath(QPointF(70, 170))
    tail.lineTo(50, 236)
    tail.lineTo(120, 176)
    path = path.united(tail)
    p.setPen(outline())
    p.setBrush(QColor("#7B5CFF"))
    p.drawPath(path)
    font = QFont("DejaVu Sans")
    font.setPixelSize(72)
    font.setBold(True)
    p.setFont(font)
    p.setPen(QColor("#FFFFFF"))
    p.drawText(QRectF(16, 40, 224, 140), int(Qt.AlignmentFlag.AlignCenter), "WOW")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QGuiApplication(sys.argv)  # noqa: F841 - painting needs the application object
    for name, fn in (("heart", heart), ("star", star), ("sparkle", sparkle), ("smiley", smiley),
                     ("arrow", arrow), ("wow", wow)):
        img, p = canvas()
        fn(p)
        p.end()
        img.save(str(HERE / f"{name}.png"), "PNG")
    return 0


if __name__ == "__main__":
    sys.exit(main())
