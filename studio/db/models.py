"""Imports every module that defines tables, so Base.metadata is complete (Alembic autogenerate)."""

from studio.db.engine import Base  # noqa: F401
import studio.drafts.models  # noqa: F401,E402 - drafts, media_assets, draft_assets, draft_revisions
import studio.uploader.models  # noqa: F401,E402 - upload_targets, upload_jobs, upload_parts
