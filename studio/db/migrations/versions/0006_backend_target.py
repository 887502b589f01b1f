"""backend target: an upload target that is a team server signing each part

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

- upload_targets.backend_url: where a "Team server" target's backend is (empty for a bucket the app
  reaches with its own credentials). Its device token is never stored here: the keyring, or
  $STUDIO_BACKEND_TOKEN at run time (credential_source "env").
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("upload_targets") as batch:
        batch.add_column(sa.Column("backend_url", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("upload_targets") as batch:
        batch.drop_column("backend_url")
