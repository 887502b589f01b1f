"""Find cameras, microphones and speakers without opening them (fast enough for `studio doctor`)."""

from __future__ import annotations

import glob
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from studio import logs

# ``microphone=`` default of a capture (studio.capture.recorder, .session): look the system's default
# input up when the source is opened. Here, where the session can name it without loading the recorder.
DEFAULT_MICROPHONE = object()


@dataclass
class Device:
    id: str
    name: str

    def to_dict(self) -> dict:
        return asdict(self)


def list_cameras() -> list[Device]:
    """Video capture devices. On Linux, /dev/video* that advertise capture; elsewhere OpenCV indices 0-3."""
    if sys.platform.startswith("linux"):
        found = []
        for node in sorted(glob.glob("/dev/video*"), key=lambda p: int(p[10:]) if p[10:].isdigit() else 999):
            index = node[len("/dev/video"):]
            if not index.isdigit():
                continue
            sysfs = Path(f"/sys/class/video4linux/video{index}")
            name = (sysfs / "name").read_text().strip() if (sysfs / "name").exists() else f"Camera {index}"
            # Many webcams expose a second node for metadata; index 0 of the device is the capture one.
            idx_file = sysfs / "index"
            if idx_file.exists() and idx_file.read_text().strip() not in ("0", ""):
                continue
            if os.access(node, os.R_OK):
                found.append(Device(id=f"camera:{index}", name=name))
        return found
    import cv2  # noqa: PLC0415 - only where there is no cheaper way to enumerate

    found = []
    for i in range(4):
        cap = cv2.VideoCapture(i)
        if cap.isOpened():
            found.append(Device(id=f"camera:{i}", name=f"Camera {i}"))
        cap.release()
    return found


_headless_app = None


def ensure_qt_core() -> None:
    """Outside the window (a command), the application object Qt Multimedia and the capture QThread
    want, made once; Qt's own messages go to the log from then on. The window has its QApplication."""
    global _headless_app
    from PySide6.QtCore import QCoreApplication

    logs.route_qt_messages()
    if QCoreApplication.instance() is None:
        _headless_app = QCoreApplication([])


def _audio_devices(outputs: bool) -> tuple[list[Device], str | None]:
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError as e:
        return [], f"Qt Multimedia is unavailable ({e}); install the system audio library (libpulse0)."
    ensure_qt_core()
    found = QMediaDevices.audioOutputs() if outputs else QMediaDevices.audioInputs()
    prefix = "speaker" if outputs else "mic"
    return [Device(id=f"{prefix}:{bytes(d.id()).decode(errors='replace')}", name=d.description()) for d in found], None


def list_microphones() -> tuple[list[Device], str | None]:
    """Audio inputs through Qt Multimedia, and a reason when Qt Multimedia cannot be used."""
    return _audio_devices(outputs=False)


def list_speakers() -> tuple[list[Device], str | None]:
    """Sound outputs (what playback plays to) through Qt Multimedia, and a reason when it cannot be used."""
    return _audio_devices(outputs=True)
