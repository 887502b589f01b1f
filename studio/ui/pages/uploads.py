"""The Uploads page: every job with its progress, speed, ETA, state and error; controls per job.

All reads and writes go through ``studio.uploads`` in the background (run_in_background; even the
property itself, whose first use opens the database, is touched only there); live
progress comes from the shared upload worker's signals.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (QApplication, QComboBox, QFileDialog, QFrame, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget)

from studio.tasks import run_in_background as _run_in_background
from studio.ui import theme
from studio.ui.common import page_header
from studio.ui.uploads_controller import controller_for
from studio.uploader.progress import Progress, human_bytes, human_eta
from studio.errors import user_message

log = logging.getLogger(__name__)


def alive(widget: QWidget) -> bool:
    import shiboken6

    return shiboken6.isValid(widget)


def run_in_background(owner: QWidget, fn, *args, on_done=None, on_error=None, **kwargs) -> None:  # noqa: ANN001
    """studio.tasks.run_in_background with ``owner`` first: answers for a deleted widget are dropped there."""
    _run_in_background(fn, *args, on_done=on_done, on_error=on_error, owner=owner, **kwargs)


def when_text(us: int | None) -> str:
    """A job's time as people say it: "today 20:03", "yesterday 09:12", "3 Dec 14:00", "3 Dec 2025"."""
    from datetime import datetime, timedelta

    if not us:
        return ""
    when, now = datetime.fromtimestamp(us / 1e6), datetime.now()
    if when.date() == now.date():
        return f"today {when:%H:%M}"
    if when.date() == (now - timedelta(days=1)).date():
        return f"yesterday {when:%H:%M}"
    return f"{when.day} {when:%b %H:%M}" if when.year == now.year else f"{when.day} {when:%b %Y}"


def target_label(name: str) -> str:
    return "This computer" if name == "local" else name


