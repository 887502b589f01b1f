"""target links: a public base URL per target, so finished uploads have a link that opens

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

A target whose bucket is served publicly (a CDN, R2's public bucket URL, a website endpoint)
records that base URL; an upload's link is then base URL + key. Without one, links are
pre-signed GET URLs with an expiry.
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("upload_targets") as batch:
        batch.add_column(sa.Column("public_base_url", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("upload_targets") as batch:
        batch.drop_column("public_base_url")
