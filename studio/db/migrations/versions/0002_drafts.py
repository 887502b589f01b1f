"""drafts: drafts, media assets, draft<->asset links, edit revisions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Times are integers (microseconds since the Unix epoch, UTC) so ordering and paging are exact.
``media_assets.sha256`` is NULL until the content hash has been computed: a take moved into the
library on save is hashed in the background so a save never reads the whole file.

Each table and index is created only if missing: SQLite's Python driver commits DDL statements one
by one, so an app killed half-way through this migration leaves some tables behind with the
version still at 0001, and the next start must be able to finish the job.
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _tables() -> set[str]:
    return set(sa.inspect(op.get_bind()).get_table_names())


def _indexes(table: str) -> set[str]:
    return {i["name"] for i in sa.inspect(op.get_bind()).get_indexes(table)}


def _table(name: str, *columns) -> None:  # noqa: ANN002
    if name not in _tables():
        op.create_table(name, *columns)


def _index(name: str, table: str, columns: list[str]) -> None:
    if name not in _indexes(table):
        op.create_index(name, table, columns)


def upgrade() -> None:
    _table(
        "drafts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.Column("deleted_us", sa.BigInteger, nullable=True),
        sa.Column("edit_json", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
        sa.Column("cover_time_us", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("lqip", sa.String(128), nullable=True),
        sa.Column("duration_us", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("media_bytes", sa.BigInteger, nullable=False, server_default="0"),
        sa.CheckConstraint("status IN ('draft','exporting','queued','published')", name="ck_drafts_status"),
    )
    _index("ix_drafts_live_updated", "drafts", ["deleted_us", "updated_us"])
    _table(
        "media_assets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("path", sa.String(400), nullable=False, unique=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("duration_us", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("width", sa.Integer, nullable=False, server_default="0"),
        sa.Column("height", sa.Integer, nullable=False, server_default="0"),
        sa.Column("fps", sa.Float, nullable=False, server_default="0"),
        sa.Column("rotation", sa.Integer, nullable=False, server_default="0"),
        sa.Column("video_codec", sa.String(32), nullable=True),
        sa.Column("audio_codec", sa.String(32), nullable=True),
        sa.Column("has_audio", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("missing", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.CheckConstraint("kind IN ('video','audio','image')", name="ck_media_assets_kind"),
    )
    _index("ix_media_assets_sha256", "media_assets", ["sha256"])
    _table(
        "draft_assets",
        sa.Column("draft_id", sa.String(32), sa.ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("asset_id", sa.String(32), sa.ForeignKey("media_assets.id", ondelete="RESTRICT"),
                  primary_key=True),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    )
    _index("ix_draft_assets_asset", "draft_assets", ["asset_id"])
    _table(
        "draft_revisions",
        sa.Column("draft_id", sa.String(32), sa.ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("edit_json", sa.Text, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("draft_revisions")
    op.drop_index("ix_draft_assets_asset", table_name="draft_assets")
    op.drop_table("draft_assets")
    op.drop_index("ix_media_assets_sha256", table_name="media_assets")
    op.drop_table("media_assets")
    op.drop_index("ix_drafts_live_updated", table_name="drafts")
    op.drop_table("drafts")
