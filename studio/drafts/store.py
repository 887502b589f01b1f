"""DraftStore: the only writer of drafts and of the media library (data/media).

Saving follows DESIGN invariant 1. For each save a staging folder ``media/.staging/<txid>/`` gets a
journal (fsynced) *before* any media moves; then the media is moved (a take on the same
filesystem: one rename, whatever its size) or copied and hash-verified into the staging folder and
fsynced; the rows are inserted in one transaction, the files renamed into place, then the
transaction commits. Whatever a crash leaves behind, the journal tells recovery which way to go:
rows committed -> finish (files into place, take folder removed); not committed -> undo (a moved
take goes back to cache/takes, where it is offered again; a copy is dropped, its source still exists).

Content hashes: a copied file is hashed while it is copied. A moved take is *not* read on the save
path (hashing 1 GiB costs seconds); its ``sha256`` stays NULL and a background finisher fills it in
(recovery re-queues any NULL hash). Until then the invariant check is on size alone.

All DB writes run on the process's one database writer (studio.db.writer: one thread, every write
transaction ``BEGIN IMMEDIATE`` with a bounded wait); a cross-process lock file (flock, studio.durable)
serialises saves, purges and recovery between processes (GUI + CLI at once).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import queue
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from datetime import datetime
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from sqlalchemy import column, delete, func, select, table, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from studio import durable
from studio.db.engine import busy_error
from studio.db.writer import WriterClosed, release, writer_for
from studio.capture.takes import FINISHED_MEDIA, RAW_AUDIO
from studio.drafts import fsops
from studio.drafts.library import add_draft_rows, asset_from_info, asset_from_row, asset_row, draft_from_row, new_id
from studio.drafts.models import DraftAssetRow, DraftRevisionRow, DraftRow, MediaAssetRow
from studio.drafts.recovery import recover
from studio.drafts.thumbs import THUMB_SIDE, ThumbCache, cover_image, image_bytes, lqip_from_jpeg, now_us
from studio.drafts.types import (AmbiguousDraftId, DiskFullError, Draft, DraftError, DraftNotFound, KINDS,
                                 MediaAsset, ReadOnlyError, RevisionConflict, STATUSES, from_us, storage_error)
from studio.media.probe import MediaError, MediaInfo, is_image, probe, require_video
from studio.media.ref import MediaRef
from studio.editor import document
from studio.editor.document import EditError
from studio.errors import BadInput
from studio.errors import user_message

if TYPE_CHECKING:   # capture depends on drafts' callers, not the other way round
    from studio.capture.recorder import Take

log = logging.getLogger(__name__)

KEEP_REVISIONS = 20
TRASH_DAYS = 30
RISK_FREE_BYTES = 2 << 30       # below this much free space, new recordings may not fit
MIN_PREFIX = 6
DAY_US = 86_400 * 1_000_000

# The badge is derived, never stored beside the jobs: "exporting" while an export holds the draft's
# export lock (the OS drops it when the exporting process dies, even by kill -9), "queued" while an
# upload job of the draft is unfinished, "published" once one completed. Read-only look at the
# uploader's table (no import of the uploader: drafts sit below it).
_UPLOAD_JOBS = table("upload_jobs", column("draft_id"), column("state"))
_QUEUED_STATES = ("PENDING", "IN_PROGRESS", "PAUSED", "RETRYING")





def stored_duration_us(edit: dict) -> int:
    """The duration kept in the draft row: the edit document's own answer (0 for a damaged edit)."""
    try:
        return document.duration_us(edit)
    except EditError as e:
        log.warning("a draft's edit does not validate, so its duration is unknown: %s", e)
        return 0


def cover_fingerprint(edit: dict) -> str:
    """Changes whenever the cover picture may change; "" for a damaged edit."""
    try:
        return document.cover_fingerprint(edit)
    except EditError:
        return ""


@dataclass(frozen=True)
class Refusal:
    """A file a batch import did not take, and why (``reason`` for scripts, ``message`` for people)."""
    path: Path
    reason: str
    message: str

    @classmethod
    def of(cls, path: Path, e: BaseException) -> "Refusal":
        if isinstance(e, OSError) and not isinstance(e, DraftError):
            e = storage_error(e, Path(path).parent, f"importing “{Path(path).name}”")
        message = user_message(e)
        reason = getattr(e, "reason", None) or ("disk_full" if isinstance(e, DiskFullError) else
                                                 "read_only" if isinstance(e, ReadOnlyError) else "not_saved")
        return cls(path=Path(path), reason=reason, message=message)

    def to_dict(self) -> dict:
        return {"file": str(self.path), "name": self.path.name, "reason": self.reason, "error": self.message}


@dataclass(frozen=True)
class ImportReport:
    """What a batch import made and what it refused."""
    drafts: tuple[Draft, ...]
    refused: tuple[Refusal, ...]
    cancelled: bool = False

    def summary(self) -> str:
        """One sentence for the creator: "3 drafts imported; 2 files refused: a.mp4 (why), b.mp4 (why)."""
        n, k = len(self.drafts), len(self.refused)
        clips = sum(len(d.assets) for d in self.drafts)
        if n == 1 and clips > 1:
            made = f"1 draft imported with {clips} clips"
        else:
            made = f"{n} draft{'s' if n != 1 else ''} imported" if n else "Nothing was imported"
        if self.cancelled:
            made += " (import cancelled)"
        if not k:
            return made + "."
        why = " ".join(r.message if r.path.name in r.message else f"{r.path.name}: {r.message}" for r in self.refused)
        return f"{made}; {k} file{'s' if k != 1 else ''} refused: {why}"


