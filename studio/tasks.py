"""Run work off the UI thread and hand the result back on it (QtCore only; no widgets).

    run_in_background(load_thumbnail, path, on_done=self._show, on_error=self._fail, owner=self)

``fn`` runs on a thread pool (the global QThreadPool unless ``pool=`` says otherwise);
``on_done(result)`` / ``on_error(exc)`` run on the thread of the object that was current when you
called (normally the UI thread), via queued signals.

``owner``: a QObject (usually the widget that asked). When it has been deleted by the time the
work is done, both callbacks are dropped: nobody is left to show the result to.

With no ``on_error`` the exception goes to the one error presenter (``set_error_presenter``): by
default the unhandled-exception reporter (log, and the GUI's error dialog); the UI installs a
presenter that shows ``user_message`` in a dialog. This module imports no widgets.

Tests: ``SynchronousPool`` (Picard's FakeThreadPool) runs each job at once on the calling thread,
so logic built on run_in_background is deterministic and needs no event loop;
``use_pool(SynchronousPool())`` makes it the default for every call that names no pool.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Any, Callable, Iterator

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from studio.errors import user_message  # noqa: E402,F401 - re-exported for the UI

log = logging.getLogger(__name__)

Presenter = Callable[[BaseException, "QObject | None"], None]


def _report_unhandled(exc: BaseException, _owner: QObject | None = None) -> None:
    sys.excepthook(type(exc), exc, exc.__traceback__)


_presenter: Presenter = _report_unhandled


def set_error_presenter(presenter: Presenter | None) -> Presenter:
    """Install how errors without an ``on_error`` are shown; returns the previous one. None = default."""
    global _presenter
    previous, _presenter = _presenter, presenter or _report_unhandled
    return previous


def present_error(exc: BaseException, owner: QObject | None = None) -> None:
    """Show ``exc`` through the installed presenter (never raises: a broken presenter is logged)."""
    try:
        _presenter(exc, owner)
    except Exception:  # noqa: BLE001 - the presenter must never take the caller down
        log.exception("error presenter failed while showing %r", exc)


class SynchronousPool:
    """A pool that runs each job immediately on the caller's thread (for tests and headless flows).

    It has the parts of QThreadPool that callers use (``start``, ``waitForDone``,
    ``setMaxThreadCount``), so it can be handed anywhere a pool is accepted.
    """

    synchronous = True

    def start(self, runnable: QRunnable, _priority: int = 0) -> None:
        runnable.run()

    def waitForDone(self, _msecs: int = -1) -> bool:  # noqa: N802 - QThreadPool's spelling
        return True

    def setMaxThreadCount(self, _n: int) -> None:  # noqa: N802 - QThreadPool's spelling
        pass


_default_pool: Any = None


def default_pool():  # noqa: ANN201 - QThreadPool or SynchronousPool
    return _default_pool if _default_pool is not None else QThreadPool.globalInstance()


@contextlib.contextmanager
def use_pool(pool) -> Iterator[None]:  # noqa: ANN001
    """Within the block, calls that name no pool run on ``pool`` (e.g. a SynchronousPool in tests)."""
    global _default_pool
    previous, _default_pool = _default_pool, pool
    try:
        yield
    finally:
        _default_pool = previous


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


def _owner_alive(owner: QObject | None) -> bool:
    if owner is None:
        return True
    from shiboken6 import isValid  # noqa: PLC0415 - shiboken is PySide's own runtime

    return isValid(owner)


def run_in_background(fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
                      on_error: Callable[[BaseException], None] | None = None,
                      pool: QThreadPool | SynchronousPool | None = None, owner: QObject | None = None,
                      **kwargs: Any) -> None:
    """Run ``fn(*args, **kwargs)`` on ``pool``; see the module docstring for callbacks and ``owner``."""
    pool = pool if pool is not None else default_pool()

    def finish(result: Any) -> None:
        if on_done is not None and _owner_alive(owner):
            on_done(result)

    def fail(exc: BaseException) -> None:
        if not _owner_alive(owner):
            log.info("dropped the error of a job whose owner is gone: %s", exc)
        elif on_error is not None:
            on_error(exc)
        else:
            present_error(exc, owner)

    if getattr(pool, "synchronous", False):
        # No relay and no event loop: the callbacks run right here, in order.
        try:
            result = fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - handed to on_error, like the threaded path
            fail(e)
        else:
            finish(result)
        return

    relay = _Relay()
    _alive.add(relay)  # keep the relay alive until the job reports back

    def finish_relayed(result: Any) -> None:
        _alive.discard(relay)
        relay.deleteLater()
        finish(result)

    def fail_relayed(exc: BaseException) -> None:
        _alive.discard(relay)
        relay.deleteLater()
        fail(exc)

    relay.done.connect(finish_relayed)
    relay.failed.connect(fail_relayed)
    pool.start(_Job(fn, args, kwargs, relay))
