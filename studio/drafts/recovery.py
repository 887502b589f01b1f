"""Start-up recovery: make the library and the database agree again after whatever happened.

Order matters: half-done saves/purges are settled first (their journals say which way), then every
row is checked against its file (size; the hash is checked only when a file must be matched), then
files nobody owns are either relinked to a row that lost its file (same content) or gathered into a
draft titled "Recovered". Nothing is deleted except what a committed purge asked for: recovery runs
on every open of the store (even `studio drafts list`), so it never empties the Trash — that is
``DraftStore.purge`` (explicit) or ``DraftStore.maintenance`` (the app's own, logged). Unsaved takes
are scanned under the media lock, so a save in another process never moves one away mid-scan.
When nothing is wrong this is one query, one stat per asset and one directory walk.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from studio import durable
from studio.capture.takes import unsaved_takes
from studio.drafts.library import add_draft_rows, asset_from_info, asset_row, new_id
from studio.drafts.models import DraftRow, MediaAssetRow
from studio.media.probe import MediaError, probe

log = logging.getLogger(__name__)
RECOVERED_TITLE = "Recovered"
MAX_COVER_REQUEUE = 500


def library_files(store) -> list[str]:  # noqa: ANN001
    """Every media file under data/media (paths relative to data/), staging and lock excluded."""
    data, found = str(store.layout.data), []
    for root, dirs, files in os.walk(store.layout.media):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            found.append(Path(os.path.relpath(os.path.join(root, name), data)).as_posix())
    return found


def recover(store) -> dict:  # noqa: ANN001 - studio.drafts.store.DraftStore; runs on its writer thread
    layout = store.layout
    report: dict = {"staging": [], "missing": [], "damaged": [], "relinked": [], "recovered_draft": None,
                    "recovered_files": [], "unsaved_takes": []}
    with store.media_lock():
        if store.staging_root.is_dir():
            for stage in sorted(p for p in store.staging_root.iterdir() if p.is_dir()):
                report["staging"].append(store.reconcile_stage(stage))
        with Session(store.engine) as s:
            rows = s.execute(select(MediaAssetRow.id, MediaAssetRow.path, MediaAssetRow.size,
                                    MediaAssetRow.sha256, MediaAssetRow.missing)).all()
        known = {r.path for r in rows}
        lost, found_again = [], []
        for r in rows:
            try:
                ok = os.stat(layout.absolute(r.path)).st_size == r.size
            except OSError:
                ok = False
                if r.path in known:
                    known.discard(r.path)
            if not ok:
                lost.append(r)
            elif r.missing:
                found_again.append(r.id)
        orphans = {rel: os.stat(layout.absolute(rel)).st_size for rel in library_files(store) if rel not in known}
        relinks, still_lost = _relink(store, lost, orphans)
        with Session(store.engine) as s, s.begin():
            for asset_id, rel in relinks:
                s.execute(update(MediaAssetRow).where(MediaAssetRow.id == asset_id).values(path=rel, missing=False))
            if found_again:
                s.execute(update(MediaAssetRow).where(MediaAssetRow.id.in_(found_again)).values(missing=False))
            if still_lost:
                s.execute(update(MediaAssetRow).where(MediaAssetRow.id.in_([r.id for r in still_lost]))
                          .values(missing=True))
        report["relinked"] = [{"asset_id": a, "path": p} for a, p in relinks]
        for r in still_lost:
            exists = layout.absolute(r.path).exists()
            report["damaged" if exists else "missing"].append({"asset_id": r.id, "path": r.path})
        if orphans:
            report["recovered_draft"], report["recovered_files"] = _adopt_orphans(store, sorted(orphans))
        report["unsaved_takes"] = [t.to_dict() for t in unsaved_takes(layout)]
        report["stale_exports"] = _drop_stale_partials(store)
    with Session(store.engine) as s:
        report["_unhashed"] = list(s.scalars(select(MediaAssetRow.id).where(MediaAssetRow.sha256.is_(None),
                                                                            MediaAssetRow.missing.is_(False))))
        report["_no_cover"] = list(s.scalars(select(DraftRow.id).where(DraftRow.lqip.is_(None),
                                                                       DraftRow.deleted_us.is_(None))
                                             .order_by(DraftRow.updated_us.desc()).limit(MAX_COVER_REQUEUE)))
    report["ok"] = not (report["missing"] or report["damaged"])
    return report


def _drop_stale_partials(store) -> list[str]:  # noqa: ANN001
    """Half-written exports (``.<draft id>-r<rev>.<x>.partial.mp4`` in cache/staging) whose exporter is
    gone (killed): nothing can finish them, and the finished file was never there. Returns their names."""
    staging = store.layout.staging
    dropped = []
    if not staging.is_dir():
        return dropped
    for p in staging.glob(".*.partial.mp4"):
        draft_id = p.name[1:].split("-r", 1)[0]
        if store.is_exporting(draft_id):
            continue
        try:
            p.unlink()
            dropped.append(p.name)
        except OSError as e:
            log.info("could not remove the half-written export %s: %s", p, e)
    if dropped:
        log.info("recovery: removed %d half-written export(s) left by a killed export", len(dropped))
    return dropped


def _relink(store, lost: list, orphans: dict[str, int]) -> tuple[list[tuple[str, str]], list]:  # noqa: ANN001
    """Match rows whose file is gone with unowned files of the same content (hash; else size + name)."""
    relinks, still_lost = [], []
    hashes: dict[str, str | None] = {}
    for r in lost:
        match = None
        for rel, size in orphans.items():
            if size != r.size:
                continue
            if r.sha256:
                if rel not in hashes:
                    try:
                        hashes[rel] = durable.sha256_file(store.layout.absolute(rel))
                    except OSError:
                        hashes[rel] = None
                if hashes[rel] == r.sha256:
                    match = rel
                    break
            elif Path(rel).stem == r.id:  # never hashed: only the file's own name is proof enough
                match = rel
                break
        if match is None:
            still_lost.append(r)
        else:
            relinks.append((r.id, match))
            del orphans[match]
    return relinks, still_lost


def _adopt_orphans(store, rels: list[str]) -> tuple[str, list[str]]:  # noqa: ANN001
    """Put unowned files into a new draft titled "Recovered" (never delete them)."""
    assets = []
    for rel in rels:
        path = store.layout.absolute(rel)
        try:
            info = probe(path)
        except (MediaError, OSError):
            info = None
        kind = "video" if info is not None and info.video is not None else "audio" if info is not None and info.audio else \
            _kind_from_name(rel)
        assets.append(asset_from_info(new_id(), rel, kind, path.stat().st_size, None, info))
    draft_id = new_id()
    with Session(store.engine) as s, s.begin():
        for a in assets:
            s.add(asset_row(a))
        s.flush()
        add_draft_rows(s, draft_id, RECOVERED_TITLE, assets)
    log.warning("recovery: %d media file(s) without a draft put into draft %s", len(rels), draft_id)
    return draft_id, rels


def _kind_from_name(rel: str) -> str:
    ext = Path(rel).suffix.lower()
    if ext in (".mp3", ".m4a", ".aac", ".wav", ".ogg", ".flac", ".opus"):
        return "audio"
    if ext in (".png", ".jpg", ".jpeg", ".webp", ".gif"):
        return "image"
    return "video"
