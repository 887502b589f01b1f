"""The QThread worker around the upload queue (QtCore only; the engine stays plain Python).

A parentless QObject moved to its own QThread runs ``UploadQueue.run`` until stopped, and turns
the queue's callbacks into signals: state changes, and progress (acknowledged bytes, moving-average
rate, ETA) at most 10 times a second per job. When another process holds the queue (a terminal's
`studio uploads run`), it waits and tries again.
"""

from __future__ import annotations

import atexit
import logging
import weakref
import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot

from studio.uploader.progress import ProgressMeter
from studio.errors import user_message

log = logging.getLogger(__name__)

# Qt 6 aborts the process when a QThread object is destroyed while its thread runs, which is what
# happens to a worker nobody stopped when the interpreter exits: stop them first.
_running: "weakref.WeakSet[UploadWorker]" = weakref.WeakSet()


@atexit.register
def _stop_running_workers() -> None:
    for worker in list(_running):
        try:
            if worker.is_running():
                worker.stop(timeout_ms=10_000)
        except RuntimeError:  # its C++ object is already gone: nothing runs
            pass


class UploadWorker(QObject):
    stateChanged = Signal(str, str)        # job id, state
    progressChanged = Signal(str, object)  # job id, progress.Progress
    notice = Signal(str, str)              # job id, message
    runnerBusy = Signal(bool)              # True while another process runs the queue
    failed = Signal(str)                   # the worker itself could not run (message)

    def __init__(self, studio, *, retry_busy: float = 3.0, max_updates_per_second: float = 10.0):  # noqa: ANN001
        super().__init__()
        self.studio = studio
        self.retry_busy = retry_busy
        self.max_updates = max_updates_per_second
        self._stop = threading.Event()
        self._meters: dict[str, ProgressMeter] = {}
        self._thread = QThread()
        self._thread.setObjectName("upload-worker")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._run)

    def start(self) -> None:
        self._stop.clear()
        _running.add(self)
        self._thread.start()

    def stop(self, timeout_ms: int = 30000) -> None:
        """Stop after in-flight parts finish; jobs stay resumable. Blocks up to ``timeout_ms``."""
        self._stop.set()
        self._thread.quit()
        self._thread.wait(timeout_ms)

    def is_running(self) -> bool:
        try:
            return self._thread.isRunning()
        except RuntimeError:  # its QThread is already gone (the app is being torn down): nothing runs
            return False

    @Slot()
    def _run(self) -> None:
        from studio.uploader.queue import QueueBusy  # noqa: PLC0415 - heavy (SQLAlchemy): loads here, off the UI thread

        while not self._stop.is_set():
            try:
                queue = self.studio.uploads
                queue.run(stop=self._stop, on_event=self._on_event)
            except QueueBusy:
                self.runnerBusy.emit(True)
                self._stop.wait(self.retry_busy)
                continue
            except Exception as e:  # noqa: BLE001 - reported, then retried after a pause
                log.exception("upload worker stopped")
                self.failed.emit(user_message(e, f"Uploads stopped: {type(e).__name__}"))
                self._stop.wait(self.retry_busy * 3)
                continue
            self.runnerBusy.emit(False)
        self._thread.quit()

    def _on_event(self, kind: str, job_id: str, payload: object) -> None:
        if kind == "progress":
            done, total = payload
            meter = self._meters.setdefault(job_id, ProgressMeter(max_per_second=self.max_updates))
            p = meter.update(done, total)
            if p is not None:
                self.progressChanged.emit(job_id, p)
        elif kind == "restart":
            # From zero, said so: a fresh meter, so the bar goes back instead of hiding the restart.
            self._meters.pop(job_id, None)
            self.notice.emit(job_id, f"Restarted from zero: {payload}")
            self.stateChanged.emit(job_id, "IN_PROGRESS")   # the row re-reads the job: its bar back at zero
        elif kind == "webhook":
            self.notice.emit(job_id, f"Webhook {payload}")
            self.stateChanged.emit(job_id, "COMPLETED")   # the row re-reads the job, webhook state included
        elif kind == "state":
            if payload in ("COMPLETED", "FAILED", "CANCELLED"):
                self._meters.pop(job_id, None)
            self.stateChanged.emit(job_id, str(payload))
        else:
            self.notice.emit(job_id, str(payload))
