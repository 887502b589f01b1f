"""The inspector: the properties of the selected clip, text, sticker or music track.

Every control emits ``changeRequested(kind, id, changes, drag)``; sliders and spin boxes send
``drag=True`` while they move, and the page closes the undo step when the control is released or
loses focus, so one slider gesture is one undo step. Buttons emit ``actionRequested``.

The mouse wheel over the inspector scrolls it: a slider, spin box or list changes on the wheel only
when it has the keyboard focus (clicked or tabbed into), never because the pointer passed over it.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractSlider, QAbstractSpinBox, QApplication, QCheckBox, QColorDialog, QComboBox,
                               QDoubleSpinBox, QFormLayout, QGridLayout, QLabel, QLineEdit, QPushButton, QScrollArea,
                               QSizePolicy, QSlider, QStackedWidget, QVBoxLayout, QWidget)

from studio.editor.document import SPEED_RANGE

US = 1_000_000
TITLES = {"reel": "Reel settings", "clip": "Clip", "text": "Text", "sticker": "Sticker", "music": "Music"}


class WheelGuard(QObject):
    """Event filter: the wheel over an unfocused value widget scrolls ``area`` instead of changing it."""

    def __init__(self, area: QScrollArea, parent: QObject | None = None):
        super().__init__(parent)
        self.area = area

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Wheel and isinstance(obj, QWidget) and not obj.hasFocus():
            # what QAbstractScrollArea.wheelEvent does, done here: Qt does not pass a wheel event
            # that was sent (not posted) on to the parents, and the widget must not see it
            d = event.angleDelta()
            bar = self.area.horizontalScrollBar() if abs(d.x()) > abs(d.y()) else self.area.verticalScrollBar()
            QApplication.sendEvent(bar, event)
            return True
        return False


def scrolling(content: QWidget, owner: QObject) -> QScrollArea:
    """``content`` in a vertical scroll area, so a short window scrolls it instead of squeezing its
    rows on top of each other; the wheel over its value widgets scrolls too (WheelGuard)."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(content)
    guard = WheelGuard(area, owner)
    for w in content.findChildren(QWidget):
        if isinstance(w, (QAbstractSlider, QAbstractSpinBox, QComboBox)):
            w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)   # not WheelFocus: the wheel never takes focus
            w.installEventFilter(guard)
    return area


def _seconds(maximum: float = 3600.0, step: float = 0.1) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, maximum)
    box.setDecimals(2)
    box.setSingleStep(step)
    box.setSuffix(" s")
    box.setKeyboardTracking(False)
    return box


def _slider(lo: int, hi: int) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    return s


