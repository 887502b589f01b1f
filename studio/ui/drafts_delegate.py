"""Paints one draft card in the tray: cover (blur placeholder, then thumbnail), title, meta, badge."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from studio.ui.drafts_model import DraftRole, PlaceholderRole, ThumbRole, duration_text, relative_time

CARD_W, COVER_H, TEXT_H = 168, 280, 50
BADGES = {"exporting": ("Exporting", "#ffc371"), "queued": ("Queued", "#6ea8ff"),
          "published": ("Published", "#4cd67a")}


class DraftDelegate(QStyledItemDelegate):
    """Cards of a fixed size, so the view can lay out thousands without asking each one."""

    def __init__(self, parent=None):  # noqa: ANN001
        super().__init__(parent)
        self.painted_placeholders = 0  # counters the tests read: placeholder first, thumbnail later
        self.painted_thumbnails = 0

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:  # noqa: ANN001, N802 - Qt API
        return QSize(CARD_W + 12, COVER_H + TEXT_H + 12)

    # -- renaming in place -------------------------------------------------------------------
    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index) -> QWidget:  # noqa: ANN001, N802
        editor = super().createEditor(parent, option, index)
        editor.setObjectName("RenameEditor")
        editor.installEventFilter(_KeepKeys(editor))
        return editor

    def setEditorData(self, editor: QWidget, index) -> None:  # noqa: ANN001, N802 - Qt API
        # A thumbnail or a refresh arriving while the creator types must not put the old title back.
        if getattr(editor, "isModified", lambda: False)():
            return
        super().setEditorData(editor, index)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem, index) -> None:  # noqa: ANN001, N802
        # Over the title line of the card, where the title is painted.
        editor.setGeometry(QRect(option.rect.x() + 8, option.rect.y() + 6 + COVER_H + 4, CARD_W - 4, 24))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:  # noqa: ANN001
        d = index.data(DraftRole)
        if d is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setRenderHint(QPainter.SmoothPixmapTransform)
        card = QRect(option.rect.x() + 6, option.rect.y() + 6, CARD_W, COVER_H + TEXT_H)
        selected = bool(option.state & QStyle.State_Selected)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor("#2a2a35" if selected else "#1d1d25"))
        painter.drawRoundedRect(card, 10, 10)
        cover = QRect(card.x(), card.y(), CARD_W, COVER_H)
        clip = QPainterPath()
        clip.addRoundedRect(QRectF(cover), 10, 10)
        painter.setClipPath(clip)
        painter.fillRect(cover, QColor("#111116"))
        thumb = index.data(ThumbRole)
        if thumb is not None:
            self.painted_thumbnails += 1
            self._draw_fitted(painter, cover, thumb)
        else:
            blur = index.data(PlaceholderRole)
            if blur is not None:
                self.painted_placeholders += 1
                painter.drawImage(cover, blur)
        painter.setClipping(False)
        if selected:
            painter.setPen(QColor("#ff5f6d"))
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(QRectF(card).adjusted(0.5, 0.5, -0.5, -0.5), 10, 10)
        self._draw_badge(painter, cover, d)
        self._draw_text(painter, card, d, option)
        painter.restore()

    @staticmethod
    def _draw_fitted(painter: QPainter, box: QRect, pix) -> None:  # noqa: ANN001
        scaled = pix.size().scaled(box.size(), Qt.KeepAspectRatioByExpanding)
        target = QRect(0, 0, scaled.width(), scaled.height())
        target.moveCenter(box.center())
        painter.drawPixmap(target, pix)

    @staticmethod
    def _draw_badge(painter: QPainter, cover: QRect, d) -> None:  # noqa: ANN001
        label = BADGES.get(d.status)
        if d.media_missing:
            label = ("Media missing", "#ff5f6d")
        if d.duration_us:
            painter.setFont(QFont(painter.font().family(), 8))
            text = duration_text(d.duration_us)
            r = QRect(cover.right() - 48, cover.bottom() - 26, 42, 20)
            painter.setPen(Qt.NoPen)
            painter.setBrush(QColor(0, 0, 0, 150))
            painter.drawRoundedRect(r, 6, 6)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(r, Qt.AlignCenter, text)
        if label is None:
            return
        text, color = label
        font = QFont(painter.font().family(), 8)
        font.setBold(True)
        painter.setFont(font)
        w = painter.fontMetrics().horizontalAdvance(text) + 14
        r = QRect(cover.x() + 6, cover.y() + 6, w, 20)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(color))
        painter.drawRoundedRect(r, 6, 6)
        painter.setPen(QColor("#111116"))
        painter.drawText(r, Qt.AlignCenter, text)

    @staticmethod
    def _draw_text(painter: QPainter, card: QRect, d, option) -> None:  # noqa: ANN001
        title_font = QFont(option.font)
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(QColor("#e6e6ee"))
        tr = QRect(card.x() + 8, card.y() + COVER_H + 6, CARD_W - 16, 20)
        painter.drawText(tr, Qt.AlignLeft | Qt.AlignVCenter,
                         painter.fontMetrics().elidedText(d.title, Qt.ElideRight, tr.width()))
        painter.setFont(option.font)
        painter.setPen(QColor("#9a9aab"))
        mr = QRect(tr.x(), tr.bottom() + 2, tr.width(), 18)
        painter.drawText(mr, Qt.AlignLeft | Qt.AlignVCenter, relative_time(d.updated_at))


class _KeepKeys(QObject):
    """Return, Enter and Escape typed in the rename field belong to the field: they finish or cancel
    the rename and never reach the page's shortcuts (Return there means "open in the editor")."""

    KEYS = (Qt.Key_Return, Qt.Key_Enter, Qt.Key_Escape)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.ShortcutOverride and event.key() in self.KEYS:
            event.accept()   # delivered as an ordinary key press to the editor instead
        return False
