"""The editor's timeline: clip thumbnails, trim handles, overlay lanes, a music lane with its waveform.

A painted widget with no model of its own: the page hands it the Edit (``set_edit``), thumbnails
and waveforms as they arrive, and the playhead position. The timeline is as long as the video (the
sum of its clips); a song longer than the video is drawn cut at the video's end, as it is exported.
Drags snap (when ``snapping`` is on) to the playhead, clip edges, overlay and music edges and the
cover frame, within ``SNAP_PX`` pixels. User gestures come out as signals; the
page turns them into undoable commands (a drag emits ``finished=False`` while moving and
``finished=True`` on release, so the page can merge the whole drag into one undo step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio.editor.document import music_length_us

US = 1_000_000
MARGIN = 10
LEFT = 34         # room for the lane glyphs
RULER_H = 22
CLIP_H = 58
LANE_H = 22
MUSIC_H = 40
GAP = 6
HANDLE_W = 8
SNAP_PX = 8
MAX_ZOOM = 40.0

COLORS = {"clip": QColor("#2f3a55"), "text": QColor("#8a5cf6"), "sticker": QColor("#f59e0b"),
          "music": QColor("#10b981"), "sel": QColor("#ffc371"), "playhead": QColor("#ff5f6d"),
          "muted": QColor("#9a9aab"), "lane": QColor("#1f1f27"), "cover": QColor("#7dd3fc")}


@dataclass(frozen=True)
class Hit:
    kind: str          # "clip" | "text" | "sticker" | "music" | "ruler" | "empty" (a lane, no item)
    item_id: str = ""
    part: str = "body"  # "body" | "in" | "out"


class Timeline(QWidget):
    seekRequested = Signal(int, bool)               # timeline µs, finished (False while scrubbing)
    selectionChanged = Signal(str, str)             # kind, id ("" , "" when nothing)
    trimRequested = Signal(str, object, object, bool)   # clip id, in_us|None, out_us|None, finished
    musicMoveRequested = Signal(str, int, bool)     # music id, start_us, finished
    overlayTimeRequested = Signal(str, int, int, bool)  # overlay id, start_us, end_us, finished
    zoomChanged = Signal(float)                     # 1 = the whole reel fits

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("Timeline")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.edit = None
        self.asset_durations: dict[str, int] = {}
        self.thumbs: dict[str, dict[int, QImage]] = {}     # asset id -> {source µs: thumbnail}
        self.waveforms: dict[str, np.ndarray] = {}         # asset id -> peaks (50 per second)
        self.position_us = 0
        self.selection: tuple[str, str] = ("", "")
        self._drag: dict | None = None
        self._scale_frozen: float | None = None
        self.zoom = 1.0            # 1 = the whole reel fits; Ctrl+wheel zooms around the mouse
        self.scroll_us = 0         # timeline time at the left edge when zoomed in
        self.snapping = True       # drags snap to the playhead, clip edges and markers
        self.snapped_to: int | None = None   # the time the running drag snapped to (drawn as a guide)
        self.silence_cuts: list[tuple[int, int]] = []   # "Remove silences" proposal, drawn over the clips
        self.setFixedHeight(self._music_top() + MUSIC_H + MARGIN)

    # -- data in ----------------------------------------------------------------------------------
    def set_edit(self, edit, asset_durations: dict[str, int] | None = None) -> None:  # noqa: ANN001 - Edit
        self.edit = edit
        if asset_durations is not None:
            self.asset_durations = dict(asset_durations)
        self.update()

    def set_silence_proposal(self, proposal) -> None:  # noqa: ANN001 - SilenceProposal or None
        """Show (or, with None, clear) the ranges "Remove silences" would cut."""
        self.silence_cuts = list(proposal.cuts) if proposal is not None else []
        self.update()

    def _paint_silence_cuts(self, p: QPainter) -> None:
        top = self._clip_top()
        for a, b in self.silence_cuts:
            x0, x1 = self.x_of(a), self.x_of(b)
            p.fillRect(QRectF(x0, top, max(2.0, x1 - x0), CLIP_H), QColor(239, 68, 68, 110))
            p.setPen(QPen(QColor("#ef4444"), 1))
            p.drawLine(QPointF(x0, top), QPointF(x0, top + CLIP_H))
            p.drawLine(QPointF(x1, top), QPointF(x1, top + CLIP_H))

    def set_position(self, t_us: int) -> None:
        if t_us != self.position_us:
            self.position_us = int(t_us)
            if self.zoom > 1 and self._drag is None:
                x = self.x_of(t_us)
                if x < LEFT or x > self.width() - MARGIN:   # keep the playhead in view while playing
                    self._set_scroll(t_us - self._visible_us() // 10)
            self.update()

    def _visible_us(self) -> int:
        return round((self.width() - LEFT - MARGIN) / self.px_per_us())

    def _set_scroll(self, t_us: float) -> None:
        self.scroll_us = int(max(0, min(t_us, self._span_us() - self._visible_us())))
        self.update()

    def set_zoom(self, zoom: float, anchor_x: float | None = None) -> None:
        """Zoom (1 = whole reel) keeping the time under ``anchor_x`` (default: the playhead) in place."""
        anchor_x = self.x_of(self.position_us) if anchor_x is None else anchor_x
        anchor_t = (anchor_x - LEFT) / self.px_per_us() + self.scroll_us
        old = self.zoom
        self.zoom = max(1.0, min(MAX_ZOOM, zoom))
        self._set_scroll(anchor_t - (anchor_x - LEFT) / self.px_per_us())
        if self.zoom != old:
            self.zoomChanged.emit(self.zoom)

    def wheelEvent(self, event) -> None:  # noqa: N802, ANN001
        steps = event.angleDelta().y() / 120 or event.angleDelta().x() / 120
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.set_zoom(self.zoom * (1.25 ** steps), event.position().x())
        elif self.zoom > 1:
            self._set_scroll(self.scroll_us - steps * self._visible_us() / 8)
        event.accept()

    def set_thumbnails(self, asset_id: str, thumbs: dict[int, QImage]) -> None:
        self.thumbs[asset_id] = thumbs
        self.update()

    def set_waveform(self, asset_id: str, peaks: np.ndarray) -> None:
        self.waveforms[asset_id] = peaks
        self.update()

    def select(self, kind: str, item_id: str) -> None:
        if (kind, item_id) != self.selection:
            self.selection = (kind, item_id)
            self.update()

    # -- geometry ---------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(800, self.height())

    def _clip_top(self) -> int:
        return RULER_H + 4

    def _text_top(self) -> int:
        return self._clip_top() + CLIP_H + GAP

    def _sticker_top(self) -> int:
        return self._text_top() + LANE_H + 4

    def _music_top(self) -> int:
        return self._sticker_top() + LANE_H + GAP

    def _span_us(self) -> int:
        """The video's length: a long song never stretches the timeline (it is cut at the end)."""
        if self.edit is None:
            return 10 * US
        return max(self.edit.duration_us, self.edit.canvas.frame_us)

    def px_per_us(self) -> float:
        if self._scale_frozen is not None:
            return self._scale_frozen  # keep the scale still while a handle is dragged
        return max(1.0, self.width() - LEFT - MARGIN) / self._span_us() * self.zoom

    def x_of(self, t_us: float) -> float:
        return LEFT + (t_us - self.scroll_us) * self.px_per_us()

    def t_of(self, x: float) -> int:
        return max(0, round((x - LEFT) / self.px_per_us() + self.scroll_us))

    def _music_len(self, m) -> int:  # noqa: ANN001 - MusicTrack
        return music_length_us(m, self.asset_durations.get(m.asset_id, 0))

    def clip_rects(self) -> list[tuple[object, QRectF]]:
        if self.edit is None:
            return []
        top = self._clip_top()
        return [(c, QRectF(self.x_of(a), top, max(2.0, self.x_of(b) - self.x_of(a)), CLIP_H))
                for c, a, b in self.edit.clip_ranges()]

    def overlay_rects(self) -> list[tuple[str, object, QRectF]]:
        if self.edit is None:
            return []
        out = []
        for kind, items, top in (("text", self.edit.texts, self._text_top()),
                                 ("sticker", self.edit.stickers, self._sticker_top())):
            for it in items:
                x0, x1 = self.x_of(it.start_us), self.x_of(it.end_us)
                out.append((kind, it, QRectF(x0, top, max(4.0, x1 - x0), LANE_H)))
        return out

    def music_rects(self) -> list[tuple[object, QRectF]]:
        """Each track as heard: from its start to its end or the video's end, whichever is first."""
        if self.edit is None:
            return []
        top, end = self._music_top(), self._span_us()
        out = []
        for m in self.edit.music:
            start = min(m.start_us, end)
            heard = max(0, min(m.start_us + self._music_len(m), end) - start)
            out.append((m, QRectF(self.x_of(start), top, max(4.0, heard * self.px_per_us()), MUSIC_H)))
        return out

    # -- snapping ---------------------------------------------------------------------------------
    def snap_points(self, exclude: str = "") -> list[int]:
        """Times a drag snaps to: 0, the end, the playhead, every clip edge, overlay and music edges
        and the cover frame (``exclude``: the item being dragged, whose own edges do not count)."""
        if self.edit is None:
            return []
        pts = {0, self._span_us(), self.position_us, self.edit.cover.time_us}
        for c, a, b in self.edit.clip_ranges():
            if c.id != exclude:
                pts.update((a, b))
        for it in [*self.edit.texts, *self.edit.stickers]:
            if it.id != exclude:
                pts.update((it.start_us, it.end_us))
        for m in self.edit.music:
            if m.id != exclude:
                pts.update((m.start_us, m.start_us + self._music_len(m)))
                pts.update(self._markers(m)[0])       # beats and onsets: clip edges snap onto the music
                pts.update(self._markers(m)[1])
        return sorted(pts)

    def _markers(self, m) -> tuple[list[int], list[int]]:  # noqa: ANN001 - MusicTrack
        from studio.visual.beats import music_markers

        return music_markers(m, self.asset_durations.get(m.asset_id, 0), self._span_us())

    def snap(self, t_us: int, points: list[int]) -> tuple[int, int | None]:
        """``t_us`` moved onto the nearest of ``points`` within SNAP_PX pixels: (time, point or None)."""
        if not self.snapping:
            return t_us, None
        best, best_d = None, SNAP_PX / self.px_per_us()
        for p in points:
            d = abs(p - t_us)
            if d <= best_d:
                best, best_d = p, d
        return (t_us, None) if best is None else (best, best)

    def _snap_span(self, start: int, length: int, points: list[int]) -> int:
        """A block of ``length`` starting at ``start``: snap whichever of its edges is nearer a point."""
        s, ps = self.snap(start, points)
        e, pe = self.snap(start + length, points)
        if ps is None and pe is None:
            self.snapped_to = None
            return start
        if pe is None or (ps is not None and abs(s - start) <= abs(e - start - length)):
            self.snapped_to = ps
            return s
        self.snapped_to = pe
        return e - length

    def hit(self, pos: QPointF) -> Hit:
        if pos.y() < RULER_H:
            return Hit("ruler")
        for c, r in self.clip_rects():
            if r.adjusted(-2, 0, 2, 0).contains(pos):
                if abs(pos.x() - r.left()) <= HANDLE_W:
                    return Hit("clip", c.id, "in")
                if abs(pos.x() - r.right()) <= HANDLE_W:
                    return Hit("clip", c.id, "out")
                return Hit("clip", c.id)
        for kind, it, r in self.overlay_rects():
            if r.contains(pos):
                if abs(pos.x() - r.right()) <= HANDLE_W / 2 + 2:
                    return Hit(kind, it.id, "out")
                return Hit(kind, it.id)
        for m, r in self.music_rects():
            if r.contains(pos):
                return Hit("music", m.id)
        return Hit("empty")

    # -- painting ---------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:  # noqa: N802, ANN001 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#16161c"))
        self._paint_ruler(p)
        p.setPen(COLORS["muted"])
        for top, h, glyph in ((self._clip_top(), CLIP_H, "▶"), (self._text_top(), LANE_H, "T"),
                                   (self._sticker_top(), LANE_H, "★"),
                                   (self._music_top(), MUSIC_H, "♪")):
            p.fillRect(QRectF(LEFT, top, self.width() - LEFT - MARGIN, h), COLORS["lane"])
            p.drawText(QRectF(0, top, LEFT - 4, h), Qt.AlignmentFlag.AlignCenter, glyph)
        if self.edit is not None:
            p.save()
            p.setClipRect(QRectF(LEFT - 2, 0, self.width() - LEFT - MARGIN + 4, self.height()))
            self._paint_clips(p)
            self._paint_overlays(p)
            self._paint_music(p)
            self._paint_silence_cuts(p)
            if self.snapped_to is not None and self._drag is not None:
                gx = self.x_of(self.snapped_to)
                p.setPen(QPen(QColor("#7dd3fc"), 1, Qt.PenStyle.DashLine))
                p.drawLine(QPointF(gx, RULER_H), QPointF(gx, self.height() - 4))
            p.restore()
        x = self.x_of(self.position_us)
        if not LEFT - 1 <= x <= self.width() - MARGIN + 1:
            p.end()
            return  # zoomed in and the playhead is off screen
        p.setPen(QPen(COLORS["playhead"], 2))
        p.drawLine(QPointF(x, 2), QPointF(x, self.height() - 4))
        p.setBrush(COLORS["playhead"])
        p.drawPolygon([QPointF(x - 6, 2), QPointF(x + 6, 2), QPointF(x, 10)])
        p.end()

    def _paint_ruler(self, p: QPainter) -> None:
        if self.edit is not None and self.edit.cover.asset_id is None:   # the cover frame: a marker drags snap to
            cx = self.x_of(self.edit.cover.time_us)
            if LEFT - 1 <= cx <= self.width() - MARGIN + 1:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(COLORS["cover"])
                p.drawPolygon([QPointF(cx - 4, RULER_H - 1), QPointF(cx + 4, RULER_H - 1), QPointF(cx, RULER_H - 7)])
        p.setPen(COLORS["muted"])
        font = QFont(self.font())
        font.setPixelSize(10)
        p.setFont(font)
        span = self._span_us()
        step = next((s for s in (100_000, 200_000, 500_000, US, 2 * US, 5 * US, 10 * US, 15 * US, 30 * US, 60 * US,
                                 120 * US) if s * self.px_per_us() >= 60), 300 * US)
        t = self.scroll_us // step * step
        right = self.width() - MARGIN
        while t <= span and self.x_of(t) <= right:
            x = self.x_of(t)
            if x >= LEFT:
                p.drawLine(QPointF(x, RULER_H - 6), QPointF(x, RULER_H))
                seconds = f"{t // US % 60:02d}" if step >= US else f"{t % (60 * US) / US:04.1f}"
                label = f"{t // US // 60}:{seconds}"
                if x + 3 + p.fontMetrics().horizontalAdvance(label) <= self.width():   # never a cut label
                    p.drawText(QPointF(x + 3, RULER_H - 8), label)
            t += step

    def _paint_clips(self, p: QPainter) -> None:
        for c, r in self.clip_rects():
            path = QPainterPath()
            path.addRoundedRect(r.adjusted(1, 0, -1, 0), 6, 6)
            p.save()
            p.setClipPath(path)
            p.fillRect(r, COLORS["clip"])
            self._paint_thumbs(p, c, r)
            p.restore()
            selected = self.selection == ("clip", c.id)
            p.setPen(QPen(COLORS["sel"] if selected else QColor("#3a3a48"), 2 if selected else 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
            if selected:  # trim handles
                p.setBrush(COLORS["sel"])
                p.setPen(Qt.PenStyle.NoPen)
                p.drawRoundedRect(QRectF(r.left() + 1, r.top(), HANDLE_W, r.height()), 3, 3)
                p.drawRoundedRect(QRectF(r.right() - HANDLE_W - 1, r.top(), HANDLE_W, r.height()), 3, 3)
            if c.speed != 1.0:
                p.setPen(QColor("#ffffff"))
                p.drawText(r.adjusted(HANDLE_W + 4, 2, 0, 0), Qt.AlignmentFlag.AlignLeft, f"{c.speed:g}×")
        self._paint_transitions(p)

    def _paint_transitions(self, p: QPainter) -> None:
        """Where two clips overlap in a transition: a badge over the overlap, named by its kind."""
        from studio.editor.transitions import transition_spans

        fps = self.edit.canvas.fps
        top = self._clip_top()
        for span in transition_spans(self.edit):
            x0, x1 = self.x_of(span.start_us(fps)), self.x_of(span.end_us(fps))
            badge = QRectF(x0, top + CLIP_H - 18, max(14.0, x1 - x0), 16)
            p.setPen(QPen(QColor("#16161c"), 1))
            p.setBrush(QColor(255, 195, 113, 220))
            p.drawRoundedRect(badge, 4, 4)
            p.setPen(QColor("#16161c"))
            p.drawText(badge, Qt.AlignmentFlag.AlignCenter, "⇄" if badge.width() < 60 else f"⇄ {span.kind}")

    def _paint_thumbs(self, p: QPainter, clip, r: QRectF) -> None:  # noqa: ANN001 - Clip
        thumbs = self.thumbs.get(clip.asset_id)
        if not thumbs:
            return
        times = sorted(thumbs)
        sample = thumbs[times[0]]
        tw = max(8.0, sample.width() * (CLIP_H / max(sample.height(), 1)))
        x = r.left()
        ppu = self.px_per_us()
        while x < r.right():
            src = clip.source_in_us + (x - r.left()) / ppu * clip.speed
            near = times[int(np.clip(np.searchsorted(times, src), 0, len(times) - 1))]
            p.drawImage(QRectF(x, r.top(), tw, CLIP_H), thumbs[near])
            x += tw

    def _paint_overlays(self, p: QPainter) -> None:
        for kind, it, r in self.overlay_rects():
            selected = self.selection == (kind, it.id)
            colour = QColor(COLORS[kind])
            colour.setAlpha(230 if selected else 150)
            p.setPen(QPen(COLORS["sel"], 2) if selected else Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRoundedRect(r.adjusted(0, 1, 0, -1), 4, 4)
            p.setPen(QColor("#ffffff"))
            label = it.text if kind == "text" else it.source.split(":", 1)[-1]
            p.drawText(r.adjusted(6, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, label.replace("\n", " "))

    def _paint_music(self, p: QPainter) -> None:
        for m, r in self.music_rects():
            selected = self.selection == ("music", m.id)
            colour = QColor(COLORS["music"])
            colour.setAlpha(200 if selected else 120)
            p.setPen(QPen(COLORS["sel"], 2) if selected else Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRoundedRect(r, 5, 5)
            peaks = self.waveforms.get(m.asset_id)
            if peaks is not None and len(peaks):
                self._paint_waveform(p, m, r, peaks)
            self._paint_markers(p, m, r)

    def _paint_markers(self, p: QPainter, m, r: QRectF) -> None:  # noqa: ANN001 - MusicTrack
        """Beats as full-height ticks, other onsets as short ones, at the top of the music lane."""
        beats, onsets = self._markers(m)
        for marks, colour, height in ((onsets, QColor(255, 255, 255, 110), r.height() * 0.3),
                                      (beats, QColor("#fde68a"), r.height())):
            p.setPen(QPen(colour, 1.5))
            for t in marks:
                x = self.x_of(t)
                if r.left() <= x <= r.right():
                    p.drawLine(QPointF(x, r.top()), QPointF(x, r.top() + height))

    def _paint_waveform(self, p: QPainter, m, r: QRectF, peaks: np.ndarray) -> None:  # noqa: ANN001
        per_second = 50
        ppu = self.px_per_us()
        mid, half = r.center().y(), r.height() / 2 - 3
        p.setPen(QPen(QColor("#d1fae5"), 1))
        x = int(r.left())
        while x < r.right():
            t0 = m.offset_us + (x - r.left()) / ppu
            t1 = t0 + 1 / ppu
            a, b = int(t0 * per_second / US), max(int(t1 * per_second / US), int(t0 * per_second / US) + 1)
            if a >= len(peaks):
                break
            v = float(peaks[a:b].max()) * half
            p.drawLine(QPointF(x, mid - v), QPointF(x, mid + v))
            x += 1

    # -- gestures ---------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802, ANN001
        if event.button() != Qt.MouseButton.LeftButton or self.edit is None:
            return
        pos = event.position()
        h = self.hit(pos)
        if h.kind in ("ruler", "empty"):
            if h.kind == "empty" and self.selection != ("", ""):   # a click on an empty lane deselects
                self.select("", "")
                self.selectionChanged.emit("", "")
            self._drag = {"kind": "scrub"}
            self.seekRequested.emit(self.t_of(pos.x()), False)
            return
        self.select(h.kind, h.item_id)
        self.selectionChanged.emit(h.kind, h.item_id)
        self._scale_frozen = self.px_per_us()
        # snap points as they are when the drag starts (the edit re-flows while a trim moves)
        drag = {"kind": h.kind, "id": h.item_id, "part": h.part, "x0": pos.x(), "moved": False,
                "points": self.snap_points(exclude=h.item_id)}
        if h.kind == "clip":
            c = self.edit.clip(h.item_id)
            drag.update(in_us=c.source_in_us, out_us=c.source_out_us, speed=c.speed)
            a, b = next((a, b) for cc, a, b in self.edit.clip_ranges() if cc.id == h.item_id)
            drag.update(clip_start=a, clip_end=b)
            if h.part == "body":
                self.seekRequested.emit(self.t_of(pos.x()), True)
        elif h.kind == "music":
            m = next(m for m in self.edit.music if m.id == h.item_id)
            drag.update(start_us=m.start_us, length=self._music_len(m))
        else:
            from studio.editor.document import overlay

            it = overlay(self.edit, h.item_id)
            drag.update(start_us=it.start_us, end_us=it.end_us)
        self._drag = drag

    def mouseMoveEvent(self, event) -> None:  # noqa: N802, ANN001
        pos = event.position()
        if self._drag is None:
            part = self.hit(pos).part if self.edit is not None else "body"
            self.setCursor(Qt.CursorShape.SizeHorCursor if part in ("in", "out") else Qt.CursorShape.ArrowCursor)
            return
        self._drag_to(pos.x(), finished=False)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802, ANN001
        if self._drag is not None:
            self._drag_to(event.position().x(), finished=True)
        self._drag = None
        self._scale_frozen = None
        self.snapped_to = None
        self.update()

    def _drag_to(self, x: float, *, finished: bool) -> None:
        d = self._drag
        if d["kind"] == "scrub":
            self.seekRequested.emit(self.t_of(x), finished)
            return
        dt = round((x - d["x0"]) / self.px_per_us())
        if not d["moved"] and abs(x - d["x0"]) < 3:
            return  # a click, not a drag
        d["moved"] = True
        frame = round(US / self.edit.canvas.fps)
        self.snapped_to = None
        if d["kind"] == "clip" and d["part"] in ("in", "out"):
            # the handle's edge on the timeline snaps; the source point follows (scaled by the speed)
            edge0 = d["clip_start"] if d["part"] == "in" else d["clip_end"]
            edge, self.snapped_to = self.snap(edge0 + dt, d["points"])
            dt = edge - edge0
        if d["kind"] == "clip" and d["part"] == "in":
            new_in = int(min(max(0, d["in_us"] + dt * d["speed"]), d["out_us"] - frame))
            self.trimRequested.emit(d["id"], new_in, None, finished)
        elif d["kind"] == "clip" and d["part"] == "out":
            limit = self.asset_durations.get(self.edit.clip(d["id"]).asset_id) or d["out_us"] + abs(dt) * 4 + US
            new_out = int(max(min(limit, d["out_us"] + dt * d["speed"]), d["in_us"] + frame))
            self.trimRequested.emit(d["id"], None, new_out, finished)
        elif d["kind"] == "clip":
            self.seekRequested.emit(self.t_of(x), finished)
        elif d["kind"] == "music":
            start = self._snap_span(max(0, d["start_us"] + dt), d["length"], d["points"])
            # a song starting after the video's end would never be heard: keep at least a frame in
            self.musicMoveRequested.emit(d["id"], max(0, min(start, self._span_us() - frame)), finished)
        elif d["part"] == "out":
            end, self.snapped_to = self.snap(d["end_us"] + dt, d["points"])
            self.overlayTimeRequested.emit(d["id"], d["start_us"], max(d["start_us"] + frame, end), finished)
        else:
            length = d["end_us"] - d["start_us"]
            start = max(0, self._snap_span(max(0, d["start_us"] + dt), length, d["points"]))
            self.overlayTimeRequested.emit(d["id"], start, start + length, finished)
        self.update()
