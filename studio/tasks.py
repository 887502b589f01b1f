"""Run work off the UI thread and hand the result back on it (QtCore only; no widgets).

    run_in_background(load_thumbnail, path, on_done=self._show, on_error=self._fail)

``fn`` runs on the global QThreadPool; ``on_done(result)`` / ``on_error(exc)`` run on the thread
of the object that was current when you called (normally the UI thread), via queued signals.
An error with no ``on_error`` goes to the unhandled-exception reporter (log + dialog).
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict, relay: _Relay):
        super().__init__()
        self.fn, self.args, self.kwargs, self.relay = fn, args, kwargs, relay
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as e:  # noqa: BLE001 - handed to on_error on the caller's thread
            signal, value = self.relay.failed, e
        else:
            signal, value = self.relay.done, result
        try:
            signal.emit(value)
        except RuntimeError:
            # The app is shutting down and the relay is gone: nobody is left to tell.
            pass


_alive: set[_Relay] = set()


def wait_for_background(timeout_ms: int = 3000) -> bool:
    """At quit: let running jobs finish (a half-done thumbnail is fine; a half-done save is not)."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)


def run_in_background(fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
                      on_error: Callable[[BaseException], None] | None = None,
                      pool: QThreadPool | None = None, **kwargs: Any) -> None:
    relay = _Relay()
    _alive.add(relay)  # keep the relay alive until the job reports back

    def finish(result: Any) -> None:
        _alive.discard(relay)
        relay.deleteLater()
        if on_done is not None:
            on_done(result)

    def fail(exc: BaseException) -> None:
        _alive.discard(relay)
        relay.deleteLater()
        if on_error is not None:
            on_error(exc)
        else:
            sys.excepthook(type(exc), exc, exc.__traceback__)

    relay.done.connect(finish)
    relay.failed.connect(fail)
    (pool or QThreadPool.globalInstance()).start(_Job(fn, args, kwargs, relay))
