"""Tables of the draft store (created by migration 0002; keep the two in step).

Times are integer microseconds since the Unix epoch (UTC): exact ordering and cheap paging.
``MediaAssetRow.sha256`` is NULL until the content hash is known (a moved take is hashed after save).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from studio.db.engine import Base


class DraftRow(Base):
    __tablename__ = "drafts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), server_default="draft")
    created_us: Mapped[int] = mapped_column(BigInteger)
    updated_us: Mapped[int] = mapped_column(BigInteger)
    deleted_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    edit_json: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, server_default="1")
    cover_time_us: Mapped[int] = mapped_column(BigInteger, server_default="0")
    lqip: Mapped[str | None] = mapped_column(String(128), nullable=True)
    duration_us: Mapped[int] = mapped_column(BigInteger, server_default="0")
    media_bytes: Mapped[int] = mapped_column(BigInteger, server_default="0")


class MediaAssetRow(Base):
    __tablename__ = "media_assets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    path: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    duration_us: Mapped[int] = mapped_column(BigInteger, server_default="0")
    width: Mapped[int] = mapped_column(Integer, server_default="0")
    height: Mapped[int] = mapped_column(Integer, server_default="0")
    fps: Mapped[float] = mapped_column(Float, server_default="0")
    rotation: Mapped[int] = mapped_column(Integer, server_default="0")
    video_codec: Mapped[str | None] = mapped_column(String(32), nullable=True)
    audio_codec: Mapped[str | None] = mapped_column(String(32), nullable=True)
    has_audio: Mapped[bool] = mapped_column(Boolean, server_default=false())
    missing: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_us: Mapped[int] = mapped_column(BigInteger)


class DraftAssetRow(Base):
    __tablename__ = "draft_assets"

    draft_id: Mapped[str] = mapped_column(String(32), ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(32), ForeignKey("media_assets.id", ondelete="RESTRICT"),
                                          primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, server_default="0")


class DraftRevisionRow(Base):
    __tablename__ = "draft_revisions"

    draft_id: Mapped[str] = mapped_column(String(32), ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    edit_json: Mapped[str] = mapped_column(Text)
    created_us: Mapped[int] = mapped_column(BigInteger)
