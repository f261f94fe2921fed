"""agents: where each one comes from (the config or the command line)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="config")
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("source")
