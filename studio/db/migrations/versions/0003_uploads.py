"""uploads: targets, upload jobs and their acknowledged parts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

Secrets are never stored here: a target only says where its credentials come from (keyring, the
AWS credential chain, or the embedded local S3). Times are integer microseconds since the Unix epoch (UTC), as in the drafts tables.
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_targets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("endpoint_url", sa.Text, nullable=False, server_default=""),
        sa.Column("region", sa.String(64), nullable=False, server_default="us-east-1"),
        sa.Column("bucket", sa.String(255), nullable=False),
        sa.Column("key_template", sa.Text, nullable=False),
        sa.Column("addressing_style", sa.String(16), nullable=False, server_default="auto"),
        sa.Column("part_size", sa.Integer, nullable=False),
        sa.Column("concurrency", sa.Integer, nullable=False, server_default="4"),
        sa.Column("checksum_algorithm", sa.String(16), nullable=False, server_default="SHA256"),
        sa.Column("checksum_when_required", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("bandwidth_limit", sa.Integer, nullable=False, server_default="0"),
        sa.Column("credential_source", sa.String(16), nullable=False),
        sa.Column("aws_profile", sa.String(128), nullable=True),
        sa.Column("webhook_url", sa.Text, nullable=True),
        sa.Column("unmetered_only", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "upload_jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("target_name", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("paused_reason", sa.String(16), nullable=True),
        sa.Column("source_path", sa.Text, nullable=False),
        sa.Column("staging_path", sa.Text, nullable=True),
        sa.Column("owns_staging", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("draft_id", sa.String(32), nullable=True),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("caption", sa.Text, nullable=False, server_default=""),
        sa.Column("duration_us", sa.BigInteger, nullable=True),
        sa.Column("bucket", sa.String(255), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("mtime_ns", sa.BigInteger, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("part_size", sa.Integer, nullable=False),
        sa.Column("checksum_algorithm", sa.String(16), nullable=False),
        sa.Column("upload_id", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("notice", sa.Text, nullable=True),
        sa.Column("webhook_status", sa.Text, nullable=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.Column("completed_us", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_upload_jobs_target_seq", "upload_jobs", ["target_name", "seq"])
    op.create_index("ix_upload_jobs_state", "upload_jobs", ["state"])
    op.create_table(
        "upload_parts",
        sa.Column("job_id", sa.String(32), sa.ForeignKey("upload_jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("part_number", sa.Integer, primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("etag", sa.Text, nullable=False),
        sa.Column("checksum", sa.Text, nullable=True),
        sa.Column("md5", sa.String(32), nullable=True),
        sa.Column("acked_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("upload_parts")
    op.drop_index("ix_upload_jobs_state", "upload_jobs")
    op.drop_index("ix_upload_jobs_target_seq", "upload_jobs")
    op.drop_table("upload_jobs")
    op.drop_table("upload_targets")
