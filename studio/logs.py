"""Logging to a rotating file, and the hooks that make sure no exception dies silently.

Any unhandled exception, on the main thread, a Python thread or inside a Qt slot, is logged with
its traceback and handed to ``on_unhandled`` listeners (the UI shows a non-blocking dialog).
Secrets never reach the log: records pass through ``redact()`` first.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import Callable

log = logging.getLogger("studio")
_listeners: list[Callable[[str, str], None]] = []

# AWS-style secrets and anything that looks like "secret=..." or "password: ...".
_SECRET_PATTERNS = [
    re.compile(r"(?i)(secret[_-]?(?:access[_-]?)?key|password|token|signature)(['\"]?\s*[:=]\s*['\"]?)([^\s'\",&]+)"),
    re.compile(r"(?i)(X-Amz-Signature=|X-Amz-Credential=|Signature=)([^&\s]+)"),
]


def redact(text: str) -> str:
    for pat in _SECRET_PATTERNS:
        if pat.groups == 3:
            text = pat.sub(lambda m: m.group(1) + m.group(2) + "***", text)
        else:
            text = pat.sub(lambda m: m.group(1) + "***", text)
    return text


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


_FILE_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"


def _file_handler(logfile: Path, *, rotating: bool) -> logging.Handler:
    if rotating:
        # logging.handlers brings socket, pickle, queue...: a few hundredths of a second of the GUI's start
        from logging.handlers import RotatingFileHandler

        fh: logging.Handler = RotatingFileHandler(logfile, maxBytes=2 * 1024 * 1024, backupCount=5, encoding="utf-8")
    else:
        fh = logging.FileHandler(logfile, encoding="utf-8")
    fh.setFormatter(_RedactingFormatter(_FILE_FORMAT))
    fh._studio = True  # type: ignore[attr-defined]
    return fh


def setup_logging(logs_dir: Path, *, verbose: bool = False, rotating: bool = True) -> Path:
    """Log to ``logs_dir/studio.log`` (5 × 2 MiB) and warnings+ to stderr. Returns the log file.

    ``rotating=False`` (the GUI's start): the same file without the size check until ``rotate_from_now()``
    (after the first paint) swaps in the rotating handler; no record is lost or doubled meanwhile."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    logfile = logs_dir / "studio.log"
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_studio", False):
            root.removeHandler(h)
            h.close()
    fh = _file_handler(logfile, rotating=rotating)
    sh = logging.StreamHandler(sys.stderr)
    sh.setLevel(logging.DEBUG if verbose else logging.WARNING)
    sh.setFormatter(_RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    sh._studio = True  # type: ignore[attr-defined]
    root.addHandler(fh)
    root.addHandler(sh)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer", "alembic", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if "PySide6.QtCore" in sys.modules:   # never imported for it: the upload commands do without Qt
        route_qt_messages()
    return logfile


def route_qt_messages() -> None:
    """Qt's own messages (optional libraries it could not load, a missing sound server, no media
    backend) go to the log file instead of the terminal: they are for whoever reads the log, not for a
    creator. Qt's critical and fatal messages are errors, and still reach stderr too. Call it once
    PySide6 is loaded (setup_logging does when it is; commands, through
    studio.capture.devices.ensure_qt_core); a second call is a no-op."""
    global _qt_routed
    if _qt_routed:
        return
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt = logging.getLogger("qt")
    serious = (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)

    def handler(kind, context, message: str) -> None:  # noqa: ANN001 - QtMsgType, QMessageLogContext
        category = context.category if context.category not in (None, "default") else None
        qt.log(logging.ERROR if kind in serious else logging.INFO, "%s%s",
               f"[{category}] " if category else "", message)

    qInstallMessageHandler(handler)
    _qt_routed = True


_qt_routed = False


def rotate_from_now() -> None:
    """The log file of ``setup_logging(rotating=False)`` gets its size limit and backups from now on."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_studio", False) and type(h) is logging.FileHandler:
            root.addHandler(_file_handler(Path(h.baseFilename), rotating=True))
            root.removeHandler(h)
            h.close()


def on_unhandled(listener: Callable[[str, str], None]) -> Callable[[], None]:
    """Call ``listener(summary, traceback_text)`` for each unhandled exception; returns an unsubscribe."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def report_exception(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
                     where: str = "main thread") -> None:
    text = redact("".join(traceback.format_exception(exc_type, exc, tb)))
    log.error("Unhandled exception in %s:\n%s", where, text)
    summary = redact(f"{exc_type.__name__}: {exc}")
    for listener in list(_listeners):
        try:
            listener(summary, text)
        except Exception:  # noqa: BLE001 - a broken listener must not hide the original error
            log.exception("error listener failed")


def install_excepthooks() -> None:
    def _sys_hook(exc_type, exc, tb):  # noqa: ANN001
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        report_exception(exc_type, exc, tb)

    def _thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread else "a thread"
        report_exception(args.exc_type, args.exc_value, args.exc_traceback, where=f"thread {name}")

    sys.excepthook = _sys_hook
    threading.excepthook = _thread_hook
