"""posts: a post is a group of upload jobs (an HLS bundle), LIVE once every file is verified

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

- posts: one row per publish of a draft to a target (what was published and where; its state is
  derived from its jobs, never stored beside them: only the build's own outcome is recorded).
- upload_jobs.post_id / post_final: the post a job belongs to; final jobs (master playlist, share
  page, manifest) are held until every other file of the post is verified.
- upload_jobs.content_type / cache_control: sent with the object (CreateMultipartUpload), so a CDN
  caches segments for a year and playlists for a minute.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("draft_id", sa.String(32), nullable=False),
        sa.Column("revision", sa.Integer, nullable=True),
        sa.Column("target_name", sa.String(64), nullable=False),
        sa.Column("bucket", sa.String(255), nullable=False),
        sa.Column("prefix", sa.Text, nullable=False),                 # posts/<id>/
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("caption", sa.Text, nullable=False, server_default=""),
        sa.Column("duration_us", sa.BigInteger, nullable=True),
        sa.Column("bundle_dir", sa.Text, nullable=False),
        sa.Column("link_kind", sa.String(16), nullable=True),        # public | local | presigned
        sa.Column("links_expire_us", sa.BigInteger, nullable=True),  # presigned: when the embedded links end
        sa.Column("error", sa.Text, nullable=True),                  # the build failed: why
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("built_us", sa.BigInteger, nullable=True),         # its files were queued
    )
    with op.batch_alter_table("upload_jobs") as batch:
        batch.add_column(sa.Column("post_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("post_final", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("content_type", sa.Text, nullable=True))
        batch.add_column(sa.Column("cache_control", sa.Text, nullable=True))
    op.create_index("ix_upload_jobs_post_id", "upload_jobs", ["post_id"])


def downgrade() -> None:
    op.drop_index("ix_upload_jobs_post_id", "upload_jobs")
    with op.batch_alter_table("upload_jobs") as batch:
        batch.drop_column("cache_control")
        batch.drop_column("content_type")
        batch.drop_column("post_final")
        batch.drop_column("post_id")
    op.drop_table("posts")