class ElidedLabel(QLabel):
    """One line that shortens itself with "…" instead of widening the page (full text in the tooltip)."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self):  # noqa: ANN201, N802 - Qt API
        hint = super().minimumSizeHint()
        hint.setWidth(0)
        return hint

    def paintEvent(self, _event) -> None:  # noqa: ANN001, N802 - Qt API
        painter = QPainter(self)
        rect = self.contentsRect()
        painter.drawText(rect, int(self.alignment() | Qt.AlignVCenter),
                         self.fontMetrics().elidedText(self.text(), Qt.ElideMiddle, rect.width()))
        painter.end()


STATE_TEXT = {"PENDING": "Waiting", "IN_PROGRESS": "Uploading", "PAUSED": "Paused", "RETRYING": "Retrying",
              "COMPLETED": "Uploaded", "FAILED": "Failed", "CANCELLED": "Cancelled"}


class _Row(QFrame):
    """What a job row and a post row share: thumbnail, title and state, where it goes, a progress
    bar, a status line with the row's buttons beside it, and an error line. ``action`` is
    (verb, row id) for the page to carry out off the UI thread."""

    action = Signal(str, str)

    def __init__(self, row_id: str, buttons: tuple[tuple[str, str], ...], button_prefix: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("UploadRow")
        self.row_id = row_id
        self.thumb = QLabel()
        self.thumb.setPixmap(theme.icon("uploads").pixmap(40, 40))
        self.thumb.setFixedSize(48, 48)
        self.title = ElidedLabel()
        self.title.setObjectName("UploadTitle")
        self.state = QLabel()
        self.where = ElidedLabel()
        self.where.setObjectName("UploadTarget")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.status = ElidedLabel()
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setObjectName("UploadError")
        self.error.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.error.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.buttons: dict[str, QPushButton] = {}
        for verb, text in buttons:
            b = QPushButton(text)
            b.setObjectName(f"{button_prefix}{verb.capitalize() if button_prefix else verb}Button")
            self._connect(b, verb)
            self.buttons[verb] = b
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.state)
        line = QHBoxLayout()
        line.addWidget(self.status, 1)
        for b in self.buttons.values():   # beside the progress, never in a column that widens the row
            line.addWidget(b)
        self.info = QVBoxLayout()
        self.info.addLayout(head)
        self.info.addWidget(self.where)
        self.info.addWidget(self.bar)
        self.info.addLayout(line)
        self.info.addWidget(self.error)
        lay = QHBoxLayout(self)
        lay.addWidget(self.thumb, 0, Qt.AlignTop)
        lay.addLayout(self.info, 1)

    def _connect(self, button: QPushButton, verb: str) -> None:
        button.clicked.connect(lambda _=False, v=verb: self.action.emit(v, self.row_id))

    def set_thumbnail(self, image) -> None:  # noqa: ANN001 - QImage | None
        if image is not None:
            from PySide6.QtGui import QPixmap

            pixmap = QPixmap.fromImage(image).scaled(48, 48, Qt.KeepAspectRatio, Qt.SmoothTransformation)
            self.thumb.setPixmap(pixmap)


class JobRow(_Row):
    """One upload job."""

    def __init__(self, job, parent: QWidget | None = None):  # noqa: ANN001 - store.UploadJob
        super().__init__(job.id, (("pause", "Pause"), ("resume", "Resume"), ("cancel", "Cancel"),
                                  ("retry", "Retry"), ("copy", "Copy link")), parent=parent)
        self.job_id = job.id
        self.speed = self.status
        self.buttons["copy"].setToolTip("Copy a link that opens the video in a browser")
        self.set_job(job)

    def set_job(self, job) -> None:  # noqa: ANN001 - store.UploadJob
        self.job = job
        from pathlib import Path

        self.title.setText(job.title or Path(job.source_path).stem or "Upload")
        when = (f"uploaded {when_text(job.completed_us)}" if job.state == "COMPLETED" and job.completed_us
                else f"added {when_text(job.created_us)}")
        self.where.setText(f"To {target_label(job.target_name)} · {when}")
        self.where.setToolTip(f"{target_label(job.target_name)}: {job.bucket}/{job.key}")
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
            self.speed.setText(human_bytes(job.size) if job.state == "COMPLETED"
                               else f"{human_bytes(job.bytes_done)} / {human_bytes(job.size)}")

    live: Progress | None = None

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


POST_STATE_TEXT = {"BUILDING": "Building", "UPLOADING": "Uploading", "LIVE": "Live", "FAILED": "Failed",
                   "CANCELLED": "Cancelled"}


class PostRow(_Row):
    """A post: one row for all its files (a toggle shows them)."""

    def __init__(self, post, parent: QWidget | None = None):  # noqa: ANN001 - publish.posts.Post
        super().__init__(post.id, (("files", "Files"), ("copy", "Copy link"), ("open", "Open"), ("cancel", "Cancel"),
                                   ("retry", "Retry"), ("delete", "Delete")), button_prefix="post", parent=parent)
        self.post_id = post.id
        self.summary = self.status
        self.buttons["copy"].setToolTip("Copy the share page's link")
        self.buttons["open"].setToolTip("Open the share page in the browser")
        self.buttons["delete"].setToolTip("Remove the post from the storage (its link stops working)")
        self.files = QLabel()
        self.files.setObjectName("PostFiles")
        self.files.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.files.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.files.hide()
        self.info.addWidget(self.files)
        self.set_post(post)

    def set_post(self, post) -> None:  # noqa: ANN001 - publish.posts.Post
        self.post = post
        self.title.setText(f"Post · {post.title or 'Reel'}")
        when = when_text(post.created_us)
        self.where.setText(f"To {target_label(post.target_name)} · added {when}")
        self.where.setToolTip(f"{target_label(post.target_name)}: {post.bucket}/{post.prefix}")
        self.state.setText(POST_STATE_TEXT.get(post.state, post.state))
        self.state.setProperty("state", {"LIVE": "COMPLETED", "UPLOADING": "IN_PROGRESS"}.get(post.state, post.state))
        total = max(1, post.bytes_total)
        self.bar.setValue(1000 if post.state == "LIVE" else int(post.bytes_done / total * 1000))
        self.summary.setText(f"{post.files_verified}/{post.files_total} files · {human_bytes(post.bytes_done)} / "
                             f"{human_bytes(post.bytes_total)}" if post.files_total else "Building the qualities…")
        problem = post.message if post.state in ("FAILED", "CANCELLED") else ""
        self.error.setText(problem or "")
        self.error.setVisible(bool(problem))
        live = post.state == "LIVE"
        self.buttons["copy"].setVisible(live)
        self.buttons["open"].setVisible(live)
        self.buttons["cancel"].setVisible(post.state == "UPLOADING")
        self.buttons["retry"].setVisible(post.state in ("FAILED", "CANCELLED"))
        self.buttons["delete"].setVisible(post.state != "BUILDING")
        self.buttons["files"].setVisible(bool(post.jobs))
        prefix = len(post.prefix)
        self.files.setText("\n".join(
            f"{STATE_TEXT.get(j.state, j.state):<10} {human_bytes(j.size):>9}  {j.key[prefix:]}" for j in post.jobs))

    def _connect(self, button: QPushButton, verb: str) -> None:
        if verb != "files":
            super()._connect(button, verb)
            return
        button.setCheckable(True)       # shows and hides the list of files, here in the row
        button.toggled.connect(self._toggle_files)

    def _toggle_files(self, shown: bool) -> None:
        self.files.setVisible(shown)
        self.buttons["files"].setText("Hide files" if shown else "Files")


def target_picker() -> QComboBox:
    """A destination picker that is as wide as its longest name ("This computer", not "This com")."""
    combo = QComboBox()
    combo.setObjectName("TargetPicker")
    combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
    combo.setMinimumContentsLength(12)
    combo.setToolTip("Where the upload goes (add destinations in Settings → Destinations)")
    return combo


def fill_targets(combo: QComboBox, targets) -> None:  # noqa: ANN001 - list[Target]
    chosen = combo.currentData()
    combo.clear()
    for t in targets:
        combo.addItem(t.label, t.name)
    if chosen is not None and combo.findData(chosen) >= 0:
        combo.setCurrentIndex(combo.findData(chosen))


class UploadDraftPanel(QFrame):
    """Offered when the page is opened for a draft: pick a target, export with progress, enqueue."""

    exportProgress = Signal(float)

    def __init__(self, studio, parent: QWidget | None = None):  # noqa: ANN001
        super().__init__(parent)
        self.studio = studio
        self.draft_id: str | None = None
        self.setObjectName("UploadDraftPanel")
        self.label = ElidedLabel()
        self.targets = target_picker()
        self.go = QPushButton("Export and upload")
        self.go.setToolTip("Upload the reel as one MP4 file")
        self.post = QPushButton("Post")
        self.post.setObjectName("PublishButton")
        self.post.setProperty("accent", True)
        self.post.setToolTip("Publish a post anyone with the link can watch: adaptive streaming in four "
                             "qualities, a poster and a share page")
        self.cancel_post = QPushButton("Cancel")
        self.cancel_post.setObjectName("CancelPublishButton")
        self.cancel_post.hide()
        self.stage = QLabel()
        self.stage.setObjectName("PublishStage")
        self.stage.hide()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.hide()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        lay = QHBoxLayout(self)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.targets)
        lay.addWidget(self.post)
        lay.addWidget(self.go)
        lay.addWidget(self.stage)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel_post)
        lay.addWidget(self.message, 1)
        self.go.clicked.connect(self.start)
        self.post.clicked.connect(self.publish)
        self.cancel_post.clicked.connect(lambda: self.publishing.cancel())
        from studio.publish.session import PublishSession

        self.publishing = PublishSession(studio, self)
        self.publishing.stageChanged.connect(self._on_stage)
        self.publishing.live.connect(self._published)
        self.publishing.failed.connect(self._publish_failed)
        self.publishing.cancelled.connect(self._publish_cancelled)
        self.exportProgress.connect(lambda f: self.bar.setValue(int(f * 1000)))
        self.hide()

    def offer(self, draft_id: str, title: str | None = None, *, start: bool = False) -> None:
        """Offer ``draft_id`` for upload; ``start``: publish it at once (Post was pressed elsewhere)."""
        self.draft_id = draft_id
        self.title = title or ""
        self.label.setText(f"Upload “{title}”" if title else "Upload this draft")
        self.message.clear()
        self.go.setEnabled(True)
        self.show()
        if not title:
            run_in_background(self, lambda: self.studio.drafts.get(draft_id).title, on_done=self._titled,
                              on_error=lambda e: log.info("draft title unavailable: %s", e))
        run_in_background(self, lambda: self.studio.targets.list(), on_done=lambda ts: self._fill(ts, start),
                          on_error=lambda e: self.message.setText(str(e)))

    def _fill(self, targets, start: bool = False) -> None:  # noqa: ANN001 - list[Target]
        fill_targets(self.targets, targets)
        if start:
            self.publish()

    def _titled(self, title: str) -> None:
        self.title = title
        self.label.setText(f"Upload “{title}”" if title else "Upload this draft")

    title = ""

    def start(self) -> None:
        """Export the draft's current revision into staging (the editor's ExportJob, which reuses a finished
        export of it), then queue that export's result."""
        from studio.editor.export import ExportJob

        target = self.targets.currentData() or "local"
        self.go.setEnabled(False)
        self.bar.setValue(0)
        self.bar.show()
        job = ExportJob(self.studio, self.draft_id, parent=self, for_upload=True)
        job.progress.connect(lambda f, _eta: self.exportProgress.emit(f))
        job.finished.connect(lambda result: run_in_background(
            self, lambda: self.studio.uploads.enqueue_export(result, target), on_done=self._queued,
            on_error=self._failed))
        job.failed.connect(self._failed)
        self.export_job = job
        job.start()

    export_job = None

    # -- Post: the PublishSession owns the workflow; this shows its stages
    def publish(self) -> None:
        self._busy(True)
        self.message.clear()
        self.publishing.start(self.draft_id, self.targets.currentData() or "local")

    def _busy(self, busy: bool) -> None:
        self.go.setEnabled(not busy)
        self.post.setEnabled(not busy)
        self.cancel_post.setVisible(busy)
        self.stage.setVisible(busy)
        self.bar.setVisible(busy)

    def _on_stage(self, stage: str, fraction: float, text: str) -> None:
        self.stage.setText(text)
        self.bar.setValue(int(fraction * 1000))

    def _published(self, post) -> None:  # noqa: ANN001 - publish.posts.Post
        self._busy(False)
        self.message.setText(f"“{post.title or self.title}” is live on {target_label(post.target_name)}: "
                             "Copy link or Open it below.")

    def _publish_failed(self, e: BaseException) -> None:
        self._busy(False)
        self.message.setText(user_message(e))

    def _publish_cancelled(self) -> None:
        self._busy(False)
        self.message.setText("Publishing was cancelled.")

    def _queued(self, job) -> None:  # noqa: ANN001
        self.bar.hide()
        self.message.setText(f"“{job.title or self.title}” is queued for {target_label(job.target_name)}.")

    def _failed(self, e: BaseException) -> None:
        self.bar.hide()
        self.go.setEnabled(True)
        self.message.setText(user_message(e))