class Inspector(QWidget):
    changeRequested = Signal(str, str, dict, bool)   # kind, id, changes, drag (merge into one step)
    dragFinished = Signal()
    actionRequested = Signal(str, str, str)          # action ("split"/"duplicate"/"delete"), kind, id

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("Inspector")
        self.setMinimumWidth(260)
        self.kind, self.item_id = "", ""
        self._loading = False
        self.stack = QStackedWidget()
        self.pages: dict[str, QWidget] = {}
        self.fields: dict[str, dict[str, QWidget]] = {}
        for kind, build in (("reel", self._build_reel), ("clip", self._build_clip), ("text", self._build_text),
                            ("sticker", self._build_sticker), ("music", self._build_music)):
            page = QWidget()
            form = QFormLayout(page)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
            self.fields[kind] = {}
            build(form, self.fields[kind])
            self.pages[kind] = page
            self.stack.addWidget(page)
        self.stack.currentChanged.connect(self._fit_page)
        self.scroll = scrolling(self.stack, self)
        self.title = QLabel(TITLES["reel"])
        self.title.setObjectName("PageSubtitle")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.scroll, 1)
        self._fit_page()

    def _fit_page(self, *_args) -> None:  # noqa: ANN002
        """The stack is as tall as the page shown (not the tallest page), so short pages do not scroll,
        and the inspector is never narrower than the widest page (nothing clipped on the right)."""
        for page in self.pages.values():
            shown = page is self.stack.currentWidget()
            page.setSizePolicy(QSizePolicy.Policy.Preferred,
                               QSizePolicy.Policy.Preferred if shown else QSizePolicy.Policy.Ignored)
        self.stack.adjustSize()
        widest = max(p.minimumSizeHint().width() for p in self.pages.values())
        bar = self.scroll.verticalScrollBar().sizeHint().width()
        self.setMinimumWidth(max(260, widest + bar + 2 * self.scroll.frameWidth()))

    def reveal(self, widget: QWidget) -> None:
        """Scroll the inspector so ``widget`` is in view."""
        self.scroll.ensureWidgetVisible(widget, 8, 8)

    # -- building -------------------------------------------------------------------------------
    def _emit(self, changes: dict, drag: bool = False) -> None:
        if not self._loading and (self.item_id or self.kind == "reel"):
            self.changeRequested.emit(self.kind, self.item_id, changes, drag)

    def _wire_slider(self, s: QSlider, make: Callable[[int], dict]) -> None:
        s.valueChanged.connect(lambda v: self._emit(make(v), drag=s.isSliderDown()))
        s.sliderReleased.connect(self.dragFinished.emit)

    def _wire_spin(self, box: QDoubleSpinBox, make: Callable[[float], dict]) -> None:
        box.valueChanged.connect(lambda v: self._emit(make(v)))

    def _buttons(self, form: QFormLayout, actions: list[tuple[str, str]]) -> None:
        row = QGridLayout()     # two a row: the inspector stays narrow
        for i, (action, label) in enumerate(actions):
            b = QPushButton(label)
            b.setObjectName(f"inspector-{action}")
            if action == "delete":
                b.setProperty("danger", True)
            b.clicked.connect(lambda _=False, a=action: self.actionRequested.emit(a, self.kind, self.item_id))
            row.addWidget(b, i // 2, i % 2)
        form.addRow(row)

    def _build_reel(self, form: QFormLayout, f: dict) -> None:
        """Nothing selected: the reel itself (shape, caption, sound, cover)."""
        from studio.editor.document import PRESETS

        hint = QLabel("Select a clip, text, sticker or music on the timeline to change it; "
                      "“Reel settings” brings you back here.")
        hint.setObjectName("PageSubtitle")
        hint.setWordWrap(True)
        form.addRow(hint)
        f["preset"] = QComboBox()
        for name in PRESETS:
            f["preset"].addItem(name, name)
        f["preset"].currentIndexChanged.connect(lambda _i: self._emit({"preset": f["preset"].currentData()}))
        f["caption"] = QLineEdit()
        f["caption"].setPlaceholderText("Write a caption…")
        f["caption"].textEdited.connect(lambda s: self._emit({"caption": s}, drag=True))
        f["caption"].editingFinished.connect(self.dragFinished.emit)
        f["original_volume"] = _slider(0, 200)
        self._wire_slider(f["original_volume"], lambda v: {"original_volume": v / 100})
        f["normalize"] = QCheckBox("Even out loudness (EBU R128)")
        f["normalize"].toggled.connect(lambda on: self._emit({"normalize_loudness": on}))
        f["cover"] = QLabel("")
        for label, key in (("Shape", "preset"), ("Caption", "caption"), ("Original sound", "original_volume"),
                           ("", "normalize"), ("Cover", "cover")):
            form.addRow(label, f[key])
        self._buttons(form, [("cover", "Use the playhead frame as cover")])

    def _build_clip(self, form: QFormLayout, f: dict) -> None:
        from studio.editor.looks import look_names

        f["in"] = _seconds(step=1 / 30)
        f["out"] = _seconds(step=1 / 30)
        self._wire_spin(f["in"], lambda v: {"source_in_us": round(v * US)})
        self._wire_spin(f["out"], lambda v: {"source_out_us": round(v * US)})
        f["speed"] = QDoubleSpinBox()
        f["speed"].setRange(*SPEED_RANGE)
        f["speed"].setSingleStep(0.25)
        f["speed"].setSuffix(" ×")
        f["speed"].setKeyboardTracking(False)
        self._wire_spin(f["speed"], lambda v: {"speed": round(v, 3)})
        f["volume"] = _slider(0, 200)
        self._wire_slider(f["volume"], lambda v: {"volume": v / 100})
        f["muted"] = QCheckBox("Mute original sound")
        f["muted"].toggled.connect(lambda on: self._emit({"muted": on}))
        f["mode"] = QComboBox()
        f["mode"].addItem("Fill the frame", "fill")
        f["mode"].addItem("Fit inside", "fit")
        f["mode"].addItem("Follow subject", "follow")   # its path comes from the toolbar's Follow subject
        f["mode"].currentIndexChanged.connect(lambda _i: self._emit({"reframe": {"mode": f["mode"].currentData()}}))
        f["zoom"] = _slider(50, 400)
        self._wire_slider(f["zoom"], lambda v: {"reframe": {"scale": v / 100}})
        f["rotation"] = QComboBox()
        for deg in (0, 90, 180, 270):
            f["rotation"].addItem(f"{deg}°", deg)
        f["rotation"].currentIndexChanged.connect(lambda _i: self._emit({"rotation": f["rotation"].currentData()}))
        f["look"] = QComboBox()
        for key, label in look_names():
            f["look"].addItem(label, key)
        f["look"].currentIndexChanged.connect(lambda _i: self._emit({"look": {"name": f["look"].currentData()}}))
        for name in ("brightness", "contrast", "saturation", "warmth"):
            f[name] = _slider(-100, 100)
            self._wire_slider(f[name], lambda v, n=name: {"look": {n: v / 100}})
        for label, key in (("In", "in"), ("Out", "out"), ("Speed", "speed"), ("Volume", "volume"), ("", "muted"),
                           ("Reframe", "mode"), ("Zoom", "zoom"), ("Rotate", "rotation"), ("Look", "look"),
                           ("Brightness", "brightness"), ("Contrast", "contrast"), ("Saturation", "saturation"),
                           ("Warmth", "warmth")):
            form.addRow(label, f[key])
        self._buttons(form, [("split", "Split at playhead"), ("duplicate", "Duplicate"),
                             ("earlier", "◀ Move earlier"), ("later", "Move later ▶"), ("delete", "Delete")])

    def _color_button(self, f: dict, key: str, change: Callable[[str], dict], alpha: bool = False) -> QPushButton:
        b = QPushButton()
        b.setObjectName(f"color-{key}")

        def pick() -> None:
            current = QColor(b.property("color") or "#ffffff")
            opts = QColorDialog.ColorDialogOption.ShowAlphaChannel if alpha else QColorDialog.ColorDialogOption(0)
            c = QColorDialog.getColor(current, self, "Choose a colour", opts)
            if c.isValid():
                text = c.name() if not alpha else f"{c.name()}{c.alpha():02x}"
                self._emit(change(text.upper()))

        b.clicked.connect(pick)
        f[key] = b
        return b

    def _time_range(self, form: QFormLayout, f: dict) -> None:
        f["start"] = _seconds()
        f["end"] = _seconds()
        self._wire_spin(f["start"], lambda v: {"start_us": round(v * US)})
        self._wire_spin(f["end"], lambda v: {"end_us": round(v * US)})
        form.addRow("From", f["start"])
        form.addRow("Until", f["end"])

    def _build_text(self, form: QFormLayout, f: dict) -> None:
        f["text"] = QLineEdit()
        f["text"].setPlaceholderText("Your text")
        f["text"].textEdited.connect(lambda s: self._emit({"text": s}, drag=True))
        f["text"].editingFinished.connect(self.dragFinished.emit)
        f["size"] = _slider(1, 30)
        self._wire_slider(f["size"], lambda v: {"size": v / 100})
        self._color_button(f, "color", lambda c: {"color": c})
        f["box"] = QCheckBox("Background box")
        f["box"].toggled.connect(lambda on: self._emit({"background": "#000000A0" if on else None}))
        f["align"] = QComboBox()
        for a in ("left", "center", "right"):
            f["align"].addItem(a.capitalize(), a)
        f["align"].currentIndexChanged.connect(lambda _i: self._emit({"align": f["align"].currentData()}))
        f["bold"] = QCheckBox("Bold")
        f["bold"].toggled.connect(lambda on: self._emit({"bold": on}))
        f["rotation"] = _slider(-180, 180)
        self._wire_slider(f["rotation"], lambda v: {"rotation": float(v)})
        for label, key in (("Text", "text"), ("Size", "size"), ("Colour", "color"), ("", "box"), ("Align", "align"),
                           ("", "bold"), ("Rotate", "rotation")):
            form.addRow(label, f[key])
        self._time_range(form, f)
        self._buttons(form, [("delete", "Delete text")])

    def _build_sticker(self, form: QFormLayout, f: dict) -> None:
        f["scale"] = _slider(2, 150)
        self._wire_slider(f["scale"], lambda v: {"scale": v / 100})
        f["rotation"] = _slider(-180, 180)
        self._wire_slider(f["rotation"], lambda v: {"rotation": float(v)})
        f["opacity"] = _slider(0, 100)
        self._wire_slider(f["opacity"], lambda v: {"opacity": v / 100})
        for label, key in (("Size", "scale"), ("Rotate", "rotation"), ("Opacity", "opacity")):
            form.addRow(label, f[key])
        self._time_range(form, f)
        self._buttons(form, [("delete", "Delete sticker")])

    def _build_music(self, form: QFormLayout, f: dict) -> None:
        f["start"] = _seconds()
        self._wire_spin(f["start"], lambda v: {"start_us": round(v * US)})
        f["offset"] = _seconds()
        self._wire_spin(f["offset"], lambda v: {"offset_us": round(v * US)})
        f["length"] = _seconds()
        f["length"].setSpecialValueText("Whole song")
        self._wire_spin(f["length"], lambda v: {"duration_us": round(v * US) if v > 0 else None})
        f["volume"] = _slider(0, 200)
        self._wire_slider(f["volume"], lambda v: {"volume": v / 100})
        f["fade_in"] = _seconds(30)
        self._wire_spin(f["fade_in"], lambda v: {"fade_in_us": round(v * US)})
        f["fade_out"] = _seconds(30)
        self._wire_spin(f["fade_out"], lambda v: {"fade_out_us": round(v * US)})
        for label, key in (("Starts at", "start"), ("Song from", "offset"), ("Length", "length"), ("Volume", "volume"),
                           ("Fade in", "fade_in"), ("Fade out", "fade_out")):
            form.addRow(label, f[key])
        self._buttons(form, [("delete", "Remove music")])

    # -- showing an item ------------------------------------------------------------------------
    def show_item(self, kind: str, item) -> None:  # noqa: ANN001 - Clip / TextOverlay / Sticker / MusicTrack
        """Fill the form for ``item`` (None clears the inspector) without emitting changes."""
        if item is None or kind not in self.pages:
            self.kind, self.item_id = "", ""
            self.stack.setCurrentWidget(self.pages["reel"])
            self.title.setText(TITLES["reel"])
            return
        self.kind, self.item_id = kind, getattr(item, "id", "")
        self._loading = True
        try:
            getattr(self, f"_load_{kind}")(self.fields[kind], item)
        finally:
            self._loading = False
        self.stack.setCurrentWidget(self.pages[kind])
        self.title.setText(TITLES.get(kind, kind.capitalize()))

    @staticmethod
    def _set(widget: QWidget, value) -> None:  # noqa: ANN001
        if isinstance(widget, QSlider) and widget.isSliderDown():
            return  # never fight the user's hand
        if isinstance(widget, (QDoubleSpinBox, QSlider)):
            widget.setValue(value)
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QComboBox):
            widget.setCurrentIndex(max(0, widget.findData(value)))
        elif isinstance(widget, QLineEdit):
            if widget.text() != value and not widget.hasFocus():
                widget.setText(value)

    def _load_reel(self, f: dict, e) -> None:  # noqa: ANN001 - Edit
        for key, value in (("preset", e.canvas.preset), ("caption", e.caption),
                           ("original_volume", round(e.audio.original_volume * 100)),
                           ("normalize", e.audio.normalize_loudness)):
            self._set(f[key], value)
        f["cover"].setText(f"frame at {e.cover.time_us / US:.2f} s" if e.cover.asset_id is None else "an image")

    def _load_clip(self, f: dict, c) -> None:  # noqa: ANN001
        for key, value in (("in", c.source_in_us / US), ("out", c.source_out_us / US), ("speed", c.speed),
                           ("volume", round(c.volume * 100)), ("muted", c.muted), ("mode", c.reframe.mode),
                           ("zoom", round(c.reframe.scale * 100)), ("rotation", c.rotation), ("look", c.look.name),
                           ("brightness", round(c.look.brightness * 100)), ("contrast", round(c.look.contrast * 100)),
                           ("saturation", round(c.look.saturation * 100)), ("warmth", round(c.look.warmth * 100))):
            self._set(f[key], value)

    def _load_text(self, f: dict, t) -> None:  # noqa: ANN001
        for key, value in (("text", t.text), ("size", round(t.size * 100)), ("box", t.background is not None),
                           ("align", t.align), ("bold", t.bold), ("rotation", round(t.rotation)),
                           ("start", t.start_us / US), ("end", t.end_us / US)):
            self._set(f[key], value)
        f["color"].setProperty("color", t.color[:7])
        f["color"].setText(t.color)
        swatch = QPixmap(14, 14)
        swatch.fill(QColor(t.color[:7]))
        f["color"].setIcon(QIcon(swatch))

    def _load_sticker(self, f: dict, s) -> None:  # noqa: ANN001
        for key, value in (("scale", round(s.scale * 100)), ("rotation", round(s.rotation)),
                           ("opacity", round(s.opacity * 100)), ("start", s.start_us / US), ("end", s.end_us / US)):
            self._set(f[key], value)

    def _load_music(self, f: dict, m) -> None:  # noqa: ANN001
        for key, value in (("start", m.start_us / US), ("offset", m.offset_us / US),
                           ("length", (m.duration_us or 0) / US), ("volume", round(m.volume * 100)),
                           ("fade_in", m.fade_in_us / US), ("fade_out", m.fade_out_us / US)):
            self._set(f[key], value)
