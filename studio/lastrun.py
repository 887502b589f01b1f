"""How the previous run ended, what it had open, and a trace when the interpreter itself dies.

A Python exception is logged by ``studio.logs``; a *fatal* error (a segfault in a native library,
"Fatal Python error: none_dealloc", an abort) kills the interpreter before any Python code can
log it. ``faulthandler`` can still write the stack of every thread to an open file descriptor, so
each GUI run keeps ``logs/fatal.log`` open for it. A small marker, ``logs/last-run.json``, says
what was open (page, draft) and is marked clean on a normal exit; a marker left unclean by a
process that is gone means the app closed unexpectedly, and the next start says so, copies the
trace into ``studio.log`` and offers to reopen what was open.

The marker is written (atomically, fsynced) by a thread of its own: ``begin()`` and ``update()`` are
called on the UI thread (at start, on every page change), which never waits on the disk. They hand
the latest state over and return; ``end()`` waits for the last, clean marker to be on disk.

No Qt here: the window asks ``previous()`` and renders the answer.
"""

from __future__ import annotations

import faulthandler
import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from studio import __version__
from studio.durable import atomic_write_bytes, atomic_write_json, pid_alive

log = logging.getLogger(__name__)

MARKER = "last-run.json"
FATAL_LOG = "fatal.log"
RUN_HEADER = "=== Reel Studio run"
_FATAL_LOG_MAX = 1024 * 1024       # trimmed to its tail at start when larger
_FATAL_LOG_KEEP = 256 * 1024
_KEEP = object()  # update(): leave the open draft as it is


@dataclass(frozen=True)
class PreviousRun:
    """What the last run left behind."""

    clean: bool                  # it quit normally
    page: str | None             # the page that was showing
    draft_id: str | None         # the draft open in the editor, if any
    ended_us: int | None         # last time the run wrote its marker
    trace: str = ""              # faulthandler's output for that run ("" if none was written)

    @property
    def crashed(self) -> bool:
        return not self.clean


