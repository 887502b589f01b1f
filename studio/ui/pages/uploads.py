"""The Uploads page: every job with its progress, speed, ETA, state and error; controls per job.

All reads and writes go through ``studio.uploads`` in the background (run_in_background; even the
property itself, whose first use opens the database, is touched only there); live
progress comes from the shared upload worker's signals.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QApplication, QComboBox, QFileDialog, QFrame, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QScrollArea, QVBoxLayout, QWidget)

from studio.tasks import run_in_background as _run_in_background
from studio.ui import theme
from studio.ui.common import page_header
from studio.ui.uploads_controller import controller_for
from studio.uploader.progress import Progress, human_bytes, human_eta

log = logging.getLogger(__name__)


def alive(widget: QWidget) -> bool:
    import shiboken6

    return shiboken6.isValid(widget)


def run_in_background(owner: QWidget, fn, *args, on_done=None, on_error=None, **kwargs) -> None:  # noqa: ANN001
    """studio.tasks.run_in_background, whose callbacks are dropped if ``owner`` was deleted meanwhile."""
    def guard(cb):  # noqa: ANN001, ANN202
        return None if cb is None else (lambda value: cb(value) if alive(owner) else None)

    _run_in_background(fn, *args, on_done=guard(on_done), on_error=guard(on_error) or (lambda e: None), **kwargs)


STATE_TEXT = {"PENDING": "Waiting", "IN_PROGRESS": "Uploading", "PAUSED": "Paused", "RETRYING": "Retrying",
              "COMPLETED": "Uploaded", "FAILED": "Failed", "CANCELLED": "Cancelled"}


class JobRow(QFrame):
    """One upload job. ``action`` is (verb, job id) for the page to carry out off the UI thread."""

    action = Signal(str, str)

    def __init__(self, job, parent: QWidget | None = None):  # noqa: ANN001 - store.UploadJob
        super().__init__(parent)
        self.setObjectName("UploadRow")
        self.job_id = job.id
        self.thumb = QLabel()
        self.thumb.setPixmap(theme.icon("uploads").pixmap(40, 40))
        self.thumb.setFixedSize(48, 48)
        self.title = QLabel()
        self.title.setObjectName("UploadTitle")
        self.where = QLabel()
        self.where.setObjectName("UploadTarget")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.speed = QLabel()
        self.state = QLabel()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setObjectName("UploadError")
        self.buttons = {}
        for verb, text in (("pause", "Pause"), ("resume", "Resume"), ("cancel", "Cancel"), ("retry", "Retry"),
                           ("copy", "Copy link")):
            b = QPushButton(text)
            b.setObjectName(f"{verb}Button")
            b.clicked.connect(lambda _=False, v=verb: self.action.emit(v, self.job_id))
            self.buttons[verb] = b
        info = QVBoxLayout()
        info.addWidget(self.title)
        info.addWidget(self.where)
        info.addWidget(self.bar)
        line = QHBoxLayout()
        line.addWidget(self.state)
        line.addStretch(1)
        line.addWidget(self.speed)
        info.addLayout(line)
        info.addWidget(self.error)
        btns = QVBoxLayout()
        for b in self.buttons.values():
            btns.addWidget(b)
        lay = QHBoxLayout(self)
        lay.addWidget(self.thumb, 0, Qt.AlignTop)
        lay.addLayout(info, 1)
        lay.addLayout(btns)
        self.set_job(job)

    def set_job(self, job) -> None:  # noqa: ANN001 - store.UploadJob
        self.job = job
        self.title.setText(job.title or job.key)
        self.where.setText(f"{'This computer' if job.target_name == 'local' else job.target_name} · {job.key}")
        self.set_state(job.state, job.paused_reason)
        lines = [job.error or job.notice or "", f"Webhook: {job.webhook_status}" if job.webhook_status else ""]
        self.error.setText("\n".join(x for x in lines if x))
        self.error.setVisible(any(lines))
        restarted = getattr(self, "_upload_key", None) not in (None, (job.upload_id, job.size)) and \
            job.bytes_done < job.size
        self._upload_key = (job.upload_id, job.size)
        if restarted:   # a new multipart upload (a restart from zero, said in the notice): the bar goes back
            self.bar.setValue(0)
            self.live = None
        self._set_bar(Progress(job.bytes_done, job.size, 0.0, None).fraction)
        moving = job.state in ("IN_PROGRESS", "RETRYING") and self.live is not None
        if not moving:
            self.speed.setText(f"{human_bytes(job.bytes_done)} / {human_bytes(job.size)}")

    live: Progress | None = None

    def set_thumbnail(self, image) -> None:  # noqa: ANN001 - QImage | None
        if image is not None:
            from PySide6.QtGui import QPixmap

            pixmap = QPixmap.fromImage(image).scaled(48, 48, Qt.KeepAspectRatio, Qt.SmoothTransformation)
            self.thumb.setPixmap(pixmap)

    def set_state(self, state: str, reason: str | None = None) -> None:
        text = STATE_TEXT.get(state, state)
        if state == "PAUSED" and reason in ("offline", "metered"):
            text += " (offline)" if reason == "offline" else " (metered network)"
        self.state.setText(text)
        self.state.setProperty("state", state)
        live = state in ("PENDING", "IN_PROGRESS", "RETRYING")
        self.buttons["pause"].setVisible(live)
        self.buttons["resume"].setVisible(state == "PAUSED")
        self.buttons["cancel"].setVisible(state not in ("COMPLETED", "CANCELLED"))
        self.buttons["retry"].setVisible(state in ("FAILED", "CANCELLED"))
        self.buttons["copy"].setVisible(state == "COMPLETED")
        if state not in ("IN_PROGRESS", "RETRYING"):
            self.live = None

    def _set_bar(self, fraction: float) -> None:
        value = int(fraction * 1000)
        if value >= self.bar.value():      # never backwards, whatever order updates arrive in
            self.bar.setValue(value)

    def show_progress(self, p: Progress) -> None:
        """Live progress from the worker: acknowledged bytes, moving-average speed, ETA."""
        self.live = p
        self._set_bar(p.fraction)
        self.speed.setText(f"{human_bytes(p.done)} / {human_bytes(p.total)} · {human_bytes(p.rate)}/s · "
                           f"ETA {human_eta(p.eta)}")


class UploadDraftPanel(QFrame):
    """Offered when the page is opened for a draft: pick a target, export with progress, enqueue."""

    exportProgress = Signal(float)

    def __init__(self, studio, parent: QWidget | None = None):  # noqa: ANN001
        super().__init__(parent)
        self.studio = studio
        self.draft_id: str | None = None
        self.setObjectName("UploadDraftPanel")
        self.label = QLabel()
        self.targets = QComboBox()
        self.go = QPushButton("Export and upload")
        self.go.setProperty("accent", True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.hide()
        self.message = QLabel()
        self.message.setWordWrap(True)
        lay = QHBoxLayout(self)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.targets)
        lay.addWidget(self.go)
        lay.addWidget(self.bar)
        lay.addWidget(self.message, 1)
        self.go.clicked.connect(self.start)
        self.exportProgress.connect(lambda f: self.bar.setValue(int(f * 1000)))
        self.hide()

    def offer(self, draft_id: str, title: str | None = None, *, start: bool = False) -> None:
        """Offer ``draft_id`` for upload; ``start``: export and queue it at once (Post was pressed)."""
        self.draft_id = draft_id
        self.label.setText(f"Upload “{title}”" if title else f"Upload draft {draft_id[:8]}")
        self.message.clear()
        self.go.setEnabled(True)
        self.show()
        run_in_background(self, lambda: self.studio.targets.list(), on_done=lambda t: self._fill(t, start),
                          on_error=lambda e: self.message.setText(str(e)))

    def _fill(self, targets, start: bool = False) -> None:  # noqa: ANN001 - list[Target]
        self.targets.clear()
        for t in targets:
            self.targets.addItem(t.label, t.name)
        if start:
            self.start()

    def start(self) -> None:
        target = self.targets.currentData() or "local"
        self.go.setEnabled(False)
        self.bar.show()
        run_in_background(self, lambda d, t, **kw: self.studio.uploads.enqueue_draft(d, t, **kw),
                          self.draft_id, target, on_progress=lambda f, _eta: self.exportProgress.emit(f),
                          on_done=self._queued, on_error=self._failed)

    def _queued(self, job) -> None:  # noqa: ANN001
        self.bar.hide()
        self.message.setText(f"Queued as {job.id[:8]}.")

    def _failed(self, e: BaseException) -> None:
        self.bar.hide()
        self.go.setEnabled(True)
        self.message.setText(getattr(e, "user_message", None) or str(e))


class UploadsPage(QWidget):
    def __init__(self, studio, parent: QWidget | None = None):  # noqa: ANN001 - studio.app.Studio
        super().__init__(parent)
        self.studio = studio
        self.rows: dict[str, JobRow] = {}
        self._refreshing = False
        self.controller = controller_for(studio)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(32, 28, 32, 28)
        lay.addWidget(page_header("Uploads", "Background uploads that resume where they stopped, even after "
                                             "the app was closed."))
        bar = QHBoxLayout()
        self.add_file = QPushButton("Upload a file…")
        self.add_file.setProperty("accent", True)
        self.pause_all = QPushButton("Pause all")
        self.resume_all = QPushButton("Resume all")
        self.status = QLabel()
        self.status.setObjectName("UploadsNotice")
        for w in (self.add_file, self.pause_all, self.resume_all):
            bar.addWidget(w)
        bar.addWidget(self.status, 1)
        lay.addLayout(bar)
        self.draft_panel = UploadDraftPanel(studio)
        lay.addWidget(self.draft_panel)
        self.list_box = QWidget()
        self.list_lay = QVBoxLayout(self.list_box)
        self.list_lay.addStretch(1)
        self.empty = QLabel("Nothing uploaded yet. Export a draft or pick a file to upload.")
        self.empty.setAlignment(Qt.AlignCenter)
        self.list_lay.insertWidget(0, self.empty)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.list_box)
        lay.addWidget(scroll, 1)

        self.add_file.clicked.connect(self._pick_file)
        self.pause_all.clicked.connect(lambda: self._do("pause_all"))
        self.resume_all.clicked.connect(lambda: self._do("resume_all"))
        self.controller.worker.progressChanged.connect(self._on_progress)
        self.controller.worker.stateChanged.connect(lambda _j, _s: self.refresh())
        self.controller.worker.notice.connect(lambda _j, text: self.status.setText(text))
        self.controller.worker.failed.connect(self.status.setText)
        self.timer = QTimer(self, interval=1000, timeout=self.refresh)   # also shows another process's runs
        self.timer.start()
        self.refresh()

    def activated(self, payload: object) -> None:
        if isinstance(payload, dict) and payload.get("draft_id"):
            self.draft_panel.offer(payload["draft_id"], payload.get("title"), start=bool(payload.get("start")))
        self.refresh()

    # -- data
    def refresh(self) -> None:
        if self._refreshing:
            return
        self._refreshing = True
        run_in_background(self, lambda: self.studio.uploads.list(), on_done=self._show_jobs,
                          on_error=self._list_failed)

    def _list_failed(self, e: BaseException) -> None:
        self._refreshing = False
        self.status.setText(getattr(e, "user_message", None) or str(e))

    def _show_jobs(self, jobs) -> None:  # noqa: ANN001 - list[UploadJob]
        self._refreshing = False
        seen = set()
        for index, job in enumerate(reversed(jobs)):   # newest first
            seen.add(job.id)
            row = self.rows.get(job.id)
            if row is None:
                row = self.rows[job.id] = JobRow(job)
                row.action.connect(self._on_action)
                self.list_lay.insertWidget(index, row)
                if job.draft_id:
                    run_in_background(self, self._draft_thumbnail, job.draft_id,
                                      on_done=lambda img, r=row: r.set_thumbnail(img),
                                      on_error=lambda e: log.info("no thumbnail: %s", e))
            else:
                row.set_job(job)
                live = self.controller.progress.get(job.id)
                if live is not None and job.state in ("IN_PROGRESS", "RETRYING"):
                    row.show_progress(live)
        for job_id in set(self.rows) - seen:
            self.rows.pop(job_id).deleteLater()
        self.empty.setVisible(not self.rows)

    def _draft_thumbnail(self, draft_id: str):  # noqa: ANN202 - QImage | None; runs in the background
        from PySide6.QtGui import QImage

        path = self.studio.drafts.thumbnail(self.studio.drafts.get(draft_id))
        image = QImage(str(path)) if path else QImage()
        return None if image.isNull() else image.scaled(96, 96, Qt.KeepAspectRatio, Qt.SmoothTransformation)

    def _on_progress(self, job_id: str, p: Progress) -> None:
        row = self.rows.get(job_id)
        if row is not None:
            row.show_progress(p)

    # -- actions (all off the UI thread: cancel talks to the server)
    def _on_action(self, verb: str, job_id: str) -> None:
        if verb == "copy":
            run_in_background(self, lambda j: self.studio.uploads.link(j), job_id,
                              on_done=lambda url: (QApplication.clipboard().setText(url),
                                                   self.status.setText(f"Copied {url}")),
                              on_error=lambda e: self.status.setText(str(e)))
            return
        self._do(verb, job_id)

    def _do(self, method: str, *args) -> None:
        # ``studio.uploads`` is resolved in the background too: the first use opens the database.
        run_in_background(self, lambda: getattr(self.studio.uploads, method)(*args),
                          on_done=lambda _r: self.refresh(),
                          on_error=lambda e: self.status.setText(getattr(e, "user_message", None) or str(e)))

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Upload a file", "",
                                              "Videos (*.mp4 *.mov *.m4v);;All files (*)")
        if path:
            self._do("enqueue_file", path, self.draft_panel.targets.currentData() or "local")