class UploadsPage(QWidget):
    def __init__(self, studio, parent: QWidget | None = None):  # noqa: ANN001 - studio.app.Studio
        super().__init__(parent)
        self.studio = studio
        self.rows: dict[str, JobRow] = {}
        self.post_rows: dict[str, PostRow] = {}
        self._refreshing = False
        self.controller = controller_for(studio)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(32, 28, 32, 28)
        lay.addWidget(page_header("Uploads", "Background uploads that resume where they stopped, even after "
                                             "the app was closed."))
        bar = QHBoxLayout()
        self.add_file = QPushButton("Upload a file…")
        self.add_file.setProperty("accent", True)
        self.file_target = target_picker()
        self.pause_all = QPushButton("Pause all")
        self.resume_all = QPushButton("Resume all")
        self.clear_finished = QPushButton("Clear finished")
        self.clear_finished.setToolTip("Remove finished and cancelled uploads from this list "
                                       "(the files stay where they were uploaded)")
        self.status = QLabel()
        self.status.setObjectName("UploadsNotice")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        for w in (self.add_file, QLabel("to"), self.file_target):
            bar.addWidget(w)
        bar.addStretch(1)
        for w in (self.pause_all, self.resume_all, self.clear_finished):
            bar.addWidget(w)
        lay.addLayout(bar)
        lay.addWidget(self.status)
        self.draft_panel = UploadDraftPanel(studio)
        lay.addWidget(self.draft_panel)
        self.list_box = QWidget()
        self.list_lay = QVBoxLayout(self.list_box)
        self.list_lay.addStretch(1)
        self.empty = QLabel("Nothing uploaded yet. Export a draft or pick a file to upload.")
        self.empty.setAlignment(Qt.AlignCenter)
        self.list_lay.insertWidget(0, self.empty)
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)   # rows shrink to fit; buttons stay in view
        scroll.setWidget(self.list_box)
        lay.addWidget(scroll, 1)

        self.add_file.clicked.connect(self._pick_file)
        self.pause_all.clicked.connect(lambda: self._do("pause_all"))
        self.resume_all.clicked.connect(lambda: self._do("resume_all"))
        self.clear_finished.clicked.connect(self._clear_finished)
        self.controller.worker.progressChanged.connect(self._on_progress)
        self.controller.worker.stateChanged.connect(lambda _j, _s: self.refresh())
        self.controller.worker.notice.connect(lambda _j, text: self.status.setText(text))
        self.controller.worker.failed.connect(self.status.setText)
        self.timer = QTimer(self, interval=1000, timeout=self.refresh)   # also shows another process's runs
        self.timer.start()
        self.refresh()
        self.reload_targets()

    def reload_targets(self) -> None:
        run_in_background(self, lambda: self.studio.targets.list(),
                          on_done=lambda ts: fill_targets(self.file_target, ts),
                          on_error=lambda e: self.status.setText(user_message(e)))

    def activated(self, payload: object) -> None:
        if isinstance(payload, dict) and payload.get("draft_id"):
            self.draft_panel.offer(payload["draft_id"], payload.get("title"), start=bool(payload.get("start")))
        self.refresh()
        self.reload_targets()   # destinations may have changed in Settings

    # -- data
    def refresh(self) -> None:
        if self._refreshing:
            return
        self._refreshing = True
        run_in_background(self, lambda: (self.studio.uploads.list(), self.studio.posts.list()),
                          on_done=self._show_all, on_error=self._list_failed)

    def _list_failed(self, e: BaseException) -> None:
        self._refreshing = False
        self.status.setText(user_message(e))

    def _show_all(self, lists) -> None:  # noqa: ANN001 - (list[UploadJob], list[Post])
        jobs, posts = lists
        self._show_jobs([j for j in jobs if not j.post_id])   # a post's files are in its own row
        seen = set()
        for index, post in enumerate(posts):   # newest first, above the single uploads
            seen.add(post.id)
            row = self.post_rows.get(post.id)
            if row is None:
                row = self.post_rows[post.id] = PostRow(post)
                row.action.connect(self._on_post_action)
                self.list_lay.insertWidget(index, row)
                run_in_background(self, self._draft_thumbnail, post.draft_id,
                                  on_done=lambda img, r=row: r.set_thumbnail(img),
                                  on_error=lambda e: log.info("no thumbnail: %s", e))
            else:
                row.set_post(post)
        for post_id in set(self.post_rows) - seen:
            self.post_rows.pop(post_id).deleteLater()
        self.empty.setVisible(not self.rows and not self.post_rows)

    def _on_post_action(self, verb: str, post_id: str) -> None:
        """One service call per action, off the UI thread (links are signed, cancel and delete talk to the server)."""
        posts = self.studio.posts
        if verb in ("copy", "open"):
            run_in_background(self, lambda: self._post_links(post_id),
                              on_done=lambda links: self._use_post_link(verb, links),
                              on_error=lambda e: self.status.setText(user_message(e)))
            return
        done = {"cancel": "Cancelled the post's uploads.", "retry": "The post continues.",
                "delete": "The post was removed from the storage; its link no longer opens."}[verb]
        run_in_background(self, getattr(posts, verb), post_id,
                          on_done=lambda _r: (self.status.setText(done), self.refresh()),
                          on_error=lambda e: self.status.setText(user_message(e)))

    def _post_links(self, post_id: str) -> dict:
        """The post's links; for This computer the storage is started (kept while the app runs) so they open."""
        post = self.studio.posts.get(post_id)
        if post.target_name == "local" and not self.studio.local_s3.is_serving():
            self.studio.local_s3.ensure_running()
        return self.studio.posts.links(post)

    def _use_post_link(self, verb: str, links: dict) -> None:
        url = links["share_url"]
        if verb == "open":
            from PySide6.QtCore import QUrl
            from PySide6.QtGui import QDesktopServices

            QDesktopServices.openUrl(QUrl(url))
            self.status.setText("Opened the post's share page in the browser.")
            return
        QApplication.clipboard().setText(url)
        if links["kind"] == "local":
            self.status.setText("Link copied: it opens in a browser on this computer, while Reel Studio runs.")
        elif links["kind"] == "public":
            self.status.setText("Link copied: it opens in any browser.")
        else:
            from datetime import datetime

            until = datetime.fromtimestamp(links["expires_us"] / 1e6)
            self.status.setText(f"Link copied: it opens in any browser until {until.day} {until:%b %H:%M}.")

    def _show_jobs(self, jobs) -> None:  # noqa: ANN001 - list[UploadJob]
        self._refreshing = False
        seen = set()
        for index, job in enumerate(reversed(jobs), len(self.post_rows)):   # newest first, below the posts
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
            run_in_background(self, lambda j: self.studio.uploads.link_info(j), job_id, on_done=self._copied,
                              on_error=lambda e: self.status.setText(user_message(e)))
            return
        self._do(verb, job_id)

    def _copied(self, link: dict) -> None:
        QApplication.clipboard().setText(link["url"])
        if link["kind"] == "public":
            self.status.setText("Link copied: it opens in any browser.")
        else:
            from datetime import datetime

            until = datetime.fromtimestamp(link["expires_us"] / 1e6)
            local = link["url"].startswith(("http://127.0.0.1", "http://localhost"))
            where = " on this computer, while Reel Studio runs," if local else ""
            self.status.setText(f"Link copied: it opens in a browser{where} until {until.day} {until:%b %H:%M}.")

    def _clear_finished(self) -> None:
        run_in_background(self, lambda: self.studio.uploads.clear_finished(),
                          on_done=lambda n: (self.status.setText(f"Cleared {n} finished upload(s)." if n else
                                                                 "Nothing finished to clear."), self.refresh()),
                          on_error=lambda e: self.status.setText(user_message(e)))

    def _do(self, method: str, *args) -> None:
        # ``studio.uploads`` is resolved in the background too: the first use opens the database.
        run_in_background(self, lambda: getattr(self.studio.uploads, method)(*args),
                          on_done=lambda _r: self.refresh(),
                          on_error=lambda e: self.status.setText(user_message(e)))

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Upload a file", "",
                                              "Videos (*.mp4 *.mov *.m4v);;All files (*)")
        if path:
            self._do("enqueue_file", path, self.file_target.currentData() or "local")
