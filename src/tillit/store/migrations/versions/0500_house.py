"""store-owned SQL: job queue, indicator direction with its source (#14, #12)

Reserved in the migration chain so that the work on this area can land independently;
it changes nothing until the area's tables are added here.

Revision ID: 0500
Revises: 0400
"""

revision = "0500"
down_revision = "0400"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
