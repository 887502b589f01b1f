"""The 9:16 preview viewport: shows the composited frame; overlays are dragged and resized on it.

The picture comes from the playback worker (already composited: the same PNGs the export uses);
this widget only adds the selection frame and the handles. Overlay boxes are in preview pixels
(``RasterOverlay`` from the compositor); gestures come out as normalized canvas coordinates.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

HANDLE = 12


class PreviewViewport(QWidget):
    overlaySelected = Signal(str, str)                   # kind ("text"/"sticker"/""), id
    overlayMoved = Signal(str, float, float, bool)       # id, centre x, centre y (0..1), finished
    overlayResized = Signal(str, float, bool)            # id, factor relative to the drag start, finished
    overlayActivated = Signal(str, str)                  # double-click: kind, id (edit its text)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("PreviewViewport")
        self.setMinimumSize(QSize(160, 200))   # small windows keep the transport and timeline in view
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)   # a click on the picture ends typing in a field
        self.image: QImage | None = None
        self.exact = False
        self.canvas_size = (540, 960)           # preview pixels of the picture
        self.boxes: dict[str, tuple[str, QRectF]] = {}   # overlay id -> (kind, rect in preview px)
        self.visible_ids: set[str] = set()
        self.selected = ""
        self.message = ""
        self.safe_zones: list = []               # safezones.Zone of the platform guide shown, or none
        self._drag: dict | None = None

    # -- data in ----------------------------------------------------------------------------------
    def set_frame(self, image: QImage, exact: bool) -> None:
        self.image, self.exact = image, exact
        self.update()

    def set_canvas_size(self, size: tuple[int, int]) -> None:
        self.canvas_size = size
        self.update()

    def set_overlays(self, boxes: dict[str, tuple[str, QRectF]], visible_ids: set[str]) -> None:
        if self._drag is None:  # the box being dragged follows the mouse, not stale frames
            self.boxes = boxes
        self.visible_ids = visible_ids
        self.update()

    def set_selected(self, overlay_id: str) -> None:
        self.selected = overlay_id
        self.update()

    def set_safe_zones(self, zones: list) -> None:  # noqa: ANN001 - [safezones.Zone]
        """Shade where the platform's own interface covers the picture (empty: no guide)."""
        self.safe_zones = list(zones)
        self.update()

    def set_message(self, text: str) -> None:
        self.message = text
        self.update()

    # -- geometry ---------------------------------------------------------------------------------
    def picture_rect(self) -> QRectF:
        cw, ch = self.canvas_size
        s = min(self.width() / cw, self.height() / ch)
        w, h = cw * s, ch * s
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def _to_widget(self, r: QRectF) -> QRectF:
        pic = self.picture_rect()
        s = pic.width() / self.canvas_size[0]
        return QRectF(pic.left() + r.left() * s, pic.top() + r.top() * s, r.width() * s, r.height() * s)

    def _to_canvas(self, p: QPointF) -> QPointF:
        pic = self.picture_rect()
        return QPointF((p.x() - pic.left()) / pic.width(), (p.y() - pic.top()) / pic.height())

    def _handle_rect(self, r: QRectF) -> QRectF:
        return QRectF(r.right() - HANDLE / 2, r.bottom() - HANDLE / 2, HANDLE, HANDLE)

    def box_at(self, pos: QPointF) -> tuple[str, str, bool] | None:
        """(kind, id, on the resize handle) of the topmost visible overlay under ``pos``."""
        sel = self.boxes.get(self.selected)
        if sel and self._handle_rect(self._to_widget(sel[1])).adjusted(-3, -3, 3, 3).contains(pos):
            return sel[0], self.selected, True
        # texts are drawn above stickers, and later items above earlier ones
        ordered = [i for i in self.boxes if self.boxes[i][0] == "text"][::-1] + \
                  [i for i in self.boxes if self.boxes[i][0] == "sticker"][::-1]
        for oid in ordered:
            kind, r = self.boxes[oid]
            if oid in self.visible_ids and self._to_widget(r).contains(pos):
                return kind, oid, False
        return None

    # -- painting ---------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:  # noqa: N802, ANN001
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.fillRect(self.rect(), QColor("#101015"))
        pic = self.picture_rect()
        p.fillRect(pic, QColor("#000000"))
        if self.image is not None and not self.image.isNull():
            p.drawImage(pic, self.image)
        if self.message:
            p.setPen(QColor("#9a9aab"))
            p.drawText(pic.adjusted(16, 16, -16, -16), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self.message)
        if self.safe_zones:
            cw, ch = self.canvas_size
            p.setPen(QPen(QColor(255, 95, 109, 200), 1, Qt.PenStyle.DashLine))
            p.setBrush(QColor(255, 95, 109, 48))
            for z in self.safe_zones:
                p.drawRect(self._to_widget(QRectF(z.x * cw, z.y * ch, z.w * cw, z.h * ch)))
        sel = self.boxes.get(self.selected)
        if sel is not None:
            r = self._to_widget(sel[1])
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(QPen(QColor("#ffc371"), 1.5, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(r)
            p.setPen(QPen(QColor("#16161c"), 1))
            p.setBrush(QColor("#ffc371"))
            p.drawEllipse(self._handle_rect(r))
        p.end()

    # -- gestures ---------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802, ANN001
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position()
        found = self.box_at(pos)
        if found is None:
            self.selected = ""
            self.overlaySelected.emit("", "")
            self.update()
            return
        kind, oid, on_handle = found
        self.selected = oid
        self.overlaySelected.emit(kind, oid)
        r = self.boxes[oid][1]
        centre = QPointF(r.center().x() / self.canvas_size[0], r.center().y() / self.canvas_size[1])
        self._drag = {"id": oid, "resize": on_handle, "start": self._to_canvas(pos), "centre": centre,
                      "rect": QRectF(r), "moved": False, "start_widget": pos}
        self.update()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802, ANN001
        found = self.box_at(event.position())
        if found is not None:
            self.overlayActivated.emit(found[0], found[1])

    def mouseMoveEvent(self, event) -> None:  # noqa: N802, ANN001
        pos = event.position()
        if self._drag is None:
            found = self.box_at(pos)
            shape = Qt.CursorShape.ArrowCursor
            if found is not None:
                shape = Qt.CursorShape.SizeFDiagCursor if found[2] else Qt.CursorShape.SizeAllCursor
            self.setCursor(shape)
            return
        self._drag_to(pos, finished=False)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802, ANN001
        if self._drag is not None:
            if self._drag["moved"]:
                self._drag_to(event.position(), finished=True)
            self._drag = None

    def _drag_to(self, pos: QPointF, *, finished: bool) -> None:
        d = self._drag
        if not d["moved"] and (pos - d["start_widget"]).manhattanLength() < 3:
            return
        d["moved"] = True
        now = self._to_canvas(pos)
        kind, rect = self.boxes[d["id"]]
        cw, ch = self.canvas_size
        if d["resize"]:
            c = QPointF(d["centre"].x() * cw, d["centre"].y() * ch)
            start = QPointF(d["start"].x() * cw, d["start"].y() * ch)
            here = QPointF(now.x() * cw, now.y() * ch)
            base = max(4.0, ((start - c).x() ** 2 + (start - c).y() ** 2) ** 0.5)
            factor = max(0.1, ((here - c).x() ** 2 + (here - c).y() ** 2) ** 0.5 / base)
            r0 = d["rect"]
            r = QRectF(0, 0, r0.width() * factor, r0.height() * factor)
            r.moveCenter(c)
            self.boxes[d["id"]] = (kind, r)
            self.overlayResized.emit(d["id"], factor, finished)
        else:
            x = d["centre"].x() + now.x() - d["start"].x()
            y = d["centre"].y() + now.y() - d["start"].y()
            x, y = min(max(x, -0.5), 1.5), min(max(y, -0.5), 1.5)
            r = QRectF(d["rect"])
            r.moveCenter(QPointF(x * cw, y * ch))
            self.boxes[d["id"]] = (kind, r)
            self.overlayMoved.emit(d["id"], x, y, finished)
        self.update()
