"""The drafts tray's item model: lazy pages from the DraftStore, thumbnails loaded off the UI thread.

Rows arrive a page at a time (``fetchMore``); every read runs on a worker and lands back on the UI
thread. The delegate paints the BlurHash placeholder (decoded once per hash, cached) until the
thumbnail QImage has been read on a worker and handed over.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import datetime, timezone

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from studio.tasks import run_in_background
from studio.errors import user_message

log = logging.getLogger(__name__)

PAGE = 100
THUMB_CACHE = 200
LQIP_CACHE = 2000
DraftRole = Qt.UserRole + 1
IdRole = Qt.UserRole + 2
ThumbRole = Qt.UserRole + 3
PlaceholderRole = Qt.UserRole + 4


class _StoreEvents(QObject):
    """Carries the store's change notices (any thread) to the UI thread."""
    changed = Signal(str, object)


_lqip_images: OrderedDict[str, QImage] = OrderedDict()


def lqip_image(lqip: str | None) -> QImage | None:
    """The BlurHash decoded once to a tiny QImage (the view scales it smoothly)."""
    if not lqip:
        return None
    img = _lqip_images.get(lqip)
    if img is not None:
        _lqip_images.move_to_end(lqip)
        return img
    try:
        import blurhash

        pil = blurhash.decode(lqip, 18, 32)
        data = pil.convert("RGB").tobytes()
        img = QImage(data, pil.width, pil.height, pil.width * 3, QImage.Format_RGB888).copy()
    except Exception:  # noqa: BLE001 - a bad hash just means "no placeholder"
        log.debug("cannot decode LQIP %r", lqip)
        return None
    _lqip_images[lqip] = img
    if len(_lqip_images) > LQIP_CACHE:
        _lqip_images.popitem(last=False)
    return img


def thumbnail_pool() -> QThreadPool:
    """One small pool for thumbnail reads, owned by the application (it outlives pages and models,
    and is waited for when the app quits), so thumbnails never starve the rest of the app."""
    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication.instance()
    pool = app.findChild(QThreadPool, "DraftThumbnails")
    if pool is None:
        pool = QThreadPool(app)
        pool.setObjectName("DraftThumbnails")
        pool.setMaxThreadCount(2)
    return pool


