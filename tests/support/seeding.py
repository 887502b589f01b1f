"""Many drafts at once for the tray test and benchmark: rows inserted in bulk, sharing real media.

Each row carries the real LQIP and edit of a draft that was imported normally, so the tray paints
exactly what it would for real drafts (and thumbnails resolve to a real cached file). The rows are
written through the process's one database writer (studio.db.writer), like every other write.
"""

from __future__ import annotations

import json

from sqlalchemy import insert

from studio.db.writer import release, writer_for
from studio.drafts.models import DraftAssetRow, DraftRevisionRow, DraftRow


def seed_drafts(studio, template, n: int) -> list[str]:  # noqa: ANN001 - Studio, Draft
    """Insert ``n`` drafts like ``template`` (older than it); returns their ids, newest first."""
    edit = json.dumps(template.edit)
    t0 = int(template.created_at.timestamp() * 1e6) - (n + 1) * 1000
    ids = [f"{i:08x}" + template.id[8:] for i in range(1, n + 1)]
    statuses = ("draft", "queued", "published")

    writer = writer_for(studio.engine)

    def write() -> None:
        with writer.transaction() as c:  # on the writer thread: one BEGIN IMMEDIATE transaction
            c.execute(insert(DraftRow), [dict(id=i, title=f"Draft {k:04d}", status=statuses[k % 3],
                                              created_us=t0 + k * 1000, updated_us=t0 + k * 1000, edit_json=edit,
                                              revision=1, cover_time_us=0, lqip=template.lqip,
                                              duration_us=template.duration_us, media_bytes=template.media_bytes)
                                         for k, i in enumerate(ids)])
            c.execute(insert(DraftRevisionRow), [dict(draft_id=i, revision=1, edit_json=edit, created_us=t0)
                                                 for i in ids])
            c.execute(insert(DraftAssetRow), [dict(draft_id=i, asset_id=a.id, position=p)
                                              for i in ids for p, a in enumerate(template.assets)])

    try:
        writer.run(write)
    finally:
        release(writer)
    return list(reversed(ids))
