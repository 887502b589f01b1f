"""The live preview of the Record page: the newest frame, a 9:16 framing guide, countdown and REC badge."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6 import QtCore
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from studio.ui.firstframe import set_enum

if TYPE_CHECKING:
    import numpy as np
    from PySide6.QtGui import QImage

# QImage, QFont, QPen and the polygon are imported where a frame, the countdown, a badge or the guide
# is drawn: the page's first frame has none of them, and each Qt type costs the start its enums.


def frame_to_image(frame: np.ndarray) -> QImage:
    """A BGR frame as a QImage that owns its pixels (the array may be reused by the producer)."""
    import numpy as np   # loaded by whoever made the frame; the page is built before any is
    from PySide6.QtGui import QImage

    h, w = frame.shape[:2]
    frame = np.ascontiguousarray(frame)
    return QImage(frame.data, w, h, frame.strides[0], QImage.Format_BGR888).copy()


class PreviewView(QFrame):
    """Paints only; the page decides what to show. Never waits on the camera.

    Until there is a picture, a countdown or a badge, the style sheet paints the background and a
    label the message: the app's first frame is this state, and QPainter's colour and pen calls
    would make PySide build the Qt namespace for it (studio/ui/firstframe.py)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("RecordPreview")
        self.setMinimumSize(360, 240)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.image: QImage | None = None
        self.message = ""
        self._message_label = QLabel(objectName="RecordPreviewMessage", wordWrap=True)
        set_enum(self._message_label, "alignment", "AlignCenter")
        self._message_label.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 24, 24, 24)
        lay.addWidget(self._message_label)
        self.countdown: int | None = None
        self.recording_time: str | None = None
        self.playing: str | None = None     # "Take 2" while a take is played back for review
        self.guide = True

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self._show_message()
        self.update()

    def set_message(self, text: str) -> None:
        self.message = text
        self._message_label.setText(text)
        self._show_message()

    def set_countdown(self, value: int | None) -> None:
        self.countdown = value
        self._show_message()
        self.update()

    def _show_message(self) -> None:
        self._message_label.setVisible(bool(self.message) and (self.image is None or self.countdown is None))

    def set_recording_time(self, text: str | None) -> None:
        self.recording_time = text
        self.update()

    def set_playing(self, text: str | None) -> None:
        self.playing = text
        self.update()

    def image_rect(self) -> QRectF:
        if self.image is None or self.image.isNull():
            return QRectF(self.rect())
        iw, ih = self.image.width(), self.image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def guide_rect(self) -> QRectF:
        """The 9:16 area a vertical reel keeps, centred in the picture."""
        r = self.image_rect()
        w = min(r.width(), r.height() * 9 / 16)
        h = w * 16 / 9
        return QRectF(r.center().x() - w / 2, r.center().y() - h / 2, w, h)

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        super().paintEvent(event)   # the style sheet's background
        has_image = self.image is not None and not self.image.isNull()
        if not has_image and self.countdown is None and self.recording_time is None and self.playing is None:
            return   # the background and the message label are the whole picture
        p = QPainter(self)
        p.setRenderHint(QPainter.SmoothPixmapTransform)
        if has_image:
            target = self.image_rect()
            p.drawImage(target, self.image)
            if self.guide:
                self._paint_guide(p, target)
        if self.countdown is not None:
            from PySide6.QtGui import QFont

            font = QFont(self.font())
            font.setPixelSize(max(48, self.height() // 4))
            font.setBold(True)
            p.setFont(font)
            p.setPen(QColor(255, 255, 255, 230))
            p.drawText(self.rect(), QtCore.Qt.AlignCenter, str(self.countdown))
        if self.recording_time is not None:
            self._paint_rec_badge(p)
        elif self.playing is not None:
            self._paint_play_badge(p)
        p.end()

    def _paint_guide(self, p: QPainter, picture: QRectF) -> None:
        from PySide6.QtGui import QPen

        guide = self.guide_rect()
        shade = QColor(0, 0, 0, 110)
        p.fillRect(QRectF(picture.left(), picture.top(), guide.left() - picture.left(), picture.height()), shade)
        p.fillRect(QRectF(guide.right(), picture.top(), picture.right() - guide.right(), picture.height()), shade)
        pen = QPen(QColor(255, 255, 255, 200), 1.5, QtCore.Qt.DashLine)
        p.setPen(pen)
        p.drawRect(guide)

    def _paint_badge(self, p: QPainter, text: str, mark) -> None:  # noqa: ANN001 - mark(p, badge)
        """The dark pill at the top left with a mark (● or ▶) and ``text``."""
        from PySide6.QtGui import QFont

        font = QFont(self.font())
        font.setPixelSize(16)
        font.setBold(True)
        p.setFont(font)
        badge = QRectF(16, 16, 130, 30)
        p.setPen(QtCore.Qt.NoPen)
        p.setBrush(QColor(0, 0, 0, 160))
        p.drawRoundedRect(badge, 8, 8)
        mark(p, badge)
        p.setPen(QColor("white"))
        p.drawText(badge.adjusted(30, 0, -6, 0), QtCore.Qt.AlignVCenter | QtCore.Qt.AlignLeft, text)

    def _paint_rec_badge(self, p: QPainter) -> None:
        def dot(p: QPainter, badge: QRectF) -> None:
            p.setBrush(QColor("#ff3b4a"))
            p.drawEllipse(QRectF(badge.left() + 10, badge.top() + 9, 12, 12))

        self._paint_badge(p, self.recording_time or "", dot)

    def _paint_play_badge(self, p: QPainter) -> None:
        def triangle(p: QPainter, badge: QRectF) -> None:
            from PySide6.QtCore import QPointF
            from PySide6.QtGui import QPolygonF

            p.setBrush(QColor("white"))
            x, y = badge.left() + 11, badge.top() + 8
            p.drawPolygon(QPolygonF([QPointF(x, y), QPointF(x, y + 14), QPointF(x + 12, y + 7)]))

        self._paint_badge(p, self.playing or "", triangle)