def relative_time(when: datetime, now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    secs = max(0, int((now - when).total_seconds()))
    if secs < 60:
        return "just now"
    if secs < 3600:
        return f"{secs // 60} min ago"
    if secs < 86400:
        return f"{secs // 3600} h ago"
    days = secs // 86400
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    return when.astimezone().strftime("%d %b %Y")


def duration_text(us: int) -> str:
    s = int(round(us / 1e6))
    return f"{s // 60}:{s % 60:02d}"


def size_text(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 / 10 else f"{n / 2**20:.0f} MB"


def storage_text(s: dict) -> str:
    """The one wording of the drafts' storage, for the Drafts footer and the status bar alike:
    media of every draft (Trash included, it is still on disk) and the free space of that disk.
    ``s`` is ``DraftStore.storage()`` (or just ``free_bytes`` when the store cannot open)."""
    free = f"{size_text(int(s['free_bytes']))} free"
    return f"Drafts use {size_text(int(s['media_bytes']))} · {free}" if "media_bytes" in s else free


def _load_thumb(store, draft, size: int) -> QImage | None:  # noqa: ANN001 - runs on a worker
    path = store.thumbnail(draft)
    if path is None:
        return None
    img = QImage(str(path))
    if img.isNull():
        return None
    return img.scaled(size, size, Qt.KeepAspectRatio, Qt.SmoothTransformation)


class DraftsModel(QAbstractListModel):
    """Newest first; ``search`` filters by title; ``trashed`` shows the Trash."""

    loaded = Signal()            # a page (or a reload) arrived
    failed = Signal(str)         # a read failed; the text is for the user

    def __init__(self, parent: QObject | None = None, *, thumb_size: int = 280):
        super().__init__(parent)
        self.store = None
        self.search = ""
        self.trashed = False
        self.thumb_size = thumb_size
        self._drafts: list = []
        self._rows: dict[str, int] = {}
        self._more = False
        self._loading = False
        self._generation = 0
        self._thumbs: OrderedDict[str, QPixmap] = OrderedDict()
        self._cover_keys: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._pending: set[tuple] = set()
        self.pool = thumbnail_pool()
        self._events = _StoreEvents(self)
        self._events.changed.connect(self._on_store_event)
        self._unsubscribe = None

    def _alive(self, fn):  # noqa: ANN001, ANN202
        """A worker callback that does nothing once this model is gone."""
        from shiboken6 import isValid

        def call(*args):  # noqa: ANN002
            if isValid(self):
                fn(*args)
        return call

    # -- wiring ------------------------------------------------------------------------------
    def attach(self, store) -> None:  # noqa: ANN001 - studio.drafts.DraftStore
        if self._unsubscribe:
            self._unsubscribe()
        self.store = store
        events = self._events

        def relay(event: str, ids: tuple) -> None:  # any thread; the page may be gone by now
            from shiboken6 import isValid

            if isValid(events):
                events.changed.emit(event, ids)
        self._unsubscribe = store.subscribe(relay)
        self.reload()

    def detach(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None

    def set_filter(self, search: str | None = None, trashed: bool | None = None) -> None:
        if search is not None:
            self.search = search
        if trashed is not None:
            self.trashed = trashed
        self.reload()

    def reload(self) -> None:
        """Re-read from the top, keeping as many rows as were loaded (at least one page)."""
        if self.store is None:
            return
        self._generation += 1
        gen, want = self._generation, max(PAGE, len(self._drafts))
        store, search, trashed = self.store, self.search, self.trashed
        self._loading = True
        run_in_background(lambda: store.list_drafts(search=search, trashed=trashed, offset=0, limit=want),
                          on_done=self._alive(lambda drafts: self._replace(gen, drafts, want)),
                          on_error=self._alive(lambda e: self._fail(gen, e)))

    def _replace(self, gen: int, drafts: list, want: int) -> None:
        if gen != self._generation:
            return
        self.beginResetModel()
        self._drafts = list(drafts)
        self._rows = {d.id: i for i, d in enumerate(self._drafts)}
        self._more = len(drafts) >= want
        self._loading = False
        self.endResetModel()
        self.loaded.emit()

    def _fail(self, gen: int, exc: BaseException) -> None:
        if gen == self._generation:
            self._loading = False
        self.failed.emit(user_message(exc))

    # -- lazy paging -------------------------------------------------------------------------
    def canFetchMore(self, parent: QModelIndex = QModelIndex()) -> bool:  # noqa: B008, N802 - Qt API
        return not parent.isValid() and self._more and not self._loading and self.store is not None

    def fetchMore(self, parent: QModelIndex = QModelIndex()) -> None:  # noqa: B008, N802 - Qt API
        if not self.canFetchMore(parent):
            return
        self._loading = True
        gen, offset = self._generation, len(self._drafts)
        store, search, trashed = self.store, self.search, self.trashed
        run_in_background(lambda: store.list_drafts(search=search, trashed=trashed, offset=offset, limit=PAGE),
                          on_done=self._alive(lambda drafts: self._append(gen, offset, drafts)),
                          on_error=self._alive(lambda e: self._fail(gen, e)))

    def _append(self, gen: int, offset: int, drafts: list) -> None:
        if gen != self._generation or offset != len(self._drafts):
            return
        self._loading = False
        self._more = len(drafts) >= PAGE
        fresh = [d for d in drafts if d.id not in self._rows]
        if fresh:
            self.beginInsertRows(QModelIndex(), len(self._drafts), len(self._drafts) + len(fresh) - 1)
            for d in fresh:
                self._rows[d.id] = len(self._drafts)
                self._drafts.append(d)
            self.endInsertRows()
        self.loaded.emit()

    # -- data --------------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self._drafts)

    def flags(self, index: QModelIndex):  # noqa: ANN201
        base = super().flags(index)
        return base | Qt.ItemIsEditable | Qt.ItemIsDragEnabled if index.isValid() else base

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):  # noqa: ANN201
        if not index.isValid() or not 0 <= index.row() < len(self._drafts):
            return None
        d = self._drafts[index.row()]
        if role in (Qt.DisplayRole, Qt.EditRole):
            return d.title
        if role == DraftRole:
            return d
        if role == IdRole:
            return d.id
        if role == ThumbRole:
            return self.thumbnail(index)
        if role == PlaceholderRole:
            return lqip_image(d.lqip)
        if role == Qt.ToolTipRole:
            extra = " — media missing: put the file back, then run recovery" if d.media_missing else ""
            return f"{d.title}\n{duration_text(d.duration_us)} · {relative_time(d.updated_at)} · {d.status}{extra}"
        return None

    def setData(self, index: QModelIndex, value, role: int = Qt.EditRole) -> bool:  # noqa: ANN001, N802
        if role != Qt.EditRole or not index.isValid() or self.store is None:
            return False
        title = " ".join(str(value).split())
        d = self._drafts[index.row()]
        if not title or title == d.title:
            return False
        self.rename(d.id, title)
        return True

    def draft_at(self, row: int):  # noqa: ANN201
        return self._drafts[row] if 0 <= row < len(self._drafts) else None

    def row_of(self, draft_id: str) -> int:
        return self._rows.get(draft_id, -1)

    # -- thumbnails --------------------------------------------------------------------------
    def _thumb_key(self, d) -> str:  # noqa: ANN001
        # Keyed by the cover's picture, not the draft: duplicates share the pixmap, and a new cover
        # time or other clips under it give a new key. Remembered per revision: paint() asks often.
        memo = (d.id, d.revision)
        key = self._cover_keys.get(memo)
        if key is None:
            key = self._cover_keys[memo] = self.store.cover_key(d)
            while len(self._cover_keys) > 4 * THUMB_CACHE:
                self._cover_keys.popitem(last=False)
        return key

    def thumbnail(self, index: QModelIndex) -> QPixmap | None:
        """The cached thumbnail, or None after asking a worker to load it (the placeholder shows meanwhile)."""
        d = self._drafts[index.row()]
        if self.store is None:
            return None
        key = self._thumb_key(d)
        pix = self._thumbs.get(key)
        if pix is not None:
            self._thumbs.move_to_end(key)
            return pix
        if key not in self._pending and self.store is not None and d.assets:
            self._pending.add(key)
            store, size = self.store, self.thumb_size
            run_in_background(_load_thumb, store, d, size, pool=self.pool,
                              on_done=self._alive(lambda img, key=key: self._thumb_loaded(key, img)),
                              on_error=self._alive(lambda e, key=key: self._pending.discard(key)))
        return None

    def _thumb_loaded(self, key: str, img: QImage | None) -> None:
        self._pending.discard(key)
        if img is None:
            return
        self._thumbs[key] = QPixmap.fromImage(img)
        while len(self._thumbs) > THUMB_CACHE:
            self._thumbs.popitem(last=False)
        if self._drafts:  # every row on this frame may be waiting; the view repaints only what is visible
            self.dataChanged.emit(self.index(0), self.index(len(self._drafts) - 1), [ThumbRole])

    # -- changes -----------------------------------------------------------------------------
    def rename(self, draft_id: str, title: str) -> None:
        store = self.store
        run_in_background(store.rename, draft_id, title,
                          on_error=self._alive(lambda e: self.failed.emit(str(e))))

    def _on_store_event(self, event: str, ids) -> None:  # noqa: ANN001
        if event in ("cover", "updated") and ids and all(i in self._rows for i in ids):
            for draft_id in ids:
                self._refresh_one(draft_id)
            return
        self.reload()

    def _refresh_one(self, draft_id: str) -> None:
        store = self.store
        gen = self._generation

        def done(d) -> None:  # noqa: ANN001
            row = self._rows.get(draft_id, -1)
            if gen != self._generation or row < 0:
                return
            self._drafts[row] = d
            idx = self.index(row)
            self.dataChanged.emit(idx, idx)

        run_in_background(store.get, draft_id, on_done=self._alive(done),
                          on_error=self._alive(lambda e: self.reload()))
