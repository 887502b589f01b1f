"""PublishSession: the Post workflow for the window (QtCore only; the page only shows its signals).

    s = PublishSession(studio)
    s.stageChanged.connect(lambda stage, fraction, text: ...)  # exporting → building → uploading → live
    s.live.connect(lambda post: ...); s.failed.connect(lambda exc: ...); s.cancelled.connect(...)
    s.start(draft_id, "local"); ... s.cancel()

The build runs on a thread of its own (minutes of ffmpeg must not hold the shared pool); once the
files are queued, the app's upload worker sends them and the session follows the post's state
(read in the background) until it is LIVE or FAILED. Cancel stops the build (nothing is left) or
cancels the post's uploads.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from studio.tasks import default_pool, run_in_background

log = logging.getLogger(__name__)

STAGE_TEXT = {"exporting": "Exporting", "building": "Building qualities", "queued": "Queued",
              "uploading": "Uploading", "live": "Live"}
_pool_instance: QThreadPool | None = None


def _pool():  # noqa: ANN202 - QThreadPool or the tests' SynchronousPool
    global _pool_instance
    pool = default_pool()
    if pool is not QThreadPool.globalInstance():
        return pool
    if _pool_instance is None:
        _pool_instance = QThreadPool()
        _pool_instance.setObjectName("publishing")
        _pool_instance.setMaxThreadCount(1)
    return _pool_instance


class PublishSession(QObject):
    stageChanged = Signal(str, float, str)   # stage, fraction of it, the line to show
    live = Signal(object)                    # the LIVE Post
    failed = Signal(object)                  # the exception (its user_message is the sentence)
    cancelled = Signal()

    def __init__(self, studio, parent: QObject | None = None, *, poll_ms: int = 500):  # noqa: ANN001
        super().__init__(parent)
        self.studio = studio
        self.post_id: str | None = None
        self.stage = ""
        self._cancel = threading.Event()
        self._polling = False
        self._timer = QTimer(self, interval=poll_ms, timeout=self._poll)
        self._done = True

    def is_running(self) -> bool:
        return not self._done

    def start(self, draft_id: str, target_name: str) -> None:
        self._cancel = threading.Event()
        self._done = False
        self.post_id = None
        self._emit("exporting", 0.0)
        cancel = self._cancel
        run_in_background(self._build, draft_id, target_name, cancel, on_done=self._queued, on_error=self._failed,
                          pool=_pool(), owner=self)

    def cancel(self) -> None:
        """During the build: stop it (nothing is kept). During the upload: cancel the post's uploads."""
        self._cancel.set()
        if self.post_id is not None and not self._done:
            post_id = self.post_id
            self._timer.stop()
            run_in_background(lambda: self.studio.posts.cancel(post_id), on_done=lambda _p: self._end_cancelled(),
                              on_error=self._failed, owner=self)

    # -- the build (off the UI thread)
    def _build(self, draft_id: str, target_name: str, cancel: threading.Event):  # noqa: ANN202 - Post
        last = {"key": None}

        def on_stage(stage: str, fraction: float) -> None:
            key = (stage, round(fraction, 2))
            if key != last["key"]:   # a few signals per second at most
                last["key"] = key
                self.stageChanged.emit(stage, fraction, _line(stage, fraction))

        return self.studio.posts.publish(draft_id, target_name, on_stage=on_stage, cancel=cancel)

    def _queued(self, post) -> None:  # noqa: ANN001 - Post
        self.post_id = post.id
        if self._cancel.is_set():
            self.cancel()
            return
        self._show_upload(post)
        self._timer.start()

    def _poll(self) -> None:
        if self._polling or self.post_id is None:
            return
        self._polling = True
        post_id = self.post_id
        run_in_background(lambda: self.studio.posts.get(post_id), on_done=self._show_upload,
                          on_error=self._poll_failed, owner=self)

    def _poll_failed(self, exc: BaseException) -> None:
        self._polling = False
        log.info("post state unavailable: %s", exc)

    def _show_upload(self, post) -> None:  # noqa: ANN001 - Post
        self._polling = False
        if self._done:
            return
        if post.state == "LIVE":
            self._timer.stop()
            self._done = True
            self._emit("live", 1.0)
            self.live.emit(post)
            run_in_background(self.studio.posts.tidy, on_error=lambda e: log.info("tidy: %s", e))
        elif post.state in ("FAILED", "CANCELLED"):
            self._timer.stop()
            from studio.publish.posts import PostError  # noqa: PLC0415 - heavy (SQLAlchemy): loaded on the pool

            if post.state == "CANCELLED":
                self._end_cancelled()
            else:
                self._done = True
                self.failed.emit(PostError(post.message or "The post failed to upload; retry it on the Uploads page."))
        else:
            total = max(1, post.files_total)
            self.stageChanged.emit("uploading", post.files_verified / total,
                                   f"Uploading {post.files_verified}/{post.files_total} files")

    def _end_cancelled(self) -> None:
        self._done = True
        self.cancelled.emit()

    def _failed(self, exc: BaseException) -> None:
        from studio.publish.posts import PublishCancelled  # noqa: PLC0415 - heavy (SQLAlchemy): not on the UI thread

        self._timer.stop()
        self._polling = False
        self._done = True
        if isinstance(exc, PublishCancelled):
            self.cancelled.emit()
        else:
            self.failed.emit(exc)

    def _emit(self, stage: str, fraction: float) -> None:
        self.stage = stage
        self.stageChanged.emit(stage, fraction, _line(stage, fraction))


def _line(stage: str, fraction: float) -> str:
    text = STAGE_TEXT.get(stage, stage)
    if stage in ("exporting", "building"):
        return f"{text}… {fraction * 100:.0f}%"
    return text