@dataclass
class _Incoming:
    source: Path
    mode: str                  # "move" (rename, same filesystem) or "copy" (copy + hash verify)
    take_dir: Path | None      # removed after commit (a saved take is no longer "unsaved")
    kind: str
    info: MediaInfo








class DraftStore:
    """Drafts and the media library. Thread-safe; see the module docstring for the save transaction."""

    def __init__(self, layout, engine, *, recover: bool = True, background: bool = True):  # noqa: ANN001
        self.layout = layout
        self.engine = engine
        self.staging_root = layout.media / ".staging"
        self.thumbs = ThumbCache(layout.thumbs)
        self.background = background
        self._writer = writer_for(engine)
        self._listeners: list[Callable[[str, tuple[str, ...]], None]] = []
        self._finisher: _Finisher | None = None
        self._closed = False
        self._lock_depth = 0  # only touched on the writer thread
        try:
            layout.media.mkdir(parents=True, exist_ok=True)
            self.staging_root.mkdir(exist_ok=True)
        except OSError as e:
            raise storage_error(e, layout.media, "opening the drafts") from e
        self.last_recovery: dict | None = self.recover() if recover else None

    # -- plumbing ------------------------------------------------------------------------------
    def _write(self, fn: Callable, *args, **kwargs):  # noqa: ANN002, ANN003
        """Run ``fn`` on the database writer thread and return its result (errors made readable)."""
        if self._closed:
            raise DraftError("The draft store is closed.")
        return self._writer.run(self._guard, fn, *args, **kwargs)

    def _guard(self, fn: Callable, *args, **kwargs):  # noqa: ANN002, ANN003
        try:
            return fn(*args, **kwargs)
        except OperationalError as e:
            text = str(e.orig if e.orig is not None else e).lower()
            if "full" in text:
                raise DiskFullError(f"The disk holding {self.layout.data} is full; nothing was changed. "
                                    "Free some space and try again.") from e
            if "readonly" in text or "read-only" in text:
                raise ReadOnlyError(f"{self.layout.data} cannot be written to; nothing was changed. "
                                    "Make the folder writable and try again.") from e
            if "locked" in text or "busy" in text:
                raise busy_error() from e
            raise

    @contextlib.contextmanager
    def media_lock(self):
        """Serialise library changes between processes (released by the OS if we are killed)."""
        if self._lock_depth:  # re-entered on the writer thread (recovery -> purge)
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        try:
            fd = os.open(self.layout.media / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise storage_error(e, self.layout.media, "changing the drafts") from e
        if not durable.lock(fd, blocking=True):  # only where a blocking lock gives up (Windows, ~10 s)
            os.close(fd)
            raise DraftError("Another Reel Studio window or command is changing the drafts; nothing was "
                             "changed. Try again in a moment.")
        try:
            self._lock_depth = 1
            yield
        finally:
            self._lock_depth = 0
            durable.unlock(fd)
            os.close(fd)

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def subscribe(self, listener: Callable[[str, tuple[str, ...]], None]) -> Callable[[], None]:
        """``listener(event, draft_ids)`` on any thread after a change; returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, event: str, ids: Iterable[str]) -> None:
        ids = tuple(ids)
        for listener in list(self._listeners):
            try:
                listener(event, ids)
            except Exception:  # noqa: BLE001 - a broken listener must not break a save
                log.exception("drafts listener failed")

    def close(self) -> None:
        if self._closed:
            return
        if self._finisher is not None:
            self._finisher.stop()
        with contextlib.suppress(WriterClosed):
            self._writer.run(lambda: None)  # let this store's queued writes finish
        self._closed = True
        release(self._writer)

    # -- reads ---------------------------------------------------------------------------------
    def _assets_for(self, s: Session, draft_ids: Sequence[str]) -> dict[str, list[MediaAsset]]:
        out: dict[str, list[MediaAsset]] = {d: [] for d in draft_ids}
        if not draft_ids:
            return out
        for i in range(0, len(draft_ids), 500):
            rows = s.execute(select(DraftAssetRow.draft_id, MediaAssetRow)
                             .join(MediaAssetRow, MediaAssetRow.id == DraftAssetRow.asset_id)
                             .where(DraftAssetRow.draft_id.in_(draft_ids[i:i + 500]))
                             .order_by(DraftAssetRow.draft_id, DraftAssetRow.position)).all()
            for draft_id, asset in rows:
                out[draft_id].append(asset_from_row(asset))
        return out

    def resolve_id(self, prefix: str) -> str:
        """A full draft id from a unique prefix of at least 6 characters (trashed drafts included)."""
        prefix = prefix.strip().lower()
        if len(prefix) == 32:
            return prefix
        if len(prefix) < MIN_PREFIX or any(c not in "0123456789abcdef" for c in prefix):
            raise DraftNotFound(prefix, f"“{prefix}” is not a draft id: give the id or at least its first "
                                        f"{MIN_PREFIX} characters (see `studio drafts list`).")
        with self._session() as s:
            ids = s.scalars(select(DraftRow.id).where(DraftRow.id.like(prefix + "%")).limit(2)).all()
        if not ids:
            raise DraftNotFound(prefix)
        if len(ids) > 1:
            raise AmbiguousDraftId(f"More than one draft starts with “{prefix}”; give more characters of the id.")
        return ids[0]

    def get(self, draft_id: str) -> Draft:
        with self._session() as s:
            row = s.get(DraftRow, draft_id)
            if row is None:
                raise DraftNotFound(draft_id)
            return draft_from_row(row, self._assets_for(s, [row.id])[row.id], self._badges(s, [row.id])[row.id])

    # -- badges (derived from the export lock and the upload jobs) ------------------------------
    def _badges(self, s: Session, draft_ids: Sequence[str]) -> dict[str, str]:
        out = {d: "draft" for d in draft_ids}
        for i in range(0, len(draft_ids), 500):
            rows = s.execute(select(_UPLOAD_JOBS.c.draft_id, _UPLOAD_JOBS.c.state)
                             .where(_UPLOAD_JOBS.c.draft_id.in_(draft_ids[i:i + 500]))).all()
            for draft_id, state in rows:
                if state in _QUEUED_STATES:
                    out[draft_id] = "queued"
                elif state == "COMPLETED" and out[draft_id] == "draft":
                    out[draft_id] = "published"
        for d in draft_ids:
            if self.is_exporting(d):
                out[d] = "exporting"
        return out

    def _export_lock(self, draft_id: str) -> Path:
        return self.layout.cache / "exports" / f"{draft_id}.lock"

    @contextlib.contextmanager
    def exporting(self, draft_id: str):  # noqa: ANN201
        """Hold while exporting ``draft_id``: its badge says "Exporting" exactly as long as the holder
        lives (another process sees it too; a killed exporter leaves no stale badge)."""
        path = self._export_lock(draft_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise storage_error(e, path.parent, "exporting") from e
        try:
            durable.lock(fd, blocking=False)
            self._emit("updated", [draft_id])
            yield
        finally:
            os.close(fd)  # releases the lock; the file stays (removing it would race a new export)
            self._emit("updated", [draft_id])

    def is_exporting(self, draft_id: str) -> bool:
        path = self._export_lock(draft_id)
        if not path.exists():
            return False
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            return False
        try:
            free = durable.lock(fd, blocking=False)
            return not free
        finally:
            os.close(fd)

    def list_drafts(self, *, search: str = "", offset: int = 0, limit: int = 50, trashed: bool = False) -> list[Draft]:
        """Newest first (last change). ``trashed=True`` lists the Trash instead."""
        q = select(DraftRow).where(DraftRow.deleted_us.is_not(None) if trashed else DraftRow.deleted_us.is_(None))
        if search.strip():
            needle = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            q = q.where(DraftRow.title.like(f"%{needle}%", escape="\\"))
        q = q.order_by(DraftRow.updated_us.desc(), DraftRow.id.desc()).offset(max(0, offset)).limit(max(0, limit))
        with self._session() as s:
            rows = s.scalars(q).all()
            ids = [r.id for r in rows]
            assets = self._assets_for(s, ids)
            badges = self._badges(s, ids)
        return [draft_from_row(r, assets[r.id], badges[r.id]) for r in rows]

    def count(self, *, search: str = "", trashed: bool = False) -> int:
        q = select(func.count()).select_from(DraftRow).where(
            DraftRow.deleted_us.is_not(None) if trashed else DraftRow.deleted_us.is_(None))
        if search.strip():
            needle = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            q = q.where(DraftRow.title.like(f"%{needle}%", escape="\\"))
        with self._session() as s:
            return int(s.scalar(q) or 0)

    def asset_path(self, asset: MediaAsset) -> Path:
        return self.layout.absolute(asset.path)

    def revisions(self, draft_id: str) -> list[tuple[int, object]]:
        """The kept revisions of a draft's edit, newest first, as (revision, saved_at)."""
        with self._session() as s:
            rows = s.execute(select(DraftRevisionRow.revision, DraftRevisionRow.created_us)
                             .where(DraftRevisionRow.draft_id == draft_id)
                             .order_by(DraftRevisionRow.revision.desc())).all()
        return [(r, from_us(t)) for r, t in rows]

    def storage(self) -> dict:
        """Bytes used by drafts (live / in Trash), free space on the disk, and whether drafts are at risk."""
        with self._session() as s:
            total = int(s.scalar(select(func.coalesce(func.sum(MediaAssetRow.size), 0))) or 0)
            live = int(s.scalar(select(func.coalesce(func.sum(MediaAssetRow.size), 0)).where(
                MediaAssetRow.id.in_(select(DraftAssetRow.asset_id).join(DraftRow, DraftRow.id == DraftAssetRow.draft_id)
                                     .where(DraftRow.deleted_us.is_(None))))) or 0)
        free = shutil.disk_usage(self.layout.media).free
        return {"media_bytes": total, "live_bytes": live, "trash_bytes": max(0, total - live),
                "free_bytes": free, "at_risk": free < RISK_FREE_BYTES, "risk_threshold_bytes": RISK_FREE_BYTES}

    # -- saving --------------------------------------------------------------------------------
    def save_new_draft(self, sources: Sequence[Path], *, title: str | None = None) -> Draft:
        """A new draft from files (copied and hash-verified; the originals stay where they are)."""
        if not sources:
            raise DraftError("Nothing to save: no recording or file was given.")
        incoming = []
        for src in sources:
            src = Path(src)
            info = probe(src)
            if info.video is None and info.audio is None:
                raise MediaError("not_media", f"“{src.name}” has no picture or sound.")
            incoming.append(self._file_incoming(src, info))
        return self._save_new(incoming, title or Path(sources[0]).stem)

    def save_takes(self, takes: Sequence[Take], *, title: str | None = None) -> Draft:
        """A new draft from finished takes (described by the recorder, so not probed again). Their
        files are moved (renamed) in and their folders removed after the commit."""
        if not takes:
            raise DraftError("Nothing to save: no recording was given.")
        incoming = [self._take_incoming(t) for t in takes]
        return self._save_new(incoming, title or "Take " + datetime.now().strftime("%Y-%m-%d %H:%M"))

    def _save_new(self, incoming: list[_Incoming], title: str) -> Draft:
        draft = self._write(self._save_draft, incoming, title)
        self._emit("saved", [draft.id])
        self._after_save(draft, synchronous=False)
        return draft

    def import_files(self, files: Sequence[Path], *, title: str | None = None) -> Draft:
        """Probe every file first (nothing is added if one is refused), then copy them into one draft."""
        if not files:
            raise DraftError("Nothing to import: no file was given.")
        incoming = [self._file_incoming(Path(f), require_video(f)) for f in files]
        draft = self._write(self._save_draft, incoming, title or Path(files[0]).stem)
        self._emit("saved", [draft.id])
        self._after_save(draft, synchronous=True)
        return self.get(draft.id)

    def import_batch(self, files: Sequence[Path], *, title: str | None = None, together: bool = False,
                     on_progress: Callable[[int, int], None] | None = None,
                     cancel: threading.Event | None = None) -> "ImportReport":
        """Import many files at once: every good file is kept, every refused one is listed with its
        reason. One draft per file (``together=True``: one draft holding every good file as clips).

        ``on_progress(done, total)`` after each file; ``cancel`` stops before the next file (what was
        imported stays). Refusals are not raised: a file that cannot be read, is encrypted, has no
        video, or cannot be saved (disk full) becomes a ``Refusal``. Raises DraftError only when no
        file was given.
        """
        files = [Path(f) for f in files]
        if not files:
            raise DraftError("Nothing to import: no file was given.")
        total = len(files)   # a file is done when it is refused or saved
        done, good, refused, drafts = 0, [], [], []

        def step(n: int = 1) -> None:
            nonlocal done
            done += n
            if on_progress is not None:
                on_progress(done, total)

        for f in files:
            if cancel is not None and cancel.is_set():
                break
            try:
                good.append(self._file_incoming(f, require_video(f)))
            except (MediaError, DraftError, OSError) as e:
                refused.append(Refusal.of(f, e))
                step()
        groups = [good] if together and good else [[inc] for inc in good]
        for i, group in enumerate(groups):
            if cancel is not None and cancel.is_set():
                break
            name = title if title and len(groups) == 1 else f"{title} {i + 1}" if title else group[0].source.stem
            try:
                drafts.append(self._write(self._save_draft, group, name))
            except (DraftError, OSError) as e:
                refused.extend(Refusal.of(inc.source, e) for inc in group)
            step(len(group))
        for d in drafts:
            self._emit("saved", [d.id])
            self._after_save(d, synchronous=False)
        cancelled = cancel is not None and cancel.is_set() and done < total
        return ImportReport(drafts=tuple(drafts), refused=tuple(refused), cancelled=cancelled)

    def add_asset(self, draft_id: str, file: Path, *, kind: str) -> MediaAsset:
        """Copy a music file or sticker image into the library and link it to ``draft_id``."""
        if kind not in KINDS:
            raise DraftError(f"Unknown media kind “{kind}” (expected one of {', '.join(KINDS)}).")
        self.get(draft_id)
        file = Path(file)
        info = probe(file)
        if kind == "audio" and info.audio is None:
            raise MediaError("no_audio", f"“{file.name}” has no sound to use as music.")
        if kind in ("image", "video") and info.video is None:
            raise MediaError("no_video", f"“{file.name}” has no picture.")
        inc = _Incoming(source=file, mode="copy", take_dir=None, kind=kind, info=info)
        asset = self._write(self._save_assets_to_draft, draft_id, [inc])[0]
        self._emit("updated", [draft_id])
        return asset

    def _file_incoming(self, src: Path, info: MediaInfo) -> _Incoming:
        return _Incoming(source=Path(src).absolute(), mode="copy", take_dir=None, kind=_kind(info), info=info)

    def _take_incoming(self, take: Take) -> _Incoming:
        take_dir, media = Path(take.dir).absolute(), Path(take.media).absolute()
        if _holds_unsaved_sound(take_dir, media):
            # Finalizing this take failed: its sound is still raw (audio.pcm) beside the picture.
            # Save a copy and keep the take folder whole, offered back until it is saved with its sound.
            log.warning("take %s keeps its raw sound: saving a copy of its picture only", take_dir.name)
            return self._file_incoming(media, take.info)
        mode = "move" if fsops.same_filesystem(media, self.layout.media) else "copy"
        return _Incoming(source=media, mode=mode, take_dir=take_dir, kind=_kind(take.info), info=take.info)

    def _save_draft(self, incoming: list[_Incoming], title: str) -> Draft:
        draft_id = new_id()

        def rows(s: Session, assets: list[MediaAsset]) -> None:
            add_draft_rows(s, draft_id, title, assets)

        self._transact(incoming, rows, doing="saving the draft")
        return self.get(draft_id)

    def _save_assets_to_draft(self, draft_id: str, incoming: list[_Incoming]) -> list[MediaAsset]:
        def rows(s: Session, assets: list[MediaAsset]) -> None:
            row = s.get(DraftRow, draft_id)
            if row is None:
                raise DraftNotFound(draft_id)
            start = s.scalar(select(func.count()).select_from(DraftAssetRow).where(DraftAssetRow.draft_id == draft_id))
            for i, a in enumerate(assets):
                s.add(DraftAssetRow(draft_id=draft_id, asset_id=a.id, position=int(start or 0) + i))
            row.media_bytes += sum(a.size for a in assets)
            row.updated_us = now_us()

        return self._transact(incoming, rows, doing="adding the file")

    def _transact(self, incoming: list[_Incoming], add_rows: Callable[[Session, list[MediaAsset]], None], *,
                  doing: str) -> list[MediaAsset]:
        """Stage, fsync, insert, rename into place, commit — or undo it all (see module docstring)."""
        with self.media_lock():
            txid = new_id()
            stage = self.staging_root / txid
            items = []
            for inc in incoming:
                aid = new_id()
                ext = (inc.source.suffix.lower() or ".bin")[:10]
                items.append({"asset_id": aid, "source": str(inc.source), "mode": inc.mode, "staged": aid + ext,
                              "final": f"media/{aid[:2]}/{aid}{ext}",
                              "take_dir": str(inc.take_dir) if inc.take_dir else None})
            journal = {"op": "save", "txid": txid, "items": items}
            try:
                stage.mkdir(parents=True)
                # A torn journal means no media moved yet (it is durable before the first move).
                fsops.write_journal(stage, journal)
                fsops.fsync_dir(self.staging_root)
                assets = [self._stage_one(inc, item, stage) for inc, item in zip(incoming, items)]
                with self._session() as s, s.begin():
                    for a in assets:
                        s.add(asset_row(a))
                    s.flush()
                    add_rows(s, assets)
                    s.flush()
                    parents = set()
                    for item in items:
                        final = self.layout.absolute(item["final"])
                        final.parent.mkdir(exist_ok=True)
                        os.rename(stage / item["staged"], final)
                        parents.add(final.parent)
                    for p in parents:  # the new names are durable before the rows commit
                        fsops.fsync_dir(p)
            except BaseException as e:
                try:
                    self.reconcile_stage(stage)
                except Exception:  # noqa: BLE001 - the original error matters more; recovery retries this
                    log.exception("could not settle staging %s now; recovery will", stage)
                readable = storage_error(e, self.layout.data, doing) if isinstance(e, OSError) else e
                if readable is not e:
                    raise readable from e
                raise
            self.reconcile_stage(stage)  # committed: removes the journal and the saved take folders
            return assets

    def _stage_one(self, inc: _Incoming, item: dict, stage: Path) -> MediaAsset:
        staged = stage / item["staged"]
        if inc.mode == "move":
            os.rename(inc.source, staged)
            fsops.fsync_file(staged)
            size, sha = staged.stat().st_size, None
        else:
            size, sha = fsops.copy_hashed(inc.source, staged)
        return asset_from_info(item["asset_id"], item["final"], inc.kind, size, sha, inc.info)

    def reconcile_stage(self, stage: Path) -> dict:
        """Finish or undo whatever the staging folder of one save or purge holds. Idempotent."""
        journal = fsops.read_json(stage / "journal.json")
        result = {"txid": stage.name, "action": "removed-empty"}
        if journal is None:
            # The journal is written before any media moves, so only stray media can be here: keep it.
            kept = []
            for f in stage.iterdir() if stage.is_dir() else []:
                if f.is_file() and not f.name.startswith("journal.json"):
                    dest = self.layout.media / "recovered" / f.name
                    dest.parent.mkdir(exist_ok=True)
                    os.rename(f, dest)
                    kept.append(str(dest))
            if kept:
                result.update(action="kept-strays", files=kept)
            fsops.remove_tree(stage)
            return result
        if journal.get("op") == "purge":
            return self._finish_purge(stage, journal)
        items = journal.get("items", [])
        with self._session() as s:
            ids = [i["asset_id"] for i in items]
            committed = bool(ids) and s.scalar(select(func.count()).select_from(MediaAssetRow)
                                               .where(MediaAssetRow.id.in_(ids))) == len(ids)
        for item in items:
            staged, final = stage / item["staged"], self.layout.absolute(item["final"])
            here = staged if staged.exists() else final if final.exists() else None
            if committed:
                if here == staged:
                    final.parent.mkdir(exist_ok=True)
                    os.rename(staged, final)
                    fsops.fsync_dir(final.parent)
                take_dir = item.get("take_dir")
                if take_dir and Path(take_dir).parent == self.layout.takes.absolute():
                    if _holds_unsaved_sound(Path(take_dir), Path(item["source"])):
                        log.warning("take folder %s kept: it still holds raw sound", take_dir)
                    else:
                        fsops.remove_tree(Path(take_dir))
            elif here is not None:
                source = Path(item["source"])
                if item["mode"] == "move" or not source.exists():
                    source.parent.mkdir(parents=True, exist_ok=True)
                    os.rename(here, source)
                    fsops.fsync_dir(source.parent)
                else:
                    here.unlink()
        result["action"] = "finished" if committed else "undone"
        fsops.remove_tree(stage)  # not fsynced: if the removal is lost, recovery settles it again
        return result

    def _after_save(self, draft: Draft, *, synchronous: bool) -> None:
        if synchronous:
            self.refresh_cover(draft.id)
        elif self.background:
            self._finisher_queue().put(("cover", draft.id))
        for a in draft.assets:
            if a.sha256 is None and self.background:
                self._finisher_queue().put(("hash", a.id))

    # -- edits, status, titles -----------------------------------------------------------------
    def update_edit(self, draft_id: str, edit: dict, *, base_revision: int | None = None) -> int:
        """Replace the edit document atomically; returns the new revision (last 20 are kept)."""
        text = json.dumps(edit)  # fails here, not in the writer, if the edit is not JSON-able
        duration, new_cover = stored_duration_us(edit), cover_fingerprint(edit)
        old_cover = {}

        def write() -> int:
            with self._session() as s, s.begin():
                row = s.get(DraftRow, draft_id)
                if row is None:
                    raise DraftNotFound(draft_id)
                if base_revision is not None and base_revision != row.revision:
                    raise RevisionConflict(draft_id, base_revision, row.revision)
                old_cover["key"] = cover_fingerprint(json.loads(row.edit_json))
                rev = row.revision + 1
                t = now_us()
                s.add(DraftRevisionRow(draft_id=draft_id, revision=rev, edit_json=text, created_us=t))
                s.execute(delete(DraftRevisionRow).where(DraftRevisionRow.draft_id == draft_id,
                                                         DraftRevisionRow.revision <= rev - KEEP_REVISIONS))
                row.edit_json, row.revision, row.updated_us = text, rev, t
                row.cover_time_us = int(((edit.get("cover") or {}).get("time_us")) or 0)
                row.duration_us = duration
                return rev

        rev = self._write(write)
        self._emit("updated", [draft_id])
        # The card and its blur follow the cover's picture: a new cover time, or other clips under it.
        if new_cover != old_cover.get("key") and self.background:
            self._finisher_queue().put(("cover", draft_id))
        return rev

    def rollback(self, draft_id: str, revision: int) -> int:
        """Make an earlier kept revision current again (as a new revision)."""
        with self._session() as s:
            text = s.scalar(select(DraftRevisionRow.edit_json).where(DraftRevisionRow.draft_id == draft_id,
                                                                     DraftRevisionRow.revision == revision))
        if text is None:
            raise DraftError(f"Revision {revision} of this draft is no longer kept (only the last {KEEP_REVISIONS} are).")
        return self.update_edit(draft_id, json.loads(text))

    def set_status(self, draft_id: str, status: str) -> None:
        """Legacy: records ``status`` in the row, which no reader uses any more — ``Draft.status`` is
        derived from the export lock and the upload jobs (see ``_badges``). Kept so callers that still
        call it do no harm; use ``exporting()`` around an export instead."""
        if status not in STATUSES:
            raise DraftError(f"Unknown draft status “{status}” (expected one of {', '.join(STATUSES)}).")
        self._update_row(draft_id, status=status)
        self._emit("updated", [draft_id])

    def rename(self, draft_id: str, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            raise DraftError("A draft needs a title; the new title was empty.")
        self._update_row(draft_id, title=title[:200], updated_us=now_us())
        self._emit("updated", [draft_id])

    def _update_row(self, draft_id: str, **values) -> None:  # noqa: ANN003
        def write() -> None:
            with self._session() as s, s.begin():
                if s.execute(update(DraftRow).where(DraftRow.id == draft_id).values(**values)).rowcount == 0:
                    raise DraftNotFound(draft_id)
        self._write(write)

    def duplicate(self, draft_id: str) -> Draft:
        """A copy of the draft that shares its media (no bytes are copied)."""
        new = new_id()

        def write() -> None:
            with self._session() as s, s.begin():
                row = s.get(DraftRow, draft_id)
                if row is None:
                    raise DraftNotFound(draft_id)
                t = now_us()
                s.add(DraftRow(id=new, title=f"{row.title} (copy)"[:200], status="draft", created_us=t, updated_us=t,
                               edit_json=row.edit_json, revision=1, cover_time_us=row.cover_time_us, lqip=row.lqip,
                               duration_us=row.duration_us, media_bytes=row.media_bytes))
                s.flush()
                s.add(DraftRevisionRow(draft_id=new, revision=1, edit_json=row.edit_json, created_us=t))
                for link in s.scalars(select(DraftAssetRow).where(DraftAssetRow.draft_id == draft_id)).all():
                    s.add(DraftAssetRow(draft_id=new, asset_id=link.asset_id, position=link.position))

        self._write(write)
        self._emit("saved", [new])
        return self.get(new)

    # -- trash ---------------------------------------------------------------------------------
    def delete(self, draft_ids: Sequence[str]) -> int:
        """Move drafts to the Trash (restorable for 30 days). Returns how many moved."""
        n = self._set_deleted(draft_ids, now_us())
        self._emit("deleted", draft_ids)
        return n

    def restore(self, draft_ids: Sequence[str]) -> int:
        n = self._set_deleted(draft_ids, None)
        self._emit("restored", draft_ids)
        return n

    def _set_deleted(self, draft_ids: Sequence[str], when: int | None) -> int:
        ids = list(draft_ids)

        def write() -> int:
            with self._session() as s, s.begin():
                found = set(s.scalars(select(DraftRow.id).where(DraftRow.id.in_(ids))).all())
                missing = [i for i in ids if i not in found]
                if missing:
                    raise DraftNotFound(missing[0])
                cond = DraftRow.deleted_us.is_(None) if when is not None else DraftRow.deleted_us.is_not(None)
                return s.execute(update(DraftRow).where(DraftRow.id.in_(ids), cond).values(deleted_us=when)).rowcount
        return self._write(write)

    def purge(self, *, draft_ids: Sequence[str] | None = None, older_than_days: float | None = TRASH_DAYS) -> dict:
        """Delete drafts in the Trash for good (those trashed longer ago than ``older_than_days``, or the
        given ones, or all with ``older_than_days=None``). Media no remaining draft uses is deleted.
        Raises BadInput for a number of days that is not finite and >= 0."""
        if older_than_days is not None:
            try:
                days = float(older_than_days)
            except (TypeError, ValueError):
                days = math.nan
            if not math.isfinite(days) or days < 0 or days > 100_000:
                raise BadInput(f"“{older_than_days}” is not a number of days; give 0 or more (e.g. 30).")
            older_than_days = days
        report = self._write(self._purge, list(draft_ids) if draft_ids is not None else None, older_than_days)
        if report["drafts"]:
            log.info("purged %d draft(s) from the Trash for good (%d file(s), %d bytes)",
                     report["drafts"], report["files"], report["bytes"])
            self._emit("purged", report["ids"])
        return report

    def maintenance(self) -> dict:
        """The app's own upkeep, run by the window once after it opened the store (never by a read such
        as `studio drafts list`): drafts in the Trash for over TRASH_DAYS are deleted for good, and
        the log says so. Returns the purge report."""
        report = self.purge(older_than_days=TRASH_DAYS)
        log.info("drafts maintenance: %d draft(s) older than %d days emptied from the Trash",
                 report["drafts"], TRASH_DAYS)
        return report

    def _purge(self, draft_ids: list[str] | None, older_than_days: float | None) -> dict:
        with self.media_lock():
            txid = new_id()
            stage = self.staging_root / txid
            with self._session() as s, s.begin():
                q = select(DraftRow.id).where(DraftRow.deleted_us.is_not(None))
                if draft_ids is not None:
                    q = q.where(DraftRow.id.in_(draft_ids))
                if older_than_days is not None:
                    q = q.where(DraftRow.deleted_us <= now_us() - int(older_than_days * DAY_US))
                ids = list(s.scalars(q).all())
                if not ids:
                    return {"drafts": 0, "ids": [], "files": 0, "bytes": 0}
                candidates = set(s.scalars(select(DraftAssetRow.asset_id).where(DraftAssetRow.draft_id.in_(ids))).all())
                s.execute(delete(DraftRow).where(DraftRow.id.in_(ids)))
                still_used = set(s.scalars(select(DraftAssetRow.asset_id)
                                           .where(DraftAssetRow.asset_id.in_(candidates))).all())
                gone = s.scalars(select(MediaAssetRow).where(MediaAssetRow.id.in_(candidates - still_used))).all()
                files = [(a.path, a.size) for a in gone]
                s.execute(delete(MediaAssetRow).where(MediaAssetRow.id.in_([a.id for a in gone])))
                # The journal lands before the commit: a crash after it still deletes the files.
                stage.mkdir(parents=True)
                fsops.write_journal(stage, {"op": "purge", "txid": txid, "paths": [p for p, _ in files]})
                fsops.fsync_dir(self.staging_root)
            self._finish_purge(stage, fsops.read_json(stage / "journal.json") or {})
            return {"drafts": len(ids), "ids": ids, "files": len(files), "bytes": sum(n for _, n in files)}

    def _finish_purge(self, stage: Path, journal: dict) -> dict:
        paths = journal.get("paths", [])
        with self._session() as s:
            kept = set(s.scalars(select(MediaAssetRow.path).where(MediaAssetRow.path.in_(paths))).all()) if paths else set()
        deleted = 0
        for rel in paths:
            if rel in kept:
                continue  # the purge never committed: the rows are still there, so is the file
            with contextlib.suppress(FileNotFoundError):
                self.layout.absolute(rel).unlink()
                deleted += 1
        fsops.remove_tree(stage)
        return {"txid": stage.name, "action": "purge-finished", "files": deleted}

    # -- covers, thumbnails, hashes ------------------------------------------------------------
    def cover_key(self, draft: Draft) -> str:
        """What the cover thumbnail is cached under: changes when the cover's picture may change."""
        key = cover_fingerprint(draft.edit)
        if key and not draft.edit.get("clips") and not (draft.edit.get("cover") or {}).get("asset_id"):
            # No clips: the cover is the first picture of the draft, which the edit does not name.
            still = next((a.id for a in draft.assets if a.kind in ("video", "image")), "")
            key = f"{key[:8]}{still[:8]}" if still else ""
        return key

    def media_refs(self, draft: Draft) -> dict[str, MediaRef]:
        """asset_id -> MediaRef (absolute path) for every asset of ``draft`` that is on disk."""
        return {a.id: MediaRef.of(a, self.asset_path(a)) for a in draft.assets if not a.missing}

    def cover_image(self, draft: Draft, *, max_side: int | None = None):  # noqa: ANN201 - PIL.Image.Image
        """The cover picture (full canvas size by default), drawn as the export draws that frame.
        Raises MediaError (nothing to show, media unreadable or missing). Runs ffmpeg: not on the UI thread."""
        assets = self.media_refs(draft)
        try:
            frame = document.cover_frame(draft.edit)
            if frame is not None and frame.asset_id not in assets and any(a.id == frame.asset_id for a in draft.assets):
                raise MediaError("missing", "The media file under this draft's cover is missing from the library, "
                                            "so the cover cannot be drawn. Put the file back, then run recovery.")
            return cover_image(draft.edit, assets, max_side=max_side, overlay_dir=self.layout.cache / "overlays")
        except EditError as e:
            raise MediaError("unreadable", f"This draft's edit is damaged, so it has no cover: {e}") from e

    def thumbnail(self, draft: Draft) -> Path | None:
        """The cover thumbnail (built now if the cache lost it); None if the media cannot give one.
        Reads files and may run ffmpeg: call off the UI thread."""
        key = self.cover_key(draft)
        if not key:
            return None
        cached = self.thumbs.cached(key)
        if cached is not None:
            return cached
        try:
            return self._build_thumbnail(draft, key)[0]
        except (MediaError, OSError) as e:
            log.info("no thumbnail for draft %s: %s", draft.id, e)
            return None

    def _build_thumbnail(self, draft: Draft, key: str) -> tuple[Path, bytes]:
        jpeg = image_bytes(self.cover_image(draft, max_side=THUMB_SIDE))
        return self.thumbs.store(key, jpeg), jpeg

    def refresh_cover(self, draft_id: str) -> str | None:
        """Rebuild the cover thumbnail and store its BlurHash in the row. Returns the LQIP."""
        try:
            draft = self.get(draft_id)
        except DraftNotFound:
            return None
        key = self.cover_key(draft)
        if not key:
            return None
        try:
            _path, jpeg = self._build_thumbnail(draft, key)
            lqip = lqip_from_jpeg(jpeg)
        except (MediaError, OSError, ValueError) as e:
            log.info("no cover for draft %s: %s", draft_id, e)
            return None
        self._update_row_quiet(draft_id, lqip=lqip)
        self._emit("cover", [draft_id])
        return lqip

    def _update_row_quiet(self, draft_id: str, **values) -> None:  # noqa: ANN003
        with contextlib.suppress(DraftNotFound):
            self._update_row(draft_id, **values)

    def hash_asset(self, asset_id: str, cancel: threading.Event | None = None) -> str | None:
        """Compute and record a NULL sha256 (a moved take). Size is checked again before recording."""
        with self._session() as s:
            row = s.get(MediaAssetRow, asset_id)
        if row is None or row.sha256 is not None:
            return row.sha256 if row else None
        path = self.layout.absolute(row.path)
        try:
            digest = fsops.sha256_file(path, cancel)
            size = path.stat().st_size
        except OSError:
            return None
        if digest is None or size != row.size:
            return None

        def write() -> None:
            with self._session() as s, s.begin():
                s.execute(update(MediaAssetRow).where(MediaAssetRow.id == asset_id, MediaAssetRow.sha256.is_(None),
                                                      MediaAssetRow.path == row.path).values(sha256=digest))
        self._write(write)
        return digest

    def _finisher_queue(self) -> "queue.Queue":
        if self._finisher is None:
            self._finisher = _Finisher(self)
        return self._finisher.queue

    def wait_idle(self, timeout: float = 30) -> bool:
        """Block until the background finisher has nothing left (tests, CLI before exit)."""
        return self._finisher.wait_idle(timeout) if self._finisher is not None else True

    # -- recovery ------------------------------------------------------------------------------
    def recover(self) -> dict:
        """Reconcile the library with the database (see studio.drafts.recovery). Idempotent."""
        report = self._write(recover, self)
        if self.background:
            for asset_id in report.pop("_unhashed", []):
                self._finisher_queue().put(("hash", asset_id))
            for draft_id in report.pop("_no_cover", []):
                self._finisher_queue().put(("cover", draft_id))
        else:
            report.pop("_unhashed", None)
            report.pop("_no_cover", None)
        if report.get("recovered_draft") or report.get("relinked") or report.get("missing"):
            self._emit("recovered", [report["recovered_draft"]] if report.get("recovered_draft") else [])
        return report

    def discard_take(self, take_dir: Path) -> None:
        """Delete an unsaved take the creator chose to throw away (only folders under cache/takes)."""
        take_dir = Path(take_dir).absolute()
        if take_dir.parent != self.layout.takes.absolute():
            raise DraftError(f"{take_dir} is not an unsaved take.")
        fsops.remove_tree(take_dir)


class _Finisher:
    """One daemon thread doing slow after-save work: content hashes and cover thumbnails/LQIP."""

    def __init__(self, store: DraftStore):
        self.store = store
        self.queue: queue.Queue = queue.Queue()
        self.cancel = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self.thread = threading.Thread(target=self._run, name="drafts-finisher", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.cancel.is_set():
            try:
                job = self.queue.get(timeout=0.2)
            except queue.Empty:
                self._idle.set()
                continue
            self._idle.clear()
            if job is None:
                break
            kind, ident = job
            try:
                if kind == "hash":
                    self.store.hash_asset(ident, self.cancel)
                elif kind == "cover":
                    self.store.refresh_cover(ident)
            except Exception:  # noqa: BLE001 - best effort; recovery re-queues it next start
                log.exception("drafts finisher: %s %s failed", kind, ident)
            finally:
                if self.queue.empty():
                    self._idle.set()

    def wait_idle(self, timeout: float) -> bool:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.queue.empty() and self._idle.wait(0.05) and self.queue.empty():
                return True
        return False

    def stop(self) -> None:
        self.cancel.set()
        self.queue.put(None)
        self.thread.join(timeout=10)


def _holds_unsaved_sound(take_dir: Path, media: Path) -> bool:
    """True when the take folder still has raw sound (audio.pcm) that ``media`` does not contain:
    a take whose finalize failed (only a finished take.mp4 carries the sound)."""
    raw = take_dir / RAW_AUDIO
    try:
        return media.name != FINISHED_MEDIA and raw.is_file() and raw.stat().st_size > 0
    except OSError:
        return True  # cannot tell: keep it


def _kind(info: MediaInfo) -> str:
    if info.video is None:
        return "audio"
    return "image" if is_image(info) else "video"
