"""Store what mail understanding found: new text, forwarder, classification reason.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("new_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("forwarded_by", sa.String(length=320), nullable=True))
        batch.add_column(
            sa.Column("forward_kind", sa.String(length=16), nullable=False, server_default="none")
        )
        batch.add_column(sa.Column("classification_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("classification_reason")
        batch.drop_column("forward_kind")
        batch.drop_column("forwarded_by")
        batch.drop_column("new_text")
