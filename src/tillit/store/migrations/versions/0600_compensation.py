"""compensation models (#15)

Reserved in the migration chain so that the work on this area can land independently;
it changes nothing until the area's tables are added here.

Revision ID: 0600
Revises: 0520
"""

revision = "0600"
down_revision = "0520"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
