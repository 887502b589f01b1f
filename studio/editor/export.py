"""Export a draft to an MP4 ready to upload: the render graph run through ffmpeg, in a worker.

``export_draft`` renders one edit of a draft to a file (the CLI uses it); ``export_for_upload`` freezes
a revision into cache/staging (reusing a finished export of that revision) and returns an
``ExportResult`` the upload queue enqueues. ``ExportJob`` is the one export runner of the UI: the
Editor, the Drafts tray and the upload panel all use it (signals, its own thread). Progress comes from
ffmpeg's ``-progress`` stream, with an ETA. Cancelling kills ffmpeg and removes the partial file. The
output appears atomically: ffmpeg writes a hidden temporary name in the same folder, which is renamed
into place only once it is complete.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QThreadPool, Signal

from studio.durable import fsync_file
from studio.editor.document import Edit, EditError
from studio.editor.overlays import OverlayError, ensure_gui
from studio.editor.render_graph import RenderError, build_render, total_frames
from studio.errors import StudioError
from studio.media import ffmpeg
from studio.speech.subtitles import write_subtitles
from studio.tasks import default_pool, run_in_background

log = logging.getLogger(__name__)

ProgressFn = Callable[[float, "float | None"], None]


class ExportError(StudioError, RuntimeError):
    """The export could not be made; ``str(e)`` says why and what to do."""


class ExportCancelled(ExportError):
    def __init__(self, message: str = "The export was cancelled."):
        super().__init__(message)


@dataclass(frozen=True)
class ExportResult:
    """A finished export: the file, and exactly which draft revision it shows (what the upload queue enqueues)."""
    path: Path
    draft_id: str
    revision: int
    duration_us: int = 0     # the rendered edit's duration
    caption: str = ""        # the rendered edit's caption


def load_edit(draft, edit: "Edit | dict | None" = None) -> Edit:  # noqa: ANN001 - Draft
    """``edit`` (an Edit or its dict) when given, else the draft's current edit. Raises ExportError."""
    if isinstance(edit, Edit):
        return edit
    try:
        return Edit.from_dict(draft.edit if edit is None else edit)
    except EditError as e:
        raise ExportError(f"This draft's edit cannot be exported: {e}") from e


def default_output(studio, draft, revision: int | None = None) -> Path:  # noqa: ANN001
    """Where an export for an upload is frozen (cache/staging); the creator's own exports use ``creator_output``."""
    return studio.layout.staging / f"{draft.id}-r{draft.revision if revision is None else revision}.mp4"


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
                       cancel: threading.Event | None = None, edit: "Edit | dict | None" = None,
                       revision: int | None = None) -> Path:
    """Export the draft into the export folder under its title (never overwriting a file). Same errors as
    ``export_draft``; returns the path written."""
    draft = studio.drafts.get(draft_id)
    return export_draft(studio, draft_id, creator_output(studio, draft), on_progress=on_progress, cancel=cancel,
                        overwrite=False, edit=edit, revision=revision)


def export_for_upload(studio, draft_id: str, *, on_progress: ProgressFn | None = None,  # noqa: ANN001
                      cancel: threading.Event | None = None, edit: "Edit | dict | None" = None,
                      revision: int | None = None) -> ExportResult:
    """Freeze a revision of the draft into cache/staging/<id>-r<revision>.mp4 for an upload.

    Without ``edit``/``revision``: the draft's current revision. A finished export of that revision is
    reused, not rendered again (it was written to a temporary name, fsynced and renamed: if it is there,
    it is whole); exports of other revisions of the draft are removed (each upload job holds its own link
    to the file it uploads). Same errors as ``export_draft``.
    """
    draft = studio.drafts.get(draft_id)
    if revision is None:
        edit, revision = None, draft.revision
    rendered = load_edit(draft, edit)
    out = default_output(studio, draft, revision)
    if out.is_file() and out.stat().st_size > 0:
        log.info("draft %s revision %s: reusing its finished export", draft.id, revision)
        if on_progress:
            on_progress(1.0, 0.0)
    else:
        out = export_draft(studio, draft.id, out, on_progress=on_progress, cancel=cancel, edit=rendered,
                           revision=revision)
    for old in studio.layout.staging.glob(f"{draft.id}-r*.mp4"):
        if old != out:
            old.unlink(missing_ok=True)
    return ExportResult(path=out, draft_id=draft.id, revision=revision, duration_us=rendered.duration_us,
                        caption=rendered.caption or "")


