"""routing: agents' skills and hours, membership sources, contact owners, ticket assignment

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("team_members") as batch:
        batch.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="config")
        )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("skills", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("working_hours", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_contacts_owner_id_users"), "users", ["owner_id"], ["id"]
        )
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(
            sa.Column("assignment_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("mail_assignee", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("properties", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="mail")
        )
        batch.create_index("ix_tickets_assignee_id", ["assignee_id", "status"], unique=False)
        batch.create_index("ix_tickets_assignment_pending", ["assignment_pending"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_assignment_pending")
        batch.drop_index("ix_tickets_assignee_id")
        batch.drop_column("source")
        batch.drop_column("properties")
        batch.drop_column("mail_assignee")
        batch.drop_column("assignment_pending")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_constraint(batch.f("fk_contacts_owner_id_users"), type_="foreignkey")
        batch.drop_column("owner_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("status_changed_at")
        batch.drop_column("working_hours")
        batch.drop_column("skills")
    with op.batch_alter_table("team_members") as batch:
        batch.drop_column("source")
