"""integrity: per-part sha256, the upload ids this profile created, the webhook outbox

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

- upload_parts.sha256: the sha256 of the bytes actually read and sent for a part, so the
  whole-file sha256 of the staged file can be proven to be that of the bytes the server holds.
- upload_jobs.source_size / source_mtime_ns: the fingerprint of the user's original file (the
  staged copy has its own), so a `touch` is told apart from a change by content.
- upload_created: every multipart upload id this profile created (an intent row is written before
  CreateMultipartUpload, the id right after), so the sweeper aborts only its own leftovers.
- upload_targets.webhook_unsigned: an unsigned webhook is an explicit choice.
- webhook_outbox: completion webhooks, delivered apart from the upload lanes and retried across
  restarts. The secret is never stored here (keyring or $STUDIO_WEBHOOK_SECRET at delivery).
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("upload_parts") as batch:
        batch.add_column(sa.Column("sha256", sa.String(64), nullable=True))
    with op.batch_alter_table("upload_jobs") as batch:
        batch.add_column(sa.Column("source_size", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("source_mtime_ns", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("verified_us", sa.BigInteger, nullable=True))
    with op.batch_alter_table("upload_targets") as batch:
        batch.add_column(sa.Column("webhook_unsigned", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "upload_created",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("target_name", sa.String(64), nullable=False),
        sa.Column("bucket", sa.String(255), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("upload_id", sa.Text, nullable=True),
        sa.Column("intent_us", sa.BigInteger, nullable=False),
        sa.Column("aborted_us", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_upload_created_upload_id", "upload_created", ["upload_id"])
    op.create_table(
        "webhook_outbox",
        sa.Column("id", sa.String(32), primary_key=True),          # the delivery id receivers de-duplicate on
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("target_name", sa.String(64), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),                # the exact bytes signed and sent, every attempt
        sa.Column("signed", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),         # pending | delivered | failed
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_us", sa.BigInteger, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("delivered_us", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_webhook_outbox_state", "webhook_outbox", ["state", "next_attempt_us"])
    op.create_index("ix_webhook_outbox_job", "webhook_outbox", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_outbox_job", "webhook_outbox")
    op.drop_index("ix_webhook_outbox_state", "webhook_outbox")
    op.drop_table("webhook_outbox")
    op.drop_index("ix_upload_created_upload_id", "upload_created")
    op.drop_table("upload_created")
    with op.batch_alter_table("upload_targets") as batch:
        batch.drop_column("webhook_unsigned")
    with op.batch_alter_table("upload_jobs") as batch:
        batch.drop_column("verified_us")
        batch.drop_column("source_mtime_ns")
        batch.drop_column("source_size")
    with op.batch_alter_table("upload_parts") as batch:
        batch.drop_column("sha256")