def export_draft(studio, draft_id: str, out: Path | None = None, *,  # noqa: ANN001 - studio.app.Studio
                 on_progress: ProgressFn | None = None, cancel: threading.Event | None = None,
                 overwrite: bool = True, edit: "Edit | dict | None" = None, revision: int | None = None) -> Path:
    """Render the draft's edit to ``out`` (default: cache/staging/<id>-r<revision>.mp4).

    ``edit``/``revision``: render exactly this edit, the one saved as ``revision`` (the Editor passes the
    revision it just saved, so an edit made during the export never leaks into it); default: the draft's
    current edit and revision.

    ``on_progress(fraction, eta_seconds_or_None)`` is called from this thread. The draft's badge
    says "exporting" while it runs (derived from a lock the OS drops if this process dies). Raises ExportCancelled when
    ``cancel`` is set, ExportError (missing media, disk full, ffmpeg failure) with a sentence for
    the user, and the draft store's DraftNotFound.
    """
    draft = studio.drafts.get(draft_id)
    edit = load_edit(draft, edit)
    assets = studio.drafts.media_refs(draft)
    missing = {c.asset_id for c in edit.clips} - set(assets)
    if missing:
        raise ExportError("Some of this draft's media is missing from the library; "
                          "run `studio drafts recover` or re-import the file, then export again.")
    out = Path(out) if out is not None else default_output(studio, draft, revision)
    with studio.drafts.exporting(draft.id):  # the "Exporting" badge lives exactly as long as this export
        return render_to_file(edit, assets, out, overlay_dir=studio.layout.cache / "overlays",
                              on_progress=on_progress, cancel=cancel, overwrite=overwrite)


def render_to_file(edit: Edit, assets: dict, out: Path, *, overlay_dir: Path | None = None,
                   on_progress: ProgressFn | None = None, cancel: threading.Event | None = None,
                   overwrite: bool = True) -> Path:
    """Render ``edit`` to ``out`` atomically. The draft-free core of ``export_draft`` (same errors).

    With ``overwrite=False`` an existing file is never replaced: the result takes the next free
    " (n)" name, and the path actually written is returned."""
    out = Path(out).absolute()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExportError(f"Cannot create the folder {out.parent}: {e.strerror}.") from e
    tmp = out.with_name(f".{out.stem}.{uuid.uuid4().hex[:8]}.partial.mp4")
    try:
        if edit.texts or edit.stickers or edit.captions.segments:
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
    _caption_sidecar(edit, out)
    if on_progress:
        on_progress(1.0, 0.0)
    return out


def _caption_sidecar(edit: Edit, out: Path) -> None:
    """Captions that are not burned in go beside the video as WebVTT (same name, .vtt)."""
    if edit.captions.segments and not edit.captions.style.burn_in:
        try:
            write_subtitles(edit.captions, out.with_suffix(".vtt"), "vtt")
        except OSError as e:
            raise ExportError(f"The video was exported, but its captions file could not be written: {e.strerror}.") from e


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

    def with_eta(fraction: float) -> None:
        if on_progress:
            elapsed = time.monotonic() - started
            on_progress(fraction, elapsed * (1 - fraction) / fraction if fraction > 0.01 else None)

    try:
        proc = ffmpeg.run_job(argv, duration_s=total_s, on_fraction=with_eta, cancel=cancel)
    except OSError as e:
        raise ExportError(f"ffmpeg could not be started: {e.strerror}.") from e
    if cancel is not None and cancel.is_set():
        raise ExportCancelled()
    if proc.returncode != 0:
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


