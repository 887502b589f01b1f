"""Export a draft to an MP4 ready to upload: the render graph run through ffmpeg, in a worker.

``export_draft`` is the contract the uploader and the CLI use; ``ExportJob`` wraps it for the UI
(signals, a QThread). Progress comes from ffmpeg's ``-progress`` stream, with an ETA. Cancelling
kills ffmpeg and removes the partial file. The output appears atomically: ffmpeg writes a hidden
temporary name in the same folder, which is renamed into place only once it is complete.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import unicodedata
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
    """Where an export for an upload is frozen (cache/staging); the creator's own exports use ``creator_output``."""
    return studio.layout.staging / f"{draft.id}-r{draft.revision}.mp4"


# -- where the creator's exports land ------------------------------------------------------------------
ENV_EXPORT_DIR = "STUDIO_EXPORT_DIR"
SETTING_EXPORT_DIR = "export/folder"   # in the profile's settings.ini (Settings → Export folder)


def _settings(layout):  # noqa: ANN001, ANN202 - DataLayout -> QSettings
    from PySide6.QtCore import QSettings

    return QSettings(str(layout.settings_file), QSettings.IniFormat)


def default_export_folder(layout) -> Path:  # noqa: ANN001 - DataLayout
    """The Videos folder (QStandardPaths.MoviesLocation). An isolated profile (--data-dir,
    $STUDIO_DATA_DIR) promises to write nothing outside its folder: there it is DIR/Videos."""
    if layout.isolated:
        return layout.data / "Videos"
    from PySide6.QtCore import QStandardPaths

    movies = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
    return Path(movies) if movies else Path.home() / "Videos"


def export_folder(layout) -> Path:  # noqa: ANN001 - DataLayout
    """Where Export writes: $STUDIO_EXPORT_DIR, else the folder chosen in Settings, else ``default_export_folder``."""
    chosen = os.environ.get(ENV_EXPORT_DIR) or _settings(layout).value(SETTING_EXPORT_DIR, "")
    return Path(str(chosen)).expanduser() if chosen else default_export_folder(layout)


def set_export_folder(layout, folder: Path | None) -> Path:  # noqa: ANN001 - DataLayout
    """Choose the export folder (None: back to the Videos folder). Raises ExportError if it cannot be written."""
    store = _settings(layout)
    if folder is None:
        store.remove(SETTING_EXPORT_DIR)
    else:
        folder = Path(folder).expanduser().absolute()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".studio-write-test-{uuid.uuid4().hex[:8]}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:
            raise ExportError(f"Exports cannot be written to {folder} ({e.strerror or e}); choose another folder.") \
                from None
        store.setValue(SETTING_EXPORT_DIR, str(folder))
    store.sync()
    return export_folder(layout)


_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


def export_file_name(title: str) -> str:
    """A file name from the draft's title, safe on every system: "Beach day.mp4" (no ids)."""
    name = _UNSAFE.sub(" ", unicodedata.normalize("NFC", title or "")).strip().strip(".").strip()
    name = re.sub(r"\s+", " ", name)[:80].rstrip(" .")
    if not name or name.upper().split(".")[0] in _RESERVED:
        name = name and f"{name} reel" or "Reel"
    return f"{name}.mp4"


_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def _numbered(path: Path, n: int) -> Path:
    return path if n == 1 else path.with_name(f"{path.stem} ({n}){path.suffix}")


def creator_output(studio, draft) -> Path:  # noqa: ANN001 - Studio, Draft
    """The first free name for ``draft`` in the export folder: "Title.mp4", then "Title (2).mp4"..."""
    first = export_folder(studio.layout) / export_file_name(draft.title)
    return next(_numbered(first, n) for n in range(1, 10_000) if not _numbered(first, n).exists())


def export_for_creator(studio, draft_id: str, *, on_progress: ProgressFn | None = None,  # noqa: ANN001
                       cancel: threading.Event | None = None) -> Path:
    """Export the draft into the export folder under its title (never overwriting a file). Same errors as
    ``export_draft``; returns the path written."""
    draft = studio.drafts.get(draft_id)
    return export_draft(studio, draft_id, creator_output(studio, draft), on_progress=on_progress, cancel=cancel,
                        overwrite=False)


def export_draft(studio, draft_id: str, out: Path | None = None, *,  # noqa: ANN001 - studio.app.Studio
                 on_progress: ProgressFn | None = None, cancel: threading.Event | None = None,
                 overwrite: bool = True) -> Path:
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
                              on_progress=on_progress, cancel=cancel, overwrite=overwrite)


def render_to_file(edit: Edit, assets: dict, out: Path, *, overlay_dir: Path | None = None,
                   on_progress: ProgressFn | None = None, cancel: threading.Event | None = None,
                   overwrite: bool = True) -> Path:
    """Render ``edit`` to ``out`` atomically. The draft-free core of ``export_draft`` (same errors).

    With ``overwrite=False`` an existing file is never replaced: the result takes the next free
    " (n)" name, and the path actually written is returned."""
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
        if overwrite:
            os.replace(tmp, out)
        else:
            out = _place_without_overwriting(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if on_progress:
        on_progress(1.0, 0.0)
    return out


def _place_without_overwriting(tmp: Path, out: Path) -> Path:
    """Move ``tmp`` to ``out`` or its first free " (n)" name; a hard link fails rather than replace a file
    another export created meanwhile."""
    for n in range(1, 10_000):
        candidate = _numbered(out, n)
        try:
            os.link(tmp, candidate)
        except FileExistsError:
            continue
        except OSError:   # no hard links on this filesystem (FAT, some network shares)
            if candidate.exists():
                continue
            os.replace(tmp, candidate)
            return candidate
        tmp.unlink()
        return candidate
    raise ExportError(f"Too many exports named {out.name} in {out.parent}; rename or move some.")


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
            report = lambda f, eta: self.progress.emit(f, -1.0 if eta is None else eta)  # noqa: E731
            if self.out is None:   # the Export button: into the Videos (or chosen) folder, under the title
                self.result = export_for_creator(self.studio, self.draft_id, cancel=self._cancel, on_progress=report)
            else:
                self.result = export_draft(self.studio, self.draft_id, self.out, cancel=self._cancel,
                                           on_progress=report)
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