class LastRun:
    """The marker and fatal-error log of one profile's GUI runs (``logs_dir`` is the profile's logs/)."""

    def __init__(self, logs_dir: Path):
        self.logs_dir = Path(logs_dir)
        self.marker = self.logs_dir / MARKER
        self.fatal_log = self.logs_dir / FATAL_LOG
        self._fatal_file = None
        self._state: dict = {}
        self._writer: _MarkerWriter | None = None

    # -- the previous run --------------------------------------------------------------------
    def previous(self) -> PreviousRun | None:
        """How the last run ended; None on a first run, or while another live process owns the profile."""
        try:
            data = json.loads(self.marker.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:  # a marker cut off by a crash mid-write: treat as unclean
            log.warning("last-run marker unreadable (%s); treating the last run as unexpected", e)
            data = {}
        pid = data.get("pid") if isinstance(data.get("pid"), int) else -1
        if not data.get("clean") and pid != os.getpid() and pid_alive(pid):
            return None  # another window of this profile is running right now: not a crash
        clean = bool(data.get("clean"))
        page = data.get("page") if isinstance(data.get("page"), str) else None
        draft = data.get("draft_id") if isinstance(data.get("draft_id"), str) else None
        ended = data.get("updated_us") if isinstance(data.get("updated_us"), int) else None
        trace = "" if clean else self._trace_of(pid)
        return PreviousRun(clean=clean, page=page, draft_id=draft, ended_us=ended, trace=trace)

    def _trace_of(self, pid: int) -> str:
        """faulthandler's text written after the header of run ``pid``."""
        try:
            text = self.fatal_log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        header = f"{RUN_HEADER} pid {pid} "
        at = text.rfind(header)
        if at < 0:
            return ""
        body = text[at:].split("\n", 1)[1] if "\n" in text[at:] else ""
        nxt = body.find(RUN_HEADER)
        return (body[:nxt] if nxt >= 0 else body).strip()

    # -- this run ----------------------------------------------------------------------------
    def begin(self) -> PreviousRun | None:
        """Read how the last run ended, then start this one: arm faulthandler, write the marker."""
        previous = self.previous()
        if previous is not None and previous.crashed:
            log.error("Reel Studio closed unexpectedly last time%s",
                      f"; its fatal error:\n{previous.trace}" if previous.trace else
                      " (no fatal error was recorded: it was killed or lost power)")
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self._trim_fatal_log()
        try:
            self._fatal_file = open(self.fatal_log, "a", encoding="utf-8")
            self._fatal_file.write(f"{RUN_HEADER} pid {os.getpid()} version {__version__} "
                                   f"started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            self._fatal_file.flush()
            faulthandler.enable(file=self._fatal_file, all_threads=True)
        except OSError as e:
            log.warning("fatal-error log unavailable: %s", e)
        self._state = {"pid": os.getpid(), "version": __version__, "clean": False,
                       "started_us": time.time_ns() // 1000, "page": None, "draft_id": None}
        self._writer = _MarkerWriter(self.marker)
        self._save()
        return previous

    def update(self, *, page: str | None = None, draft_id: object = _KEEP) -> None:
        """Record what is open now (cheap: a few hundred bytes, written atomically)."""
        if not self._state:
            return
        changed = False
        if page is not None and page != self._state.get("page"):
            self._state["page"] = page
            changed = True
        if draft_id is not _KEEP and draft_id != self._state.get("draft_id"):
            self._state["draft_id"] = draft_id
            changed = True
        if changed:
            self._save()

    def end(self) -> None:
        """A normal exit: the marker keeps page and draft for the next start, marked clean."""
        if self._state:
            self._state["clean"] = True
            self._save()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._fatal_file is not None:
            faulthandler.disable()
            self._fatal_file.close()
            self._fatal_file = None

    def _save(self) -> None:
        self._state["updated_us"] = time.time_ns() // 1000
        if self._writer is not None:
            self._writer.put(dict(self._state))

    def _trim_fatal_log(self) -> None:
        try:
            if self.fatal_log.stat().st_size <= _FATAL_LOG_MAX:
                return
            with open(self.fatal_log, "rb") as f:
                f.seek(-_FATAL_LOG_KEEP, os.SEEK_END)
                tail = f.read()
            cut = tail.find(RUN_HEADER.encode())
            atomic_write_bytes(self.fatal_log, tail[cut:] if cut >= 0 else tail)
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("could not trim %s: %s", self.fatal_log, e)


class _MarkerWriter:
    """Writes the newest marker state it was given, off the calling thread; older ones not yet
    written are skipped (only the last matters). ``close()`` writes what is pending, then stops."""

    CLOSE_WAIT_S = 10.0   # a disk that slow loses only the "clean" flag (the next start then asks)

    def __init__(self, path: Path):
        self.path = path
        self._pending: dict | None = None
        self._closing = False
        self._cv = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="last-run-marker", daemon=True)
        self._thread.start()

    def put(self, state: dict) -> None:
        with self._cv:
            self._pending = state
            self._cv.notify()

    def close(self) -> None:
        with self._cv:
            self._closing = True
            self._cv.notify()
        self._thread.join(self.CLOSE_WAIT_S)

    def _loop(self) -> None:
        while True:
            with self._cv:
                while self._pending is None and not self._closing:
                    self._cv.wait()
                state, self._pending = self._pending, None
                if state is None:
                    return   # closing, nothing left to write
            try:
                atomic_write_json(self.path, state)
            except OSError as e:  # a full disk must not take the window down
                log.warning("could not write %s: %s", self.path, e)


def end_process(code: int, *, run_atexit: bool = False) -> None:
    """Leave now: (optionally) the atexit handlers, then the logs and streams flushed, then
    ``os._exit``. The interpreter's own teardown — collecting every module's and Qt's objects — is
    skipped: it costs most of a second for an idle window and seconds on a busy machine, and leaves
    nothing behind. Callers close their services (database, last-run marker, settings) first."""
    if run_atexit:
        import atexit

        atexit._run_exitfuncs()   # noqa: SLF001 - what sys.exit would run, in the same order
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
