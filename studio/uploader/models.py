"""Tables of the upload queue and posts (created by migrations 0003 to 0007; keep them in step).

No secret ever lives here: a target records only where its credentials come from.
"""

from __future__ import annotations

import time

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from studio.db.engine import Base


def now_us() -> int:
    return time.time_ns() // 1000


class TargetRow(Base):
    __tablename__ = "upload_targets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    endpoint_url: Mapped[str] = mapped_column(Text, server_default="")
    region: Mapped[str] = mapped_column(String(64), server_default="us-east-1")
    bucket: Mapped[str] = mapped_column(String(255))
    key_template: Mapped[str] = mapped_column(Text)
    addressing_style: Mapped[str] = mapped_column(String(16), server_default="auto")
    part_size: Mapped[int] = mapped_column(Integer)
    concurrency: Mapped[int] = mapped_column(Integer, server_default="4")
    checksum_algorithm: Mapped[str] = mapped_column(String(16), server_default="SHA256")
    checksum_when_required: Mapped[bool] = mapped_column(Boolean, server_default=false())
    bandwidth_limit: Mapped[int] = mapped_column(Integer, server_default="0")
    credential_source: Mapped[str] = mapped_column(String(16))
    aws_profile: Mapped[str | None] = mapped_column(String(128), nullable=True)
    webhook_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    unmetered_only: Mapped[bool] = mapped_column(Boolean, server_default=false())
    public_base_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    webhook_unsigned: Mapped[bool] = mapped_column(Boolean, server_default=false())
    backend_url: Mapped[str] = mapped_column(Text, server_default="")   # a team server (0006)
    created_us: Mapped[int] = mapped_column(BigInteger)


class JobRow(Base):
    __tablename__ = "upload_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    target_name: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    paused_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    source_path: Mapped[str] = mapped_column(Text)
    staging_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    owns_staging: Mapped[bool] = mapped_column(Boolean, server_default=true())
    draft_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    title: Mapped[str] = mapped_column(Text, server_default="")
    caption: Mapped[str] = mapped_column(Text, server_default="")
    duration_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    bucket: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger, server_default="0")
    mtime_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    part_size: Mapped[int] = mapped_column(Integer)
    checksum_algorithm: Mapped[str] = mapped_column(String(16))
    upload_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    notice: Mapped[str | None] = mapped_column(Text, nullable=True)
    webhook_status: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_us: Mapped[int] = mapped_column(BigInteger)
    updated_us: Mapped[int] = mapped_column(BigInteger)
    completed_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    source_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    source_mtime_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    verified_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    post_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    post_final: Mapped[bool] = mapped_column(Boolean, server_default=false())
    content_type: Mapped[str | None] = mapped_column(Text, nullable=True)
    cache_control: Mapped[str | None] = mapped_column(Text, nullable=True)


class PostRow(Base):
    """A publish of a draft: its files are the upload jobs with this ``post_id`` (state derived from them)."""

    __tablename__ = "posts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    draft_id: Mapped[str] = mapped_column(String(32))
    revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target_name: Mapped[str] = mapped_column(String(64))
    bucket: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, server_default="")
    caption: Mapped[str] = mapped_column(Text, server_default="")
    duration_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    bundle_dir: Mapped[str] = mapped_column(Text)
    link_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    links_expire_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_us: Mapped[int] = mapped_column(BigInteger)
    built_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class PartRow(Base):
    __tablename__ = "upload_parts"

    job_id: Mapped[str] = mapped_column(String(32), ForeignKey("upload_jobs.id", ondelete="CASCADE"),
                                        primary_key=True)
    part_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    etag: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str | None] = mapped_column(Text, nullable=True)
    md5: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acked_us: Mapped[int] = mapped_column(BigInteger)


class CreatedUploadRow(Base):
    """A multipart upload this profile created: the intent before CreateMultipartUpload, the id after."""

    __tablename__ = "upload_created"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(32))
    target_name: Mapped[str] = mapped_column(String(64))
    bucket: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(Text)
    upload_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    intent_us: Mapped[int] = mapped_column(BigInteger)
    aborted_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class OutboxRow(Base):
    """A completion webhook waiting to be delivered (or delivered / given up: kept for the record)."""

    __tablename__ = "webhook_outbox"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(32))
    target_name: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    signed: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_us: Mapped[int] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_us: Mapped[int] = mapped_column(BigInteger)
    delivered_us: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