_export_pool: QThreadPool | None = None


def _pool():  # noqa: ANN202 - QThreadPool or the tests' SynchronousPool
    """Exports run on a pool of their own: a minutes-long render must not hold one of the few threads
    thumbnails and saves share. A test pool installed with ``studio.tasks.use_pool`` takes precedence."""
    global _export_pool
    pool = default_pool()
    if pool is not QThreadPool.globalInstance():
        return pool
    if _export_pool is None:
        _export_pool = QThreadPool()
        _export_pool.setObjectName("exports")
        _export_pool.setMaxThreadCount(2)
    return _export_pool


class ExportJob(QObject):
    """The one export runner of the UI: renders a draft off the UI thread and reports with signals.

        job = ExportJob(studio, draft_id)                  # into the export folder, under the title
        job = ExportJob(studio, draft_id, out)             # into ``out`` (replaced if it exists)
        job = ExportJob(studio, draft_id, for_upload=True) # frozen into staging (a finished one is reused)
        job = ExportJob(studio, draft_id, edit=e, revision=n)  # exactly revision n (the Editor's save)
        job.progress.connect(lambda f, eta: ...)   # eta < 0 when not known yet
        job.finished.connect(lambda result: ...)   # an ExportResult (path, draft id, revision)
        job.failed.connect(lambda exc: ...)        # the exception (``studio.tasks.user_message`` for its sentence)
        job.cancelled.connect(lambda: ...)         # a cancelled job emits this instead of failed
        job.start(); ... job.cancel()
    """

    progress = Signal(float, float)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, studio, draft_id: str, out: Path | None = None, parent: QObject | None = None, *,  # noqa: ANN001
                 for_upload: bool = False, edit: "Edit | dict | None" = None, revision: int | None = None):
        super().__init__(parent)
        self.studio, self.draft_id, self.out = studio, draft_id, out
        self.for_upload = for_upload
        self.edit, self.revision = edit, revision
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._started = False
        self.result: ExportResult | None = None

    def start(self) -> None:
        self._started = True
        run_in_background(self._work, on_done=self._finish, on_error=self._fail, pool=_pool(), owner=self)

    def cancel(self) -> None:
        self._cancel.set()

    def is_running(self) -> bool:
        return self._started and not self._done.is_set()

    def wait(self, ms: int = 30_000) -> bool:
        """Wait until the render thread is done (the signals may still be on their way to the UI thread)."""
        return self._done.wait(ms / 1000) if self._started else True

    def _work(self) -> ExportResult:
        report = lambda f, eta: self.progress.emit(f, -1.0 if eta is None else eta)  # noqa: E731
        kw = dict(on_progress=report, cancel=self._cancel, edit=self.edit, revision=self.revision)
        try:
            if self.for_upload:
                return export_for_upload(self.studio, self.draft_id, **kw)
            if self.out is None:   # the Export button: into the Videos (or chosen) folder, under the title
                path = export_for_creator(self.studio, self.draft_id, **kw)
            else:
                path = export_draft(self.studio, self.draft_id, self.out, **kw)
            revision = self.revision if self.revision is not None else self.studio.drafts.get(self.draft_id).revision
            return ExportResult(path=Path(path), draft_id=self.draft_id, revision=revision)
        finally:
            self._done.set()

    def _finish(self, result: ExportResult) -> None:
        self.result = result
        self.finished.emit(result)

    def _fail(self, exc: BaseException) -> None:
        if isinstance(exc, ExportCancelled):
            self.cancelled.emit()
            return
        if not isinstance(exc, (StudioError, KeyError)):
            log.error("export of %s failed", self.draft_id, exc_info=exc)
            exc = ExportError(f"The export failed unexpectedly ({type(exc).__name__}: {exc}); see the log.")
        self.failed.emit(exc)
