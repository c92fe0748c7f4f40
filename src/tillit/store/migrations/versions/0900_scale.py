"""national scale: batch evaluation jobs and production-size store (#20)

Reserved in the migration chain so that the work on this area can land independently;
it changes nothing until the area's tables are added here.

Revision ID: 0900
Revises: 0800
"""

revision = "0900"
down_revision = "0800"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
