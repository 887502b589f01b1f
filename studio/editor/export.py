"""Export a draft to an MP4 ready to upload: the render graph run through ffmpeg, in a worker.

``export_draft`` is the contract the uploader and the CLI use; ``ExportJob`` wraps it for the UI
(signals, a QThread). Progress comes from ffmpeg's ``-progress`` stream, with an ETA. Cancelling
kills ffmpeg and removes the partial file. The output appears atomically: ffmpeg writes a hidden
temporary name in the same folder, which is renamed into place only once it is complete.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QThread, Signal

from studio.durable import fsync_file
from studio.editor.document import Edit, EditError
from studio.editor.render_graph import RenderAsset, RenderError, asset_from_media, build_render, total_frames
from studio.errors import StudioError
from studio.media import ffmpeg

log = logging.getLogger(__name__)

ProgressFn = Callable[[float, "float | None"], None]


class ExportError(StudioError, RuntimeError):
    """The export could not be made; ``str(e)`` says why and what to do."""


class ExportCancelled(ExportError):
    def __init__(self, message: str = "The export was cancelled."):
        super().__init__(message)


def draft_assets(studio, draft) -> dict[str, RenderAsset]:  # noqa: ANN001 - Studio, Draft
    """asset_id -> RenderAsset with absolute paths, for every asset of the draft present on disk."""
    out = {}
    for a in draft.assets:
        if a.missing:
            continue
        out[a.id] = asset_from_media(a, studio.drafts.asset_path(a))
    return out


def load_edit(draft) -> Edit:  # noqa: ANN001 - Draft
    try:
        return Edit.from_dict(draft.edit)
    except EditError as e:
        raise ExportError(f"This draft's edit cannot be exported: {e}") from e


def default_output(studio, draft) -> Path:  # noqa: ANN001
    return studio.layout.staging / f"{draft.id}-r{draft.revision}.mp4"


def export_draft(studio, draft_id: str, out: Path | None = None, *,  # noqa: ANN001 - studio.app.Studio
                 on_progress: ProgressFn | None = None, cancel: threading.Event | None = None) -> Path:
    """Render the draft's current edit to ``out`` (default: cache/staging/<id>-r<revision>.mp4).

    ``on_progress(fraction, eta_seconds_or_None)`` is called from this thread. The draft's badge
    says "exporting" while it runs (derived from a lock the OS drops if this process dies). Raises ExportCancelled when
    ``cancel`` is set, ExportError (missing media, disk full, ffmpeg failure) with a sentence for
    the user, and the draft store's DraftNotFound.
    """
    draft = studio.drafts.get(draft_id)
    edit = load_edit(draft)
    assets = draft_assets(studio, draft)
    missing = {c.asset_id for c in edit.clips} - set(assets)
    if missing:
        raise ExportError("Some of this draft's media is missing from the library; "
                          "run `studio drafts recover` or re-import the file, then export again.")
    out = Path(out) if out is not None else default_output(studio, draft)
    with studio.drafts.exporting(draft.id):  # the "Exporting" badge lives exactly as long as this export
        return render_to_file(edit, assets, out, overlay_dir=studio.layout.cache / "overlays",
                              on_progress=on_progress, cancel=cancel)


def render_to_file(edit: Edit, assets: dict, out: Path, *, overlay_dir: Path | None = None,
                   on_progress: ProgressFn | None = None, cancel: threading.Event | None = None) -> Path:
    """Render ``edit`` to ``out`` atomically. The draft-free core of ``export_draft`` (same errors)."""
    from studio.editor.overlays import OverlayError, ensure_gui

    out = Path(out).absolute()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"Cannot create the folder {out.parent}: {e.strerror}.") from e
    tmp = out.with_name(f".{out.stem}.{uuid.uuid4().hex[:8]}.partial.mp4")
    try:
        if edit.texts or edit.stickers:
            ensure_gui()
        argv = build_render(edit, assets, out=tmp, overlay_dir=overlay_dir)
    except (RenderError, OverlayError) as e:
        raise ExportError(str(e)) from e
    frames = total_frames(edit)
    fps = edit.canvas.fps
    log.info("export: %s frames to %s", frames, out)
    try:
        _run_with_progress(argv, frames / fps, on_progress, cancel)
        fsync_file(tmp)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if on_progress:
        on_progress(1.0, 0.0)
    return out


def _run_with_progress(argv: list[str], total_s: float, on_progress: ProgressFn | None,
                       cancel: threading.Event | None) -> None:
    started = time.monotonic()

    def progress(out_time_us: int) -> None:
        if on_progress and total_s > 0:
            fraction = min(max(out_time_us / 1e6 / total_s, 0.0), 0.999)
            elapsed = time.monotonic() - started
            on_progress(fraction, elapsed * (1 - fraction) / fraction if fraction > 0.01 else None)

    try:
        proc = ffmpeg.spawn(argv, progress=progress, cancel=cancel, new_session=True)
    except OSError as e:
        raise ExportError(f"ffmpeg could not be started: {e.strerror}.") from e
    with proc:
        returncode = proc.wait()
    if cancel is not None and cancel.is_set():
        raise ExportCancelled()
    if returncode != 0:
        raise _ffmpeg_failure(proc.error_lines)


def _ffmpeg_failure(lines: list[str]) -> ExportError:
    text = "\n".join(lines)
    log.error("ffmpeg export failed:\n%s", text)
    if "No space left" in text:
        return ExportError("The disk is full; free some space and export again.")
    if "Permission denied" in text:
        return ExportError("The export folder is not writable; choose another folder.")
    last = next((ln for ln in reversed(lines) if ln.strip()), "no details")
    return ExportError(f"The export failed while encoding ({last[:200]}). The draft is unchanged; see the log.")


class _Runner(QThread):
    def __init__(self, fn: Callable[[], None]):
        super().__init__()
        self._fn = fn

    def run(self) -> None:
        self._fn()


class ExportJob(QObject):
    """Runs ``export_draft`` on a QThread and reports back with signals (on the UI thread).

        job = ExportJob(studio, draft_id, out)
        job.progress.connect(lambda f, eta: ...)   # eta < 0 when not known yet
        job.finished.connect(lambda path: ...)
        job.failed.connect(lambda message: ...)   # cancelled jobs emit ``cancelled`` instead
        job.start(); ... job.cancel()
    """

    progress = Signal(float, float)
    finished = Signal(str)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, studio, draft_id: str, out: Path | None = None, parent: QObject | None = None):  # noqa: ANN001
        super().__init__(parent)
        self.studio, self.draft_id, self.out = studio, draft_id, out
        self._cancel = threading.Event()
        self._thread: QThread | None = None
        self.result: Path | None = None

    def start(self) -> None:
        self._thread = _Runner(self._run)
        self._thread.setObjectName(f"export-{self.draft_id[:8]}")
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def wait(self, ms: int = 30_000) -> bool:
        return self._thread.wait(ms) if self._thread is not None else True

    def _run(self) -> None:
        try:
            self.result = export_draft(self.studio, self.draft_id, self.out, cancel=self._cancel,
                                       on_progress=lambda f, eta: self.progress.emit(f, -1.0 if eta is None else eta))
        except ExportCancelled:
            self.cancelled.emit()
        except Exception as e:  # noqa: BLE001 - every failure reaches the UI as a message
            message = getattr(e, "user_message", None) or str(e)
            if not isinstance(e, (ExportError, KeyError)):
                log.exception("export of %s failed", self.draft_id)
                message = f"The export failed unexpectedly: {e}"
            self.failed.emit(message)
        else:
            self.finished.emit(str(self.result))
