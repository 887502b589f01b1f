"""The media library's rows: how drafts and media assets are read from and written to studio.db.

Public so the store and recovery share one copy (recovery used to import the store's private
mappers, and the two modules imported each other). Pure mapping: no locks, no I/O beyond the
caller's session.
"""

from __future__ import annotations

import json
import uuid
from typing import Sequence

from sqlalchemy.orm import Session

from studio.drafts.models import DraftAssetRow, DraftRevisionRow, DraftRow, MediaAssetRow
from studio.drafts.thumbs import now_us
from studio.drafts.types import Draft, MediaAsset, from_us
from studio.editor import document


def new_id() -> str:
    return uuid.uuid4().hex


def asset_from_row(r: MediaAssetRow) -> MediaAsset:
    return MediaAsset(id=r.id, path=r.path, kind=r.kind, size=r.size, sha256=r.sha256, duration_us=r.duration_us,
                      width=r.width, height=r.height, fps=r.fps, rotation=r.rotation, video_codec=r.video_codec,
                      audio_codec=r.audio_codec, has_audio=bool(r.has_audio), missing=bool(r.missing))


def draft_from_row(r: DraftRow, assets: Sequence[MediaAsset], status: str = "draft") -> Draft:
    return Draft(id=r.id, title=r.title, status=status, created_at=from_us(r.created_us),
                 updated_at=from_us(r.updated_us), edit=json.loads(r.edit_json), revision=r.revision,
                 duration_us=r.duration_us, media_bytes=r.media_bytes, lqip=r.lqip, cover_time_us=r.cover_time_us,
                 assets=tuple(assets), media_missing=any(a.missing for a in assets),
                 deleted_at=from_us(r.deleted_us))


def asset_from_info(asset_id: str, rel: str, kind: str, size: int, sha: str | None, info) -> MediaAsset:  # noqa: ANN001
    v = getattr(info, "video", None)
    a = getattr(info, "audio", None)
    w, h = v.display_size if v is not None else (0, 0)
    return MediaAsset(id=asset_id, path=rel, kind=kind, size=size, sha256=sha,
                      duration_us=int(getattr(info, "duration_us", None) or 0), width=int(w), height=int(h),
                      fps=float(v.fps or 0) if v is not None else 0.0, rotation=int(v.rotation) if v is not None else 0,
                      video_codec=v.codec if v is not None else None, audio_codec=a.codec if a is not None else None,
                      has_audio=a is not None)


def add_draft_rows(s: Session, draft_id: str, title: str, assets: Sequence[MediaAsset]) -> None:
    """The rows of a new draft over already-inserted assets: the draft, revision 1 of its initial edit,
    and its asset links, in the caller's transaction."""
    edit = document.initial_edit(assets)
    t = now_us()
    s.add(DraftRow(id=draft_id, title=title[:200], status="draft", created_us=t, updated_us=t,
                   edit_json=json.dumps(edit.to_dict()), revision=1, cover_time_us=0, lqip=None,
                   duration_us=edit.duration_us, media_bytes=sum(a.size for a in assets)))
    s.flush()
    s.add(DraftRevisionRow(draft_id=draft_id, revision=1, edit_json=json.dumps(edit.to_dict()), created_us=t))
    for i, a in enumerate(assets):
        s.add(DraftAssetRow(draft_id=draft_id, asset_id=a.id, position=i))


def asset_row(a: MediaAsset) -> MediaAssetRow:
    return MediaAssetRow(id=a.id, path=a.path, kind=a.kind, size=a.size, sha256=a.sha256, duration_us=a.duration_us,
                         width=a.width, height=a.height, fps=a.fps, rotation=a.rotation, video_codec=a.video_codec,
                         audio_codec=a.audio_codec, has_audio=a.has_audio, missing=False, created_us=now_us())
