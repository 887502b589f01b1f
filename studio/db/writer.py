"""The one writer for studio.db: every write transaction of this process runs on one thread and
begins with ``BEGIN IMMEDIATE``.

Why: SQLite allows one writer at a time. A deferred ``BEGIN`` that reads and then writes upgrades
its read snapshot to a write lock, and when another connection committed in between SQLite answers
SQLITE_BUSY_SNAPSHOT at once — the busy timeout does not retry it, so two processes editing one
profile saw "database is locked". ``BEGIN IMMEDIATE`` takes the write lock before the first read,
so a transaction either waits its turn (bounded, see ``studio.db.engine.BUSY_WAIT_S``) or never
starts; it cannot fail half-way for lack of the lock. Reads stay deferred and run on any thread
(WAL lets them proceed while a write is in progress).

One thread per process (shared by every store on the same engine, see ``writer_for``) keeps the
threads of this process from queueing on SQLite's lock and gives one place to count writes that go
around it (``bypassed``: a DML statement run outside the writer, logged once per statement kind).
Between processes the lock itself serialises; the waits are bounded and end in
``DatabaseBusyError``, a sentence, never a raw SQL error.

Usage::

    writer = writer_for(engine)
    writer.run(fn, *args)            # fn runs on the writer thread; its transactions are IMMEDIATE
    with writer.transaction() as s:  # on the writer thread only: one IMMEDIATE transaction
        ...
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from studio.db.engine import on_writer_thread, set_writer_thread
from studio.errors import StudioError

log = logging.getLogger(__name__)
T = TypeVar("T")
_DML = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriterClosed(StudioError):
    def __init__(self) -> None:
        super().__init__("Reel Studio is closing its database; the change was not made. Try again after it restarts.")


class DbWriter:
    """Runs write work for one engine on one thread. Thread-safe; ``run`` from the writer thread
    itself calls straight through (a write helper may call another)."""

    def __init__(self, engine: Engine, *, name: str = "studio-db-writer"):
        self.engine = engine
        self._ident: int | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name, initializer=self._mark)
        self._closed = False
        self._users = 0
        self._lock = threading.Lock()
        self.bypassed = 0           # DML statements this process ran on the engine outside the writer
        self.writes = 0             # DML statements run on the writer thread
        self._warned: set[str] = set()
        event.listen(engine, "before_cursor_execute", self._watch)

    # -- running work ---------------------------------------------------------------------------
    def _mark(self) -> None:
        self._ident = threading.get_ident()
        set_writer_thread(True)

    @property
    def on_writer(self) -> bool:
        return threading.get_ident() == self._ident

    def run(self, fn: Callable[..., T], *args, **kwargs) -> T:  # noqa: ANN002, ANN003
        """Run ``fn(*args, **kwargs)`` on the writer thread and return its result (or raise its error).
        Raises WriterClosed after ``close``."""
        if self.on_writer:
            return fn(*args, **kwargs)
        if self._closed:
            raise WriterClosed()
        try:
            future = self._pool.submit(fn, *args, **kwargs)
        except RuntimeError:  # shut down between the check and the submit
            raise WriterClosed() from None
        return future.result()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """One ``BEGIN IMMEDIATE`` transaction (commit on success, rollback on error). Writer thread only."""
        if not self.on_writer:
            raise RuntimeError("DbWriter.transaction() is for code running on the writer (use run())")
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            yield s

    # -- watching for writes that go around it --------------------------------------------------
    def _watch(self, conn, cursor, statement: str, params, context, executemany) -> None:  # noqa: ANN001, PLR0913
        head = statement.lstrip()[:7].upper()
        if not head.startswith(_DML):
            return
        if on_writer_thread() or conn.get_execution_options().get("studio_write"):
            self.writes += 1
            return
        self.bypassed += 1
        kind = " ".join(statement.split()[:3])
        if kind not in self._warned:
            self._warned.add(kind)
            log.info("a write went around the database writer on thread %s: %s",
                        threading.current_thread().name, kind)

    # -- lifetime -------------------------------------------------------------------------------
    def close(self) -> None:
        """Finish queued work, then stop the thread. Further ``run`` calls raise WriterClosed."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._pool.shutdown(wait=True)
        with contextlib.suppress(Exception):
            event.remove(self.engine, "before_cursor_execute", self._watch)

    @property
    def closed(self) -> bool:
        return self._closed


_writers: "weakref.WeakKeyDictionary[Engine, DbWriter]" = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def writer_for(engine: Engine) -> DbWriter:
    """The one writer of ``engine`` in this process (created on first use). Every store that writes
    studio.db (drafts, upload jobs, targets) shares it; pair with ``release`` when a store closes."""
    with _writers_lock:
        w = _writers.get(engine)
        if w is None or w.closed:
            w = _writers[engine] = DbWriter(engine)
        w._users += 1
        return w


def release(writer: DbWriter) -> None:
    """A store is done with ``writer``; the last one out stops its thread."""
    with _writers_lock:
        writer._users -= 1
        last = writer._users <= 0
        if last and _writers.get(writer.engine) is writer:
            del _writers[writer.engine]
    if last:
        writer.close()
