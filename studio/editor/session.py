"""The edit workflow of one open draft, without widgets: the Editor page shows it, tests drive it.

    editor = EditorSession(studio, parent=page)
    editor.opened.connect(show)                # (Draft, {asset id: MediaRef})
    editor.open(draft_id)                      # loads off the UI thread
    editor.document.do(TrimClip, clip_id, in_us=0, out_us=US)   # the EditSession: edit, undo, autosave
    editor.import_media(Path("song.m4a"), "audio")             # -> media_imported(asset, file) / import_failed
    editor.request_thumbnails(asset_id, 48)                    # -> thumbnails_ready(asset id, {t_us: QImage})
    editor.request_waveform(asset_id)                          # -> waveform_ready(asset id, peaks)
    editor.export(out)    # saves the edit first, then exports THE REVISION IT SAVED -> export_finished(result)

Everything slow runs through ``studio.tasks.run_in_background(..., owner=self)``; under
``use_pool(SynchronousPool())`` the whole workflow runs inline, so its logic is tested under plain
pytest. Results of a draft that is no longer open are dropped (each request remembers the draft it
was made for). Signals carry exceptions, not strings: ``studio.tasks.user_message(exc)`` is the
sentence for the creator.

The one asset description is ``studio.media.ref.MediaRef``, built by ``DraftStore.media_refs``
from the library's assets: here, for the opened draft and every imported file.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from studio.capture.audio import MicrophoneInput
from studio.editor.commands import (AUTOSAVE_MS, AddMusic, AddSticker, AddText, EditSession, RemoveSilences,
                                    SetTranscript)
from studio.editor.document import Edit
from studio.editor.export import ExportError, ExportJob
from studio.editor.playback import to_qimage
from studio.media.ref import MediaRef
from studio.media import waveform
from studio.media.decoder import VideoDecoder
from studio.speech import SpeechCancelled, SpeechError
from studio.speech.engines import choose_engine
from studio.speech.transcribe import propose_silence_cuts, transcribe_edit
from studio.speech.vad import DEFAULT_THRESHOLD_DB
from studio.speech.voiceover import VoiceoverRecorder
from studio.tasks import run_in_background

log = logging.getLogger(__name__)
US = 1_000_000
WAVEFORM_PER_SECOND = 50
MAX_THUMBNAILS = 40
# What a new overlay looks like until the creator changes it.
NEW_OVERLAY_US = 3 * US                  # on screen for 3 s from the playhead (at least 1 s, inside the reel)
NEW_TEXT_STYLE = {"background": "#000000A0"}   # a translucent box: readable on any picture
NEW_STICKER_PLACE = {"x": 0.72, "y": 0.3}      # right of centre, clear of a centred text


def load_draft(studio, draft_id: str):  # noqa: ANN001, ANN201 - runs off the UI thread
    """(Draft, Edit, {asset id: MediaRef}) of a draft; raises DraftNotFound / EditError."""
    draft = studio.drafts.get(draft_id)
    return draft, Edit.from_dict(draft.edit), studio.drafts.media_refs(draft)


def thumbnails(path: Path, rotation: int, duration_us: int, height: int) -> dict[int, QImage]:
    """Thumbnails along a video (about one a second, at most ``MAX_THUMBNAILS``), decoded in-process."""
    out: dict[int, QImage] = {}
    with VideoDecoder(path, rotation=rotation) as dec:
        w, h = dec.display_size
        size = (max(2, round(w * height / max(h, 1)) // 2 * 2), height)
        step = max(US, duration_us // MAX_THUMBNAILS) if duration_us else US
        t = 0
        while t < max(duration_us, 1):
            out[t] = to_qimage(dec.frame_at(t, size=size))
            t += step
    return out


def _retire(document: EditSession) -> None:
    """A closed draft's document: saved in the background if it has unsaved changes, deleted once nothing
    of it is left to save (an autosave still running, or an edit made during it, keeps it alive)."""
    def done(*_args) -> None:  # noqa: ANN002
        if not document.dirty and not document.saving:
            document.deleteLater()

    if document.dirty or document.saving:
        document.saved.connect(done)
        document.save_soon_now()
    else:
        document.deleteLater()


class EditorSession(QObject):
    """The open draft, its media and its export. ``document`` is the draft's EditSession (or None)."""

    opened = Signal(object, object)         # Draft, {asset id: MediaRef}
    failed = Signal(object)                 # the exception that kept the draft from opening
    title_changed = Signal(str)             # the open draft was renamed (refresh_title)
    media_imported = Signal(object, object)  # (MediaRef now in ``assets``, the file it was copied from)
    import_failed = Signal(object, object)  # (Path, exception)
    thumbnails_ready = Signal(str, object)  # asset id, {t_us: QImage}
    waveform_ready = Signal(str, object)    # asset id, numpy peaks (0..1, WAVEFORM_PER_SECOND a second)
    export_saving = Signal()                # export asked for; the edit is being saved first
    export_started = Signal(int)            # the revision being exported
    export_progress = Signal(float, float)  # fraction, eta in s (< 0: not known yet)
    export_finished = Signal(object)        # ExportResult
    export_failed = Signal(object)          # the exception
    export_cancelled = Signal()
    # speech (studio.speech): auto captions and jump cuts
    captions_progress = Signal(float)       # fraction 0..1 (from the worker; delivered on the UI thread)
    captions_finished = Signal(int)         # number of words now in the captions (one undo step)
    captions_failed = Signal(object)        # the exception (SpeechError says why)
    captions_cancelled = Signal()
    silences_proposed = Signal(object)      # SilenceProposal: what "Remove silences" would cut
    silences_failed = Signal(object)
    voiceover_started = Signal()
    voiceover_added = Signal(str)           # the new voice track's id (music ducks under it)
    voiceover_failed = Signal(object)

    def __init__(self, studio, parent: QObject | None = None, *, autosave_ms: int = AUTOSAVE_MS):  # noqa: ANN001
        super().__init__(parent)
        self.studio = studio
        self.autosave_ms = autosave_ms
        self.draft = None
        self.document: EditSession | None = None
        self.assets: dict[str, MediaRef] = {}
        self.export_job: ExportJob | None = None
        self.loading_id: str | None = None
        self._thumbs: dict[tuple[str, int], dict[int, QImage]] = {}
        self._peaks: dict[str, object] = {}
        self._asked: set = set()
        self._pending_export: tuple[Path | None, bool] | None = None   # (out, for_upload) waiting for its save
        self._starting = False
        self._transcribing = None          # threading.Event of the running transcription
        self.silence_proposal = None       # the last SilenceProposal shown on the timeline
        self._voiceover = None             # (VoiceoverRecorder, timeline start) while recording

    # -- which draft -----------------------------------------------------------------------------
    @property
    def draft_id(self) -> str | None:
        return self.document.draft_id if self.document is not None else None

    @property
    def is_open(self) -> bool:
        return self.document is not None

    def open(self, draft_id: str) -> None:
        """Close what is open (saving it) and load ``draft_id`` off the UI thread: ``opened`` or ``failed``."""
        self.close()
        self.loading_id = draft_id
        run_in_background(load_draft, self.studio, draft_id, owner=self,
                          on_done=lambda r: self._opened(draft_id, r), on_error=lambda e: self._open_failed(draft_id, e))

    def _opened(self, draft_id: str, result) -> None:  # noqa: ANN001
        if self.loading_id != draft_id:
            return   # another draft was asked for meanwhile
        self.loading_id = None
        draft, edit, assets = result
        self.draft, self.assets = draft, assets
        self.document = EditSession(self.studio.drafts, draft.id, edit, draft.revision,
                                    autosave_ms=self.autosave_ms, parent=self)
        self.document.saved.connect(self._on_saved)
        self.document.save_failed.connect(self._on_save_failed)
        self.opened.emit(draft, assets)

    def _open_failed(self, draft_id: str, exc: BaseException) -> None:
        if self.loading_id != draft_id:
            return
        self.loading_id = None
        self.failed.emit(exc)

    def close(self) -> None:
        """Leave the open draft: what is unsaved is saved in the background (the EditSession lives until then)."""
        self.loading_id = None
        self._pending_export = None
        document, self.document = self.document, None
        if document is not None:
            document.saved.disconnect(self._on_saved)
            document.save_failed.disconnect(self._on_save_failed)
            _retire(document)
        self.draft, self.assets = None, {}
        self._thumbs.clear()
        self._peaks.clear()
        self._asked.clear()
        self.cancel_captions()
        self.silence_proposal = None
        if self._voiceover is not None:      # closing while narrating: the microphone stops, nothing is kept
            rec, self._voiceover = self._voiceover[0], None
            try:
                rec.stop()[0].unlink(missing_ok=True)
            except Exception as e:  # noqa: BLE001 - too short / unwritable: nothing to keep anyway
                log.info("voiceover dropped on close: %s", e)

    def shutdown(self) -> None:
        """The app is quitting: cancel a running export and save what is unsaved, now, on this thread."""
        job = self.export_job
        if job is not None and job.is_running():
            job.cancel()
            job.wait(10_000)
        if self.document is not None:
            try:
                self.document.flush()
            except Exception as e:  # noqa: BLE001 - quitting: log, the autosave had the rest
                log.warning("could not save the edit on exit: %s", e)

    def _current(self, draft_id: str | None) -> bool:
        return draft_id is not None and self.draft_id == draft_id

    def refresh_title(self) -> None:
        """Re-read the open draft's title off the UI thread (a rename on the Drafts page, the CLI):
        ``title_changed(title)`` when it is not the one known."""
        draft_id, store = self.draft_id, self.studio.drafts
        if draft_id is None:
            return

        def got(title: str) -> None:
            if self._current(draft_id) and title and title != self.draft.title:
                self.draft = dataclasses.replace(self.draft, title=title)
                self.title_changed.emit(title)
        run_in_background(lambda: store.get(draft_id).title, owner=self, on_done=got,
                          on_error=lambda e: log.info("re-reading the title: %s", e))

    # -- media -----------------------------------------------------------------------------------
    def import_media(self, file: Path, kind: str) -> None:
        """Copy a music file ("audio") or sticker image ("image") into the draft's library, off the UI
        thread: ``media_imported(asset, file)`` or ``import_failed(file, exception)``."""
        draft_id, store, file = self.draft_id, self.studio.drafts, Path(file)
        if draft_id is None:
            return

        def add() -> MediaRef:
            added = store.add_asset(draft_id, file, kind=kind)
            return store.media_refs(store.get(draft_id))[added.id]

        def done(asset: MediaRef) -> None:
            if self._current(draft_id):
                self.assets[asset.id] = asset
                self.media_imported.emit(asset, file)

        def failed(exc: BaseException) -> None:
            if self._current(draft_id):
                self.import_failed.emit(file, exc)

        run_in_background(add, owner=self, on_done=done, on_error=failed)

    def request_thumbnails(self, asset_id: str, height: int) -> None:
        """Thumbnails of a video asset: ``thumbnails_ready`` (at once when cached; failures are only logged)."""
        asset = self.assets.get(asset_id)
        key = (asset_id, height)
        if asset is None or asset.kind != "video":
            return
        if key in self._thumbs:
            self.thumbnails_ready.emit(asset_id, self._thumbs[key])
            return
        if ("thumbs", key) in self._asked:
            return
        self._asked.add(("thumbs", key))
        draft_id = self.draft_id

        def done(images: dict) -> None:
            if self._current(draft_id):
                self._thumbs[key] = images
                self.thumbnails_ready.emit(asset_id, images)
        run_in_background(thumbnails, asset.path, asset.rotation, asset.duration_us, height, owner=self,
                          on_done=done, on_error=lambda e: log.info("thumbnails of %s: %s", asset_id, e))

    def request_waveform(self, asset_id: str) -> None:
        """The sound's peaks: ``waveform_ready`` (cached here and on disk; failures are only logged)."""
        asset = self.assets.get(asset_id)
        if asset is None:
            return
        if asset_id in self._peaks:
            self.waveform_ready.emit(asset_id, self._peaks[asset_id])
            return
        if ("peaks", asset_id) in self._asked:
            return
        self._asked.add(("peaks", asset_id))
        draft_id = self.draft_id

        def done(peaks) -> None:  # noqa: ANN001
            if self._current(draft_id):
                self._peaks[asset_id] = peaks
                self.waveform_ready.emit(asset_id, peaks)
        run_in_background(waveform.peaks, asset.path, per_second=WAVEFORM_PER_SECOND,
                          cache_dir=self.studio.layout.thumbs, owner=self, on_done=done,
                          on_error=lambda e: log.info("waveform of %s: %s", asset_id, e))

    def request_previews(self, thumb_height: int) -> None:
        """Thumbnails of every video and the waveform of every music track of the open edit."""
        for a in list(self.assets.values()):
            if a.kind == "video":
                self.request_thumbnails(a.id, thumb_height)
        if self.document is not None:
            for m in self.document.edit.music:
                self.request_waveform(m.asset_id)

    # -- adding things (one undo step each; EditError when the edit refuses it) ----------------------
    def overlay_span(self, at_us: int) -> tuple[int, int]:
        """Where a new text or sticker goes: from the playhead for NEW_OVERLAY_US, at least 1 s, inside the reel."""
        total = self.document.edit.duration_us
        start = min(at_us, max(0, total - US))
        return start, max(start + US, min(total, start + NEW_OVERLAY_US))

    def add_text(self, text: str, at_us: int):  # noqa: ANN201 - the pushed AddText (``new_id``)
        start, end = self.overlay_span(at_us)
        return self.document.do(AddText, text, start, end, **NEW_TEXT_STYLE)

    def add_sticker(self, source: str, at_us: int):  # noqa: ANN201 - the pushed AddSticker
        start, end = self.overlay_span(at_us)
        return self.document.do(AddSticker, source, start, end, **NEW_STICKER_PLACE)

    def add_music(self, asset_id: str, start_us: int = 0):  # noqa: ANN201 - the pushed AddMusic
        """Put an imported sound under the reel (and start drawing its waveform)."""
        cmd = self.document.do(AddMusic, asset_id, start_us)
        self.request_waveform(asset_id)
        return cmd

    # -- speech: auto captions and jump cuts (the work is in studio.speech) ------------------------
    @property
    def transcribing(self) -> bool:
        return self._transcribing is not None

    def auto_captions(self, engine: str = "auto") -> bool:
        """Transcribe the open reel off the UI thread and store the words as its captions (one undo
        step): ``captions_progress`` then ``captions_finished`` / ``captions_failed`` /
        ``captions_cancelled``. False when nothing is open or a transcription is running."""
        import threading

        if self.document is None or self._transcribing is not None:
            return False
        draft_id, edit, assets, cancel = self.draft_id, self.document.edit, dict(self.assets), threading.Event()
        self._transcribing = cancel
        layout = self.studio.layout

        def work():  # noqa: ANN202 - runs on the pool
            chosen = choose_engine(engine, layout)
            return chosen.name, transcribe_edit(edit, assets, chosen, progress=self.captions_progress.emit,
                                                cancel=cancel)

        def done(result) -> None:  # noqa: ANN001
            self._transcribing = None
            if not self._current(draft_id):
                return
            name, words = result
            if [c.to_dict() for c in self.document.edit.clips] != [c.to_dict() for c in edit.clips]:
                self.captions_failed.emit(SpeechError("The clips changed while the captions were being made; "
                                                      "run Auto captions again."))
                return

            try:
                self.document.do(SetTranscript, words, engine=name)
            except Exception as e:  # noqa: BLE001 - EditError: shown, nothing pushed
                self.captions_failed.emit(e)
                return
            self.captions_finished.emit(len(words))

        def failed(exc: BaseException) -> None:
            self._transcribing = None
            if self._current(draft_id):
                (self.captions_cancelled.emit() if isinstance(exc, SpeechCancelled) else self.captions_failed.emit(exc))

        run_in_background(work, owner=self, on_done=done, on_error=failed)
        return True

    def cancel_captions(self) -> None:
        """Stop the running transcription (``captions_cancelled`` follows); the captions stay as they were."""
        if self._transcribing is not None:
            self._transcribing.set()

    def propose_silences(self, *, min_silence_us: int = 700_000, padding_us: int = 150_000,
                         threshold_db: float | None = None) -> bool:
        """Find the silences of the open reel off the UI thread: ``silences_proposed(proposal)`` (shown on
        the timeline; nothing is cut yet) or ``silences_failed``."""
        if self.document is None:
            return False
        draft_id, edit, assets = self.draft_id, self.document.edit, dict(self.assets)

        def done(proposal) -> None:  # noqa: ANN001
            if self._current(draft_id) and self.document.edit is edit:
                self.silence_proposal = proposal
                self.silences_proposed.emit(proposal)

        run_in_background(propose_silence_cuts, edit, assets, min_silence_us=min_silence_us, padding_us=padding_us,
                          threshold_db=DEFAULT_THRESHOLD_DB if threshold_db is None else threshold_db, owner=self,
                          on_done=done, on_error=lambda e: self._current(draft_id) and self.silences_failed.emit(e))
        return True

    def apply_silence_cuts(self, proposal=None):  # noqa: ANN001, ANN201 - SilenceProposal -> the pushed command
        """Cut the proposed silences out, in one undo step; the captions move with the cuts."""
        proposal = proposal or self.silence_proposal
        self.silence_proposal = None
        if self.document is None or proposal is None or not proposal.cuts:
            return None
        return self.document.do(RemoveSilences, list(proposal.cuts))

    @property
    def recording_voiceover(self) -> bool:
        return self._voiceover is not None

    def start_voiceover(self, at_us: int, source=None) -> bool:  # noqa: ANN001 - an AudioInput (the mic by default)
        """Record narration from ``at_us`` on the timeline: ``voiceover_started`` or ``voiceover_failed``."""
        import uuid

        if self.document is None or self._voiceover is not None:
            return False
        if source is None:
            source = MicrophoneInput()
        rec = VoiceoverRecorder(source, self.studio.layout.takes / f"voiceover-{uuid.uuid4().hex[:8]}.wav")
        try:
            rec.start()
        except SpeechError as e:
            self.voiceover_failed.emit(e)
            return False
        self._voiceover = (rec, max(0, int(at_us)))
        self.voiceover_started.emit()
        return True

    def stop_voiceover(self) -> None:
        """Stop recording; the file joins the draft's media off the UI thread and lands on the timeline as a
        voice track (one undo step): ``voiceover_added(track id)`` or ``voiceover_failed``."""
        if self._voiceover is None:
            return
        (rec, at_us), self._voiceover = self._voiceover, None
        draft_id, store = self.draft_id, self.studio.drafts
        try:
            path, _duration = rec.stop()
        except SpeechError as e:
            self.voiceover_failed.emit(e)
            return

        def add():  # noqa: ANN202 - on the pool
            try:
                asset = store.add_asset(draft_id, path, kind="audio")
            finally:
                path.unlink(missing_ok=True)   # the library has its own copy now (or nothing changed)
            return store.media_refs(store.get(draft_id))[asset.id]

        def done(asset) -> None:  # noqa: ANN001
            if not self._current(draft_id):
                return
            self.assets[asset.id] = asset
            try:
                cmd = self.document.do(AddMusic, asset.id, at_us, role="voice")
            except Exception as e:  # noqa: BLE001 - EditError: shown, nothing pushed
                self.voiceover_failed.emit(e)
                return
            self.request_waveform(asset.id)
            self.voiceover_added.emit(cmd.new_id)

        run_in_background(add, owner=self, on_done=done,
                          on_error=lambda e: self._current(draft_id) and self.voiceover_failed.emit(e))

    # -- export ----------------------------------------------------------------------------------
    @property
    def exporting(self) -> bool:
        """An export was asked for and has not ended (saving first, or rendering)."""
        return self._pending_export is not None or self._starting or \
            (self.export_job is not None and self.export_job.is_running())

    def export(self, out: Path | None = None, *, for_upload: bool = False) -> bool:
        """Save the edit, then export the revision just saved: into ``out``, or (None) into the export
        folder under the title, or (``for_upload``) frozen into staging. An edit made after this call is
        not in the export. False (and nothing happens) with no draft open or an export already running."""
        if self.document is None or self.exporting:
            return False
        self._pending_export = (Path(out) if out is not None else None, for_upload)
        if self.document.dirty or self.document.saving:
            self.export_saving.emit()
            self.document.save_soon_now()   # _on_saved starts the export once this (and any newer edit) is saved
        else:
            self._start_pending_export()
        return True

    def cancel_export(self) -> None:
        """Cancel the export: ffmpeg is stopped (``export_cancelled`` follows), or, while the edit is still
        being saved, the save goes on and the export never starts."""
        if self.export_job is not None and self.export_job.is_running():
            self.export_job.cancel()
        elif self._pending_export is not None:
            self._pending_export = None
            self.export_cancelled.emit()

    def _on_saved(self, _revision: int) -> None:
        if self._pending_export is None or self.document is None:
            return
        if self.document.dirty or self.document.saving:
            self.document.save_soon_now()   # edited while saving: the export waits for that edit to be saved
            return
        self._start_pending_export()

    def _on_save_failed(self, message: str) -> None:
        if self._pending_export is not None:
            self._pending_export = None
            self.export_failed.emit(ExportError(f"The edit could not be saved, so nothing was exported: {message}"))

    def _start_pending_export(self) -> None:
        (out, for_upload), self._pending_export = self._pending_export, None
        document = self.document
        # Not dirty and not saving: the document is exactly what revision ``document.revision`` holds.
        edit, revision = document.edit, document.revision
        job = ExportJob(self.studio, document.draft_id, out, parent=self, for_upload=for_upload, edit=edit,
                        revision=revision)
        job.progress.connect(self.export_progress)
        job.finished.connect(self.export_finished)
        job.failed.connect(self.export_failed)
        job.cancelled.connect(self.export_cancelled)
        self.export_job = job
        self._starting = True     # still "exporting" for whoever handles export_started
        try:
            self.export_started.emit(revision)
        finally:
            self._starting = False
        job.start()


__all__ = ["EditorSession", "load_draft", "thumbnails"]
